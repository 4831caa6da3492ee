import { mapLimit } from '../../lib/async/map-limit.js';
import { parseDuration } from '../../pipeline/policy/duration.js';
import type { CheckSpec, PolicySpec, RolloutPolicy } from '../../pipeline/policy/schema.js';
import { createProvider, type MetricsRuntime } from './provider.js';
import type { MeasureContext, Measurement, MetricProvider } from './types.js';

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
