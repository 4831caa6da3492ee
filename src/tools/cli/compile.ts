import { compilePolicy } from '../../pipeline/compile/compile.js';
import { defineCommand } from './define.js';
import { loadOnePolicy, NAME_OPTION } from './load-one.js';
import { UsageError } from './usage-error.js';

export const compileCommand = defineCommand({
  name: 'compile',
  summary: 'print the compiled rule set of a policy as JSON',
  usage: 'FILE [--name NAME]',
  description: `Prints what the policy compiles to: one json-rules-engine rule whose "any" holds a
condition per reason (the built-in rules of rules/ instantiated for its checks, then its
custom rules), the reasons table those conditions point into (rule, precedence level,
action, message), its derived facts and its hash. FILE '-' reads standard input.`,
  options: { name: NAME_OPTION },
  exitCodes: ['0  printed'],
  async run({ values, positionals }) {
    const [file, ...extra] = positionals;
    if (!file || extra.length) throw new UsageError('expected exactly one FILE');
    const loaded = await loadOnePolicy(file, values.name);
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
});
