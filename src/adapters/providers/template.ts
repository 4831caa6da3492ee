import { TEMPLATE, TEMPLATE_VARIABLES } from '../../pipeline/policy/semantic.js';
import { MetricError, type MeasureContext } from './types.js';

/**
 * Query templating (docs/architecture.md, "The policy") with escaping for the language the value lands in:
 * - PromQL: inside "…" or '…' the value is escaped as a string literal (and as an RE2 literal after
 *   `=~`/`!~`); inside `…` (raw) a backtick is refused; outside a string only [A-Za-z0-9_:] may appear.
 * - Datadog: the value becomes a tag value the way Datadog normalises tags at intake (lower case;
 *   characters other than letters, digits, `_ - : . /` become `_`), so it is one literal wherever it lands.
 * - NRQL: inside '…' or "…" the quote and backslash are escaped; inside `…` a backtick is refused;
 *   outside a string only [A-Za-z0-9_] may appear.
 * - URL (a web check's path and query string): the value is percent-encoded (encodeURIComponent), one literal in a
 *   path segment or a query parameter alike.
 * - JSON (a POST web check's body): inside "…" the value is escaped as JSON string content; outside a string it is
 *   refused.
 * Anything that cannot be made safe is a MetricError (the check is unavailable), never a raw splice.
 */
export type QueryLanguage = 'promql' | 'datadog' | 'nrql' | 'url' | 'json';
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];
export type TemplateValues = Readonly<Record<TemplateVariable, string | null>>;

interface Context {
  quote: string | null;
  regex: boolean;
}

interface Language {
  quotes: string;
  /** Comment openers and what closes them. */
  comments: readonly (readonly [string, string])[];
  escape(value: string, ctx: Context, variable: string): string;
}

const RE2_META = /[\\.+*?()|[\]{}^$]/g;
const CONTROL = /[\u0000-\u001f\u007f]/g; // eslint-disable-line no-control-regex

function hex(ch: string): string {
  return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

function bare(value: string, allowed: RegExp, variable: string, where: string): string {
  if (allowed.test(value)) return value;
  throw new MetricError(
    `{{ ${variable} }} = ${JSON.stringify(value)} cannot be placed outside a quoted string in ${where}; quote it`,
  );
}

function noBacktick(value: string, variable: string): string {
  if (!value.includes('`')) return value;
  throw new MetricError(
    `{{ ${variable} }} = ${JSON.stringify(value)} contains a backtick and cannot appear in a raw string`,
  );
}

function quoted(value: string, quote: string): string {
  return value.replace(/\\/g, '\\\\').split(quote).join(`\\${quote}`);
}

const promql: Language = {
  quotes: '"\'`',
  comments: [['#', '\n']],
  escape(value, ctx, variable) {
    if (ctx.quote === null) return bare(value, /^[A-Za-z0-9_:]+$/, variable, 'PromQL');
    const literal = ctx.regex ? value.replace(RE2_META, '\\$&') : value;
    if (ctx.quote === '`') return noBacktick(literal, variable);
    return quoted(literal, ctx.quote).replace(CONTROL, hex);
  },
};

const datadog: Language = {
  quotes: '',
  comments: [],
  escape: (value) => value.toLowerCase().replace(/[^\p{L}\p{N}_\-:./]/gu, '_'),
};

const nrql: Language = {
  quotes: '\'"`',
  comments: [
    ['--', '\n'],
    ['//', '\n'],
    ['/*', '*/'],
  ],
  escape(value, ctx, variable) {
    if (ctx.quote === null) return bare(value, /^[A-Za-z0-9_]+$/, variable, 'NRQL');
    if (ctx.quote === '`') return noBacktick(value, variable);
    return quoted(value, ctx.quote).replace(CONTROL, ' ');
  },
};

const url: Language = {
  quotes: '',
  comments: [],
  escape: (value) => encodeURIComponent(value),
};

const json: Language = {
  quotes: '"',
  comments: [],
  escape(value, ctx, variable) {
    if (ctx.quote === null)
      throw new MetricError(
        `{{ ${variable} }} = ${JSON.stringify(value)} cannot be placed outside a string in a JSON body; quote it`,
      );
    return JSON.stringify(value).slice(1, -1);
  },
};

const LANGUAGES: Record<QueryLanguage, Language> = { promql, datadog, nrql, url, json };

/** Follows the template text outside placeholders: inside which string or comment (if any) are we? */
class Scanner {
  private quote: string | null = null;
  private regex = false;
  private escaped = false;
  /** What ends the comment we are in (a newline, or the end of a block comment), or null outside comments. */
  private comment: string | null = null;
  private last = '';
  /** The last two characters of code that are not white space (for `=~` before a string). */
  private recent = '';

  constructor(private readonly lang: Language) {}

  feed(text: string): void {
    for (const ch of text) this.step(ch);
  }

  context(): Context {
    return { quote: this.comment !== null ? null : this.quote, regex: this.regex };
  }

  private step(ch: string): void {
    const pair = this.last + ch;
    this.last = ch;
    if (this.comment !== null) this.inComment(ch, pair);
    else if (this.quote !== null) this.inString(ch);
    else this.inCode(ch, pair);
  }

  private inComment(ch: string, pair: string): void {
    if (ch === this.comment || pair === this.comment) {
      this.comment = null;
      this.last = '';
    }
  }

  private inString(ch: string): void {
    if (this.escaped) this.escaped = false;
    else if (ch === '\\' && this.quote !== '`') this.escaped = true;
    else if (ch === this.quote) this.quote = null;
  }

  private inCode(ch: string, pair: string): void {
    const opened = this.lang.comments.find(([open]) => open === ch || open === pair);
    if (opened) {
      this.comment = opened[1];
      this.last = '';
    } else if (this.lang.quotes.includes(ch)) {
      this.quote = ch;
      this.regex = this.recent === '=~' || this.recent === '!~';
    } else if (!/\s/.test(ch)) {
      this.recent = (this.recent + ch).slice(-2);
    }
  }
}

/** The template values of a tick. */
export function templateValues(ctx: MeasureContext): TemplateValues {
  return {
    'target.name': ctx.target.name,
    'target.namespace': ctx.target.namespace,
    'policy.name': ctx.policy.name,
    'rollout.canaryRevision': ctx.rollout.canaryRevision,
  };
}

function valueOf(values: TemplateValues, variable: string): string {
  if (!(TEMPLATE_VARIABLES as readonly string[]).includes(variable)) {
    throw new MetricError(
      `unknown template variable "{{ ${variable} }}"; the variables are ${TEMPLATE_VARIABLES.join(', ')}`,
    );
  }
  const value = values[variable as TemplateVariable];
  if (value === null) throw new MetricError(`{{ ${variable} }} has no value yet (no canary revision is known)`);
  return value;
}

/** Renders a query template for a language; throws a MetricError when a value cannot be made safe. */
export function renderQuery(template: string, values: TemplateValues, language: QueryLanguage): string {
  const lang = LANGUAGES[language];
  const scanner = new Scanner(lang);
  let out = '';
  let last = 0;
  for (const match of template.matchAll(TEMPLATE)) {
    const chunk = template.slice(last, match.index);
    scanner.feed(chunk);
    const variable = match[1] ?? '';
    out += chunk + lang.escape(valueOf(values, variable), scanner.context(), variable);
    last = match.index + match[0].length;
  }
  return out + template.slice(last);
}
