import type { CompiledPolicy } from '../../pipeline/compile/compile.js';
import { winningReasons } from '../../pipeline/decide/winning.js';
import type { CheckSeries } from '../../pipeline/record/audit/report/build.js';
import { checksChartSvg, xmlEscape } from '../../pipeline/record/audit/report/svg.js';
import type { RolloutPolicy } from '../../pipeline/policy/schema.js';
import { stepLabel } from '../../pipeline/policy/vocabulary.js';
import type { Backtest, BacktestTick } from './simulate.js';

/** What a backtest prints: its timeline (text), `--json`, or the report's chart of its checks (`svg`, `html`). */
export type BacktestFormat = 'text' | 'json' | 'svg' | 'html';
export const BACKTEST_FORMATS: readonly BacktestFormat[] = ['text', 'json', 'svg', 'html'];

const why = (compiled: CompiledPolicy, tick: BacktestTick): string =>
  winningReasons(compiled, { action: tick.action, reasons: tick.reasons, step: tick.step, nextStep: null })
    .map((r) => r.message)
    .join('; ');

const checksText = (tick: BacktestTick): string =>
  Object.entries(tick.checks)
    .map(([name, c]) => `${name}=${c.status === 'ok' ? c.value : 'unavailable'}`)
    .join(' ');

/** Ticks in runs of the same action at the same step and for the same reasons: one line each. */
function runsOf(
  compiled: CompiledPolicy,
  ticks: BacktestTick[],
): { first: BacktestTick; last: BacktestTick; n: number }[] {
  const runs: { first: BacktestTick; last: BacktestTick; n: number; key: string }[] = [];
  for (const tick of ticks) {
    const key = `${tick.step}\u0000${tick.action}\u0000${winningReasons(compiled, { ...tick, nextStep: null })
      .map((r) => r.rule + (r.check ?? ''))
      .join()}`;
    const run = runs.at(-1);
    if (run && run.key === key) Object.assign(run, { last: tick, n: run.n + 1 });
    else runs.push({ first: tick, last: tick, n: 1, key });
  }
  return runs;
}

function outcomeLine(backtest: Backtest, compiled: CompiledPolicy, steps: number): string {
  const last = backtest.ticks.at(-1);
  if (!last) return 'no tick in the window';
  const at = `at ${last.time} (step ${stepLabel(last.step, steps)})`;
  switch (backtest.outcome) {
    case 'promoted':
      return `promoted ${at}`;
    case 'rolledBack':
      return `rolled back ${at}: ${why(compiled, last)}`;
    case 'paused':
      return `paused ${at}: ${why(compiled, last)}`;
    default:
      return `incomplete: still at step ${stepLabel(last.step, steps)} when the window ended at ${last.time}`;
  }
}

/** The decision timeline: a line per run of like ticks (`hold ×10 until …`), then the outcome. */
export function backtestText(policy: RolloutPolicy, compiled: CompiledPolicy, backtest: Backtest): string {
  const steps = policy.spec.steps.length;
  const lines = runsOf(compiled, backtest.ticks).map(({ first, last, n }) => {
    const action = n > 1 ? `${first.action} ×${n} until ${last.time}` : first.action;
    const checks = checksText(first);
    return `${first.time}  step ${stepLabel(first.step, steps)}  ${first.weight}%  ${action}: ${why(compiled, first)}${checks ? `  [${checks}]` : ''}`;
  });
  return `${[...lines, outcomeLine(backtest, compiled, steps)].join('\n')}\n`;
}

/** Each check's values over the backtest, against its bounds: the series of the report's chart. */
function seriesOf(policy: RolloutPolicy, backtest: Backtest): Record<string, CheckSeries> {
  return Object.fromEntries(
    policy.spec.checks.map((check) => [
      check.name,
      {
        provider: check.provider,
        query: check.query ?? '',
        min: check.min ?? null,
        max: check.max ?? null,
        points: backtest.ticks.map((tick, seq) => ({
          time: tick.time,
          value: tick.checks[check.name]?.value ?? null,
          status: tick.checks[check.name]?.status ?? 'unavailable',
          seq,
        })),
      },
    ]),
  );
}

export function backtestSvg(policy: RolloutPolicy, backtest: Backtest, title: string): string {
  const times = backtest.ticks.map((t) => Date.parse(t.time));
  return checksChartSvg({
    title,
    checks: seriesOf(policy, backtest),
    steps: backtest.ticks
      .filter((t) => t.action === 'advance')
      .map((t) => ({ time: Date.parse(t.time), step: t.step + 1 })),
    stepCount: policy.spec.steps.length,
    breach: null,
    breachTime: backtest.ticks.at(-1)?.time ?? '1970-01-01T00:00:00Z',
    fallback: times.length ? [times[0]!, times.at(-1)!] : [0, 1],
  });
}

/** The rendered backtest in a format. */
export function renderBacktest(
  policy: RolloutPolicy,
  compiled: CompiledPolicy,
  backtest: Backtest,
  format: BacktestFormat,
) {
  const { namespace, name } = policy.metadata;
  const title = `${namespace}/${name} backtest: ${outcomeLine(backtest, compiled, policy.spec.steps.length)}`;
  switch (format) {
    case 'json':
      return `${JSON.stringify(backtest, null, 2)}\n`;
    case 'svg':
      return backtestSvg(policy, backtest, title);
    case 'html': {
      const svg = backtestSvg(policy, backtest, title).replace(/^<\?xml[^>]*>\n/, '');
      const head = `<head><meta charset="utf-8"><title>${xmlEscape(`Backtest: ${namespace}/${name}`)}</title></head>`;
      const text = xmlEscape(backtestText(policy, compiled, backtest));
      return `<!DOCTYPE html>\n<html lang="en">${head}<body>${svg}<pre>${text}</pre></body></html>\n`;
    }
    default:
      return backtestText(policy, compiled, backtest);
  }
}
