import type { WebSpec } from '../../pipeline/policy/schema.js';
import { httpFailure, isObj, parseJson, trySample, type Answer } from './answer.js';
import { displayUrl, limitsOf, specIdentity, timeoutMs, type Backend } from './backend.js';
import { describe, finiteNumber } from './extract.js';
import type { HttpResponse } from './http.js';
import { MetricError, type MeasureContext, type Sample } from './types.js';

const NO_RANGE =
  'the web provider answers instant queries only: a comparison check or a backtest needs prometheus, datadog or ' +
  'newRelic';

/** An error answer's body in a message: its start, on one line (a bounded excerpt; secrets are scrubbed later). */
const EXCERPT = 120;

/**
 * Any JSON API (docs/checks.md, "Any JSON API: the web provider"). GET: the rendered query (a path and query string,
 * template values percent-encoded) is joined to `url`; POST: the rendered query is the JSON body sent to `url`. The
 * answer must be 2xx and JSON; a check's `value` jsonata expression sees the whole body, and without one the body
 * must be a number. Anything else — a non-2xx answer, a body that is not JSON (an empty one included), an expression
 * that yields no number — is a MetricError with the reason, never a pass.
 */
export function webBackend(spec: WebSpec): Backend {
  const base = spec.url.replace(/\/+$/, '');
  const budget = timeoutMs(spec.timeout);
  return {
    kind: 'web',
    language: spec.method === 'POST' ? 'json' : 'url',
    where: `web ${displayUrl(base)}`,
    maxPoints: Infinity,
    cacheKey: (ctx) => specIdentity('web', spec, ctx),
    // A JSON API has no general range query: comparison checks and backtests need a metrics backend.
    queryRange: () => Promise.reject(new MetricError(NO_RANGE)),
    answerAt: () => ({ doc: null, sample: { error: NO_RANGE }, shape: 'none', warnings: [], bytes: 0 }),
    async query(rendered, ctx, { http }) {
      const [headers, ca] = await Promise.all([
        webHeaders(spec, ctx),
        spec.caSecretRef ? ctx.secrets.read(ctx.policy.namespace, spec.caSecretRef) : undefined,
      ]);
      const post = spec.method === 'POST';
      if (post) jsonBody(rendered);
      const res = await http.request(
        {
          url: post ? new URL(spec.url) : joined(base, rendered),
          method: spec.method,
          headers: { accept: 'application/json', ...(post ? { 'content-type': 'application/json' } : {}), ...headers },
          ...(post ? { body: rendered } : {}),
          ca,
        },
        limitsOf(budget, ctx),
      );
      return parseAnswer(res);
    },
  };
}

/** `/render?target=…` or `?q=…` joined to the base address; anything else would leave the provider's address. */
export function joined(base: string, query: string): URL {
  if (!query.startsWith('/') && !query.startsWith('?'))
    throw new MetricError(
      `the query of a GET web check is a path or query string starting with / or ?, not ${JSON.stringify(query.slice(0, 40))}`,
    );
  return new URL(`${base}${query}`);
}

function jsonBody(body: string): void {
  try {
    JSON.parse(body);
  } catch (error) {
    throw new MetricError(`the query of a POST web check is its JSON body: ${(error as Error).message}`);
  }
}

async function webHeaders(spec: WebSpec, ctx: MeasureContext): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  for (const header of spec.headers ?? []) {
    const ref = header.valueFrom?.secretKeyRef;
    headers[header.name.toLowerCase()] = ref ? await ctx.secrets.read(ctx.policy.namespace, ref) : (header.value ?? '');
  }
  return headers;
}

export function parseAnswer(res: HttpResponse): Answer {
  if (res.status < 200 || res.status > 299) throw httpFailure(res, excerpt(res.body));
  const doc = parseJson(res);
  return { doc, sample: trySample(() => pick(doc)), shape: shapeOf(doc), warnings: [], bytes: res.body.length };
}

function excerpt(body: string): string | undefined {
  const line = body.replace(/\s+/g, ' ').trim();
  if (!line) return undefined;
  return line.length > EXCERPT ? `${line.slice(0, EXCERPT - 1)}…` : line;
}

/** `a number`, `a list of 3`, `an object with keys data, status`. */
function shapeOf(doc: unknown): string {
  if (isObj(doc)) {
    const keys = Object.keys(doc);
    return `an object with ${keys.length ? `keys ${keys.slice(0, 6).join(', ')}${keys.length > 6 ? ', …' : ''}` : 'no keys'}`;
  }
  return typeof doc === 'number' ? 'a number' : describe(doc);
}

/** Without a `value` expression the body itself must be the number. */
function pick(doc: unknown): Sample {
  if (typeof doc === 'number' || typeof doc === 'string') return { value: finiteNumber(doc, 'the answer'), raw: doc };
  throw new MetricError(
    `the answer is ${shapeOf(doc)}, not a number: set the check's value (a jsonata expression) to pick it`,
  );
}
