import type { Decision } from '../../pipeline/decide/decision.js';
import { stepLabel } from '../../pipeline/policy/vocabulary.js';
import type { Replay } from './replay.js';

function decisionText(d: Decision, steps: number): string {
  const next = d.nextStep === null ? '' : ` → step ${stepLabel(d.nextStep, steps)}`;
  const reasons = d.reasons.map((r) => `${r.rule}${r.check ? ` [${r.check}]` : ''}: ${r.message}`).join('; ');
  return `${d.action} (step ${stepLabel(d.step, steps)}${next}): ${reasons}`;
}

/** `N decisions re-derived identically`, or each difference and where the rollout would first have gone another way. */
export function replayText(replay: Replay, steps: number): string {
  if (replay.differences.length === 0) return `${replay.decisions} decisions re-derived identically\n`;
  const lines = [
    `${replay.differences.length} of ${replay.decisions} decisions would differ (${replay.identical} re-derived identically):`,
  ];
  for (const d of replay.differences)
    lines.push(
      `seq ${d.seq} at ${d.time}`,
      `  recorded: ${decisionText(d.recorded, steps)}`,
      `  replayed: ${decisionText(d.replayed, steps)}`,
    );
  const first = replay.differences.find((d) => d.seq === replay.firstDivergence);
  lines.push(
    first
      ? `the rollout would first have gone another way at seq ${first.seq} (${first.time}): ` +
          `${first.replayed.action} instead of ${first.recorded.action}; the entries after it record a rollout that would not have happened`
      : 'every action is the same: only the reasons differ',
  );
  return `${lines.join('\n')}\n`;
}
