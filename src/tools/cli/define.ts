import { helpText, parseCommandArgs, type OptionSpecs, type ParsedArgs } from './args.js';

/** A `kubestead` command, as the registry (commands.ts) lists it. Build one with defineCommand. */
export interface Command {
  summary: string;
  help: string;
  run(args: string[]): Promise<number>;
}

/** What a command is: its arguments, its help, and what it does with parsed arguments. */
export interface CommandSpec<O extends OptionSpecs> {
  name: string;
  summary: string;
  /** After `kubestead NAME`: `POLICY --facts SNAPSHOT [--json]`. */
  usage: string;
  /** The help's text; a function is called only when the help is shown (it may read the schema). */
  description: string | (() => string);
  options: O;
  /** The exit codes other than 2 and 3 (which every command shares), as `0  all valid`. */
  exitCodes: readonly string[];
  run(args: ParsedArgs<O>): Promise<number>;
}

/**
 * A Command (the registry's interface) from a spec: help in the shared layout, arguments parsed by the shared parser.
 */
export function defineCommand<O extends OptionSpecs>(spec: CommandSpec<O>): Command {
  return {
    summary: spec.summary,
    get help() {
      const description = typeof spec.description === 'function' ? spec.description() : spec.description;
      return helpText(spec.name, { ...spec, description });
    },
    run: (args) => spec.run(parseCommandArgs(args, spec.options)),
  };
}
