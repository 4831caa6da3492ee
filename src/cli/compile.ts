import { compilePolicy } from '../compile/compile.js';
import type { Command } from './commands.js';
import { parseCommandArgs } from './args.js';
import { loadOnePolicy } from './load-one.js';
import { UsageError } from './usage-error.js';

export const compileCommand: Command = {
  summary: 'print the compiled rule set of a policy as JSON',
  help: `Usage: kubestead compile FILE [--name NAME]

Prints what the policy compiles to: one json-rules-engine rule whose "any" holds a
condition per reason (the built-in rules of rules/ instantiated for its checks, then its
custom rules), the reasons table those conditions point into (rule, precedence level,
action, message), its derived facts and its hash.
--name picks one policy from a multi-document file. Exit codes: 0 ok, 2 bad input.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, { name: { type: 'string' } });
    if (positionals.length !== 1 || !positionals[0]) throw new UsageError('expected exactly one FILE');
    const loaded = await loadOnePolicy(positionals[0], values.name);
    if ('errors' in loaded) {
      process.stderr.write(`${loaded.errors.join('\n')}\n`);
      return 2;
    }
    const compiled = compilePolicy(loaded.policy);
    const output = {
      policy: `${compiled.policy.namespace}/${compiled.policy.name}`,
      hash: compiled.hash,
      rule: compiled.rule,
      reasons: compiled.reasons,
      derived: Object.fromEntries(compiled.derived.map((d) => [d.name, d.text])),
    };
    process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    return 0;
  },
};
