import { mapLimit } from '../../lib/async/map-limit.js';
import { parseDuration } from '../../pipeline/policy/duration.js';
import type { CheckSpec, PolicySpec, RolloutPolicy } from '../../pipeline/policy/schema.js';
import { createProvider, type MetricsRuntime } from './provider.js';
import type { MeasureContext, Measurement, MeasurementHistory, MetricProvider, TickRange } from './types.js';

function unavailable(check: CheckSpec, error: string): Measurement {
  return {
    status: 'unavailable',
    value: null,
    min: check.min ?? null,
    max: check.max ?? null,
    provider: check.provider,
    query: '',
    error,
    latencyMs: 0,
  };
}

function providersOf(spec: PolicySpec, runtime: MetricsRuntime): Map<string, MetricProvider | string> {
  const providers = new Map<string, MetricProvider | string>();
  for (const [name, providerSpec] of Object.entries(spec.providers)) {
    try {
      providers.set(name, createProvider(name, providerSpec, runtime));
    } catch (error) {
      providers.set(name, `policy error: provider "${name}": ${(error as Error).message}`);
    }
  }
  return providers;
}

async function measureOne(
  check: CheckSpec,
  provider: MetricProvider | string | undefined,
  ctx: MeasureContext,
): Promise<Measurement> {
  if (provider === undefined) return unavailable(check, `policy error: unknown provider "${check.provider}"`);
  if (typeof provider === 'string') return unavailable(check, provider);
  try {
    return await provider.measure(check, ctx);
  } catch (error) {
    return unavailable(check, `${provider.kind}: internal error: ${(error as Error).message}`);
  }
}

/**
 * Measures every check of a policy for one tick, with bounded concurrency. Never throws: a check
 * whose provider is missing or of no known kind is `unavailable` with a policy error.
 */
export async function measureChecks(
  spec: PolicySpec,
  ctx: MeasureContext,
  runtime: MetricsRuntime,
): Promise<Record<string, Measurement>> {
  const providers = providersOf(spec, runtime);
  const measured = await mapLimit(spec.checks, runtime.concurrency, (check) =>
    measureOne(check, providers.get(check.provider), ctx),
  );
  return Object.fromEntries(spec.checks.map((check, i) => [check.name, measured[i] as Measurement]));
}

/** A history that gives the same measurement at every tick (a check no range request can be made for). */
const always = (m: Measurement): MeasurementHistory => ({ at: () => Promise.resolve(m) });

/**
 * Every check of a policy over the ticks of a range, each from its provider's range requests for
 * the whole range (one per query, asked concurrently, bounded as a tick's). Never throws: a check
 * whose provider is missing or of no known kind is `unavailable` at every tick, as live.
 */
export async function measureHistories(
  spec: PolicySpec,
  ctx: MeasureContext,
  runtime: MetricsRuntime,
  ticks: TickRange,
): Promise<Record<string, MeasurementHistory>> {
  const providers = providersOf(spec, runtime);
  const histories = await mapLimit(spec.checks, runtime.concurrency, async (check) => {
    const provider = providers.get(check.provider);
    if (provider === undefined || typeof provider === 'string') return always(await measureOne(check, provider, ctx));
    return provider.history(check, ctx, ticks);
  });
  return Object.fromEntries(spec.checks.map((check, i) => [check.name, histories[i] as MeasurementHistory]));
}

/** The MeasureContext of a policy in a tick: target, policy and interval from the policy, the rest from the tick. */
export function measureContext(
  policy: Pick<RolloutPolicy, 'metadata' | 'spec'>,
  tick: Pick<MeasureContext, 'time' | 'secrets' | 'signal' | 'logger'> & { canaryRevision: string | null },
): MeasureContext {
  const namespace = policy.metadata.namespace;
  return {
    time: tick.time,
    target: { name: policy.spec.targetRef.name, namespace },
    policy: { name: policy.metadata.name, namespace },
    rollout: { canaryRevision: tick.canaryRevision },
    intervalSeconds: parseDuration(policy.spec.interval) ?? 30,
    secrets: tick.secrets,
    ...(tick.signal ? { signal: tick.signal } : {}),
    ...(tick.logger ? { logger: tick.logger } : {}),
  };
}
