import { parseArgs } from 'node:util';
import { closest } from '../../pipeline/policy/strict.js';
import { UsageError } from './usage-error.js';

/** One option of a command: `--facts SNAPSHOT` (a string) or `--json` (a flag). */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's name in the help: `--facts SNAPSHOT`. */
  value?: string;
  /** Its line in the help page (an option without one is listed by name only). */
  description?: string;
  multiple?: boolean;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** What parsing gives a command: its options by name, and its positional arguments (`-` is stdin). */
export interface ParsedArgs<O extends OptionSpecs> {
  values: {
    [K in keyof O]?: O[K]['type'] extends 'boolean'
      ? O[K]['multiple'] extends true
        ? boolean[]
        : boolean
      : O[K]['multiple'] extends true
        ? string[]
        : string;
  };
  positionals: string[];
}

/**
 * The one argument parser of every command (node:util parseArgs, strict): an unknown option is an
 * error with the closest known one, never taken for a file name; a lone `-` is a positional
 * (standard input).
 */
export function parseCommandArgs<O extends OptionSpecs>(args: string[], options: O): ParsedArgs<O> {
  const config = Object.fromEntries(
    Object.entries(options).map(([name, o]) => [
      name,
      {
        type: o.type,
        ...(o.short ? { short: o.short } : {}),
        ...(o.multiple ? { multiple: true } : {}),
      },
    ]),
  );
  try {
    const { values, positionals } = parseArgs({ args, options: config, allowPositionals: true, strict: true });
    return { values: values as ParsedArgs<O>['values'], positionals };
  } catch (error) {
    throw new UsageError(explain(error, options));
  }
}

/** parseArgs's messages, made shorter and with a suggestion. */
function explain(error: unknown, options: OptionSpecs): string {
  const code = (error as { code?: string }).code;
  const message = (error as Error).message;
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const names = [...Object.keys(options), 'help'].map((name) => `--${name}`);
    const hint = closest(option.replace(/=.*/, ''), names);
    return `unknown option ${option}${hint ? ` (did you mean ${hint}?)` : ''}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return message.includes('argument missing') ? `${option} needs a value` : `${option} takes no value`;
  }
  return message;
}

/** Exit codes every command shares (docs/architecture.md, "The command", plus 3 for a bug). */
export const EXIT = { ok: 0, failed: 1, badInput: 2, bug: 3 } as const;

/** The help page of a command, in the one layout every command shares. */
export function helpText(
  name: string,
  spec: { usage: string; description: string; options: OptionSpecs; exitCodes: readonly string[] },
): string {
  const optionLines = Object.entries(spec.options).map(([option, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${option}${o.value ? ` ${o.value}` : ''}`;
    return `  ${flag.padEnd(30)} ${o.description ?? ''}`.trimEnd();
  });
  optionLines.push(`  ${'-h, --help'.padEnd(30)} show this help`);
  return [
    `Usage: kubestead ${name}${spec.usage ? ` ${spec.usage}` : ''}`,
    '',
    spec.description.trim(),
    '',
    'Options:',
    ...optionLines,
    '',
    'Exit codes:',
    ...spec.exitCodes.map((line) => `  ${line}`),
    `  ${EXIT.badInput}  bad input (a file, argument or option is wrong; the message says which)`,
    `  ${EXIT.bug}  internal error: a bug in Kubestead (the message says so and shows where)`,
  ].join('\n');
}
