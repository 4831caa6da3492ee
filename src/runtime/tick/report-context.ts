import type { Logger } from 'pino';
import type { KubeClients } from '../../adapters/kube/clients.js';
import { policyPath } from '../../adapters/kube/names.js';
import { rangeValues } from '../../adapters/providers/history.js';
import type { HttpClient } from '../../adapters/providers/http.js';
import type { SecretReader } from '../../adapters/secrets/reader.js';
import { parseDuration } from '../../pipeline/policy/duration.js';
import type { PolicySpec } from '../../pipeline/policy/schema.js';
import type { CheckSeries, ReportEnricher, RollbackReport } from '../../pipeline/record/audit/report/build.js';
import type { TickReadings } from './readings.js';

/** How far back before the rollout's first tick a report looks (docs/audit.md). */
export const HISTORY_MS = 10 * 60_000;
/** At most this many history points per check. */
const HISTORY_POINTS = 120;

export interface ReportContextDeps {
  readings: TickReadings;
  clients: KubeClients;
  http: HttpClient;
  secrets: SecretReader;
  logger: Logger;
}

/**
 * What a rollback report gets after it is written: each check's value at every tick of the rollout (the
 * controller's memory of it) and over the ten minutes before its first tick (range queries of the provider).
 */
export function reportEnricher(deps: ReportContextDeps): ReportEnricher {
  return async (report) => {
    const ticks = deps.readings.of(report.policy.uid, report.revision);
    const spec = await readSpec(deps.clients, report);
    const checks: Record<string, CheckSeries> = {};
    for (const [name, series] of Object.entries(report.checks)) {
      const own = ticks[name];
      const withTicks = own && own.length >= series.points.length ? { ...series, ticks: own } : series;
      checks[name] = { ...withTicks, history: await history(deps, report, withTicks, spec) };
    }
    return { ...report, checks };
  };
}

async function readSpec(clients: KubeClients, report: RollbackReport): Promise<PolicySpec | null> {
  const object = (await clients.custom.getNamespacedCustomObject(
    policyPath(report.policy.namespace, report.policy.name),
  )) as { metadata?: { uid?: string }; spec?: PolicySpec };
  return object.metadata?.uid === report.policy.uid ? (object.spec ?? null) : null;
}

async function history(
  deps: ReportContextDeps,
  report: RollbackReport,
  series: CheckSeries,
  spec: PolicySpec | null,
): Promise<NonNullable<CheckSeries['history']>> {
  const first = Math.min(...[...(series.ticks ?? []), ...series.points].map((p) => Date.parse(p.time)));
  const to = new Date(Number.isFinite(first) ? first : Date.parse(report.startedAt));
  const from = new Date(to.getTime() - HISTORY_MS);
  const window = { from: from.toISOString(), to: to.toISOString() };
  const provider = spec?.providers[series.provider];
  if (!provider) return { ...window, points: [], note: `provider ${series.provider} is no longer in the policy` };
  const interval = parseDuration(spec.interval) ?? 30;
  const stepSeconds = Math.max(interval, Math.ceil(HISTORY_MS / 1000 / HISTORY_POINTS));
  const values = await rangeValues(
    provider,
    series.query,
    { from, to, stepSeconds },
    {
      http: deps.http,
      secrets: deps.secrets,
      namespace: report.policy.namespace,
    },
  );
  return { ...window, ...('points' in values ? { points: values.points } : { points: [], note: values.note }) };
}
