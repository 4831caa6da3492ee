import { compilePolicy } from '../../pipeline/compile/compile.js';
import { decide } from '../../pipeline/decide/decide.js';
import type { Decision } from '../../pipeline/decide/decision.js';
import { loadSnapshotFile } from '../../pipeline/facts/load.js';
import { SnapshotError } from '../../pipeline/facts/snapshot.js';
import { displayNameOf, STDIN } from '../../pipeline/policy/read.js';
import { stepLabel } from '../../pipeline/policy/vocabulary.js';
import { issueLines } from '../../pipeline/policy/yaml.js';
import { defineCommand } from './define.js';
import { loadOnePolicy, NAME_OPTION } from './load-one.js';
import { UsageError } from './usage-error.js';
import { stepCount } from '../../pipeline/policy/strategies.js';

export const evalCommand = defineCommand({
  name: 'eval',
  summary: 'decide one fact snapshot with a policy',
  usage: 'POLICY --facts SNAPSHOT [--json] [--name NAME]',
  description: `Runs the policy's decision on one FactSnapshot (JSON or YAML; its fields:
docs/architecture.md, "FactSnapshot v1") and prints the decision: the action, then every reason
that applied, highest precedence first.
A snapshot that contradicts the policy (step count, step kind, weight, soak) is bad input.
Either POLICY or SNAPSHOT may be '-', standard input.`,
  options: {
    facts: { type: 'string', value: 'SNAPSHOT', description: 'the FactSnapshot file to decide (required)' },
    json: { type: 'boolean', description: 'print exactly the Decision object (docs/decisions.md, "Precedence")' },
    name: NAME_OPTION,
  },
  exitCodes: ['0  decided'],
  async run({ values, positionals }) {
    const { file, facts } = inputsOf(positionals, values.facts);
    const loaded = await loadOnePolicy(file, values.name);
    const snapshot = await loadSnapshotFile(facts);
    if ('errors' in loaded || 'errors' in snapshot) {
      const errors = [...('errors' in loaded ? loaded.errors : []), ...('errors' in snapshot ? snapshot.errors : [])];
      process.stderr.write(`${errors.join('\n')}\n`);
      return 2;
    }
    try {
      const decision = await decide(compilePolicy(loaded.policy), snapshot.snapshot);
      process.stdout.write(
        values.json ? `${JSON.stringify(decision)}\n` : formatDecision(decision, stepCount(loaded.policy.spec)),
      );
      return 0;
    } catch (error) {
      if (!(error instanceof SnapshotError)) throw error;
      process.stderr.write(`${issueLines(displayNameOf(facts), snapshot.doc, error.issues).join('\n')}\n`);
      return 2;
    }
  },
});

function inputsOf(positionals: string[], facts: string | undefined): { file: string; facts: string } {
  const [file, ...extra] = positionals;
  if (!file || extra.length) throw new UsageError('expected exactly one POLICY file');
  if (!facts) throw new UsageError('--facts SNAPSHOT is required');
  if (file === STDIN && facts === STDIN)
    throw new UsageError("only one of POLICY and --facts can be '-' (standard input)");
  return { file, facts };
}

/** `advance (step 1/3 → step 2/3)`, then a line per reason. */
export function formatDecision(decision: Decision, stepCount?: number): string {
  const next = decision.nextStep === null ? '' : ` → step ${stepLabel(decision.nextStep, stepCount)}`;
  const lines = [`${decision.action} (step ${stepLabel(decision.step, stepCount)}${next})`];
  for (const reason of decision.reasons)
    lines.push(`  ${reason.rule}${reason.check ? ` [${reason.check}]` : ''}: ${reason.message}`);
  return `${lines.join('\n')}\n`;
}
