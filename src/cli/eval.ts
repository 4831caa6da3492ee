import { compilePolicy } from '../compile/compile.js';
import { decide } from '../decide/decide.js';
import type { Decision } from '../decide/decision.js';
import { loadSnapshotFile } from '../facts/load.js';
import type { Command } from './commands.js';
import { parseCommandArgs } from './args.js';
import { loadOnePolicy } from './load-one.js';
import { UsageError } from './usage-error.js';

export const evalCommand: Command = {
  summary: 'decide one fact snapshot with a policy',
  help: `Usage: kubestead eval POLICY --facts SNAPSHOT [--json] [--name NAME]

Runs the policy's decision on one FactSnapshot (JSON or YAML, DESIGN.md §4) and prints
the decision: the action, then every reason that applied, highest precedence first.
--json prints exactly the Decision object. Exit codes: 0 decided, 2 bad input.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      facts: { type: 'string' }, json: { type: 'boolean' }, name: { type: 'string' },
    });
    if (positionals.length !== 1 || !positionals[0]) throw new UsageError('expected exactly one POLICY file');
    if (!values.facts) throw new UsageError('--facts SNAPSHOT is required');
    const loaded = await loadOnePolicy(positionals[0], values.name);
    const snapshot = await loadSnapshotFile(values.facts);
    const errors = [...('errors' in loaded ? loaded.errors : []), ...('errors' in snapshot ? snapshot.errors : [])];
    if ('errors' in loaded || 'errors' in snapshot) {
      process.stderr.write(`${errors.join('\n')}\n`);
      return 2;
    }
    const decision = await decide(compilePolicy(loaded.policy), snapshot.snapshot);
    process.stdout.write(values.json ? `${JSON.stringify(decision)}\n` : formatDecision(decision));
    return 0;
  },
};

export function formatDecision(decision: Decision): string {
  const next = decision.nextStep === null ? '' : ` → step ${decision.nextStep}`;
  const lines = [`${decision.action} (step ${decision.step}${next})`];
  for (const reason of decision.reasons) lines.push(`  ${reason.rule}${reason.check ? ` [${reason.check}]` : ''}: ${reason.message}`);
  return `${lines.join('\n')}\n`;
}
