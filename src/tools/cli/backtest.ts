import { createMetricsRuntime } from '../../adapters/providers/provider.js';
import { envSecretReader } from '../../adapters/secrets/env.js';
import { compilePolicy } from '../../pipeline/compile/compile.js';
import type { RolloutPolicy } from '../../pipeline/policy/schema.js';
import { BACKTEST_FORMATS, renderBacktest, type BacktestFormat } from '../backtest/render.js';
import { backtest, BacktestRangeError, MAX_TICKS } from '../backtest/simulate.js';
import { defineCommand } from './define.js';
import { loadOnePolicy, NAME_OPTION } from './load-one.js';
import { parseTime, withAddress } from './provider-options.js';
import { UsageError } from './usage-error.js';

const DESCRIPTION = `Replays a RolloutPolicy over a past window of its metrics and prints the decision timeline:
when the rollout would have held, advanced, paused, promoted or rolled back, and why.

The rollout starts at --start (default --from): step 1 begins, and the controller ticks every
'interval' from then on; the ticks from --from to --to are replayed (a rollout started before
--from is placed at the step its soak times give). Each check is measured for the whole window at
once (one range request per query: Prometheus query_range, Datadog's timeseries query, NRQL
TIMESERIES), and each tick's snapshot is the one the controller would have built from it, decided
by the same rule set. A gap in the data is an unavailable measurement, as live. The canary's pods
are taken as ready and healthy throughout: a backtest judges the metrics and the step timing.
At most ${MAX_TICKS} ticks. Secrets are read from the environment as for 'kubestead query'.`;

const OPTIONS = {
  from: { type: 'string', value: 'T1', description: 'the window starts: an RFC 3339 time or Unix seconds (required)' },
  to: { type: 'string', value: 'T2', description: 'the window ends (required)' },
  start: { type: 'string', value: 'T', description: 'the rollout started at T (default: T1)' },
  'provider-url': {
    type: 'string',
    value: 'URL',
    description: 'use this address for every provider of the policy (a port-forward, say)',
  },
  json: { type: 'boolean', description: 'print {outcome, ticks: [{time, step, weight, action, reasons, checks}]}' },
  format: { type: 'string', value: 'FORMAT', description: 'text (default), json, svg or html (a chart of the checks)' },
  name: NAME_OPTION,
} as const;

function formatOf(format: string | undefined, json: boolean | undefined): BacktestFormat {
  if (json) return 'json';
  if (format === undefined) return 'text';
  if (!(BACKTEST_FORMATS as readonly string[]).includes(format))
    throw new UsageError(`--format: expected one of ${BACKTEST_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  return format as BacktestFormat;
}

function withProviderUrl(policy: RolloutPolicy, url: string | undefined): RolloutPolicy {
  if (url === undefined) return policy;
  const providers = Object.fromEntries(Object.entries(policy.spec.providers).map(([n, p]) => [n, withAddress(p, url)]));
  return { ...policy, spec: { ...policy.spec, providers } };
}

function windowOf(values: { from?: string; to?: string; start?: string }) {
  if (values.from === undefined || values.to === undefined) throw new UsageError('--from T1 and --to T2 are required');
  const fromMs = parseTime(values.from, '--from').getTime();
  const endMs = parseTime(values.to, '--to').getTime();
  const startMs = values.start === undefined ? fromMs : parseTime(values.start, '--start').getTime();
  if (endMs <= fromMs) throw new UsageError('--to must be after --from');
  if (startMs > endMs) throw new UsageError('--start must not be after --to');
  return { fromMs, endMs, startMs };
}

export const backtestCommand = defineCommand({
  name: 'backtest',
  summary: 'replay a policy over past metrics: when it would have advanced, promoted or rolled back',
  usage: 'POLICY --from T1 --to T2 [--start T] [--provider-url URL] [--json | --format svg|html] [--name NAME]',
  description: DESCRIPTION,
  options: OPTIONS,
  exitCodes: ["0  replayed: promoted, paused, or still going at the window's end", '1  it would have rolled back'],
  async run({ values, positionals }) {
    const [file, ...extra] = positionals;
    if (!file || extra.length) throw new UsageError('expected exactly one POLICY file');
    const format = formatOf(values.format, values.json);
    const window = windowOf(values);
    const loaded = await loadOnePolicy(file, values.name);
    if ('errors' in loaded) throw new UsageError(loaded.errors.join('\n'));
    const policy = withProviderUrl(loaded.policy, values['provider-url']);
    const metrics = createMetricsRuntime();
    try {
      const result = await backtest({ policy, ...window, secrets: envSecretReader(), metrics });
      process.stdout.write(renderBacktest(policy, compilePolicy(policy), result, format));
      return result.outcome === 'rolledBack' ? 1 : 0;
    } catch (error) {
      if (error instanceof BacktestRangeError) throw new UsageError(error.message);
      throw error;
    } finally {
      await metrics.http.close();
    }
  },
});
