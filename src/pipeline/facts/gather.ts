import type { Logger } from 'pino';
import type { CompiledPolicy } from '../compile/compile.js';
import { withDerived } from './derived.js';
import {
  measureChecks,
  measureContext,
  type MetricsRuntime,
  type Measurement,
} from '../../adapters/providers/index.js';
import type { RolloutPolicy } from '../policy/schema.js';
import type { SecretReader } from '../../adapters/secrets/reader.js';
import type { FactSnapshot } from './snapshot.js';
import type { Override, Phase } from '../policy/vocabulary.js';
import { stepPlan } from './steps.js';
import type { WorkloadState } from './workload.js';
import { windowFacts } from './windows.js';
import { revertFacts } from './revert.js';
import { revertDepth } from '../policy/fast-revert.js';

/** Where the rollout is, as status keeps it (the clock that drives it is the tick's). */
export interface RolloutPosition {
  phase: Phase;
  step: number;
  manualPause: boolean;
  /** Soak time of the step so far, paused time excluded. */
  stepElapsedSeconds: number;
}

export interface GatherInput {
  policy: RolloutPolicy;
  compiled: CompiledPolicy;
  /** The tick's time (ms): the snapshot's time and the instant metrics are read at. */
  time: number;
  position: RolloutPosition;
  workload: WorkloadState;
  override: Override | null;
  canaryRevision: string | null;
  /** status.promotedRevisions, newest first (spec.fastRevert). */
  promotedRevisions?: readonly string[];
}

/** What every tick of every policy shares: one metrics runtime (HTTP client, query cache) and one Secret reader. */
export interface GatherRuntime {
  metrics: MetricsRuntime;
  secrets: SecretReader;
  logger?: Logger;
}

export interface Gathered {
  snapshot: FactSnapshot;
  /** The measurements with what the snapshot leaves out (latency, raw value, answer shape), for status and logs. */
  measurements: Record<string, Measurement>;
}

/**
 * The snapshot's entry of a measurement: the docs/architecture.md, "FactSnapshot v1" fields, plus warnings for the
 * audit log.
 */
function checkFacts(m: Measurement): FactSnapshot['checks'][string] {
  return {
    status: m.status,
    value: m.value,
    min: m.min,
    max: m.max,
    provider: m.provider,
    query: m.query,
    ...(m.observedAt !== undefined ? { observedAt: m.observedAt } : {}),
    ...(m.error !== undefined ? { error: m.error } : {}),
    ...(m.warnings?.length ? { warnings: m.warnings } : {}),
  };
}

/**
 * Builds exactly the FactSnapshot v1 of one tick: every check measured (concurrently, bounded,
 * through the shared cache), the rollout's position and replica state, canary pod health, and the
 * pending override; derived facts computed before it is frozen.
 */
export async function gatherFacts(input: GatherInput, runtime: GatherRuntime, signal?: AbortSignal): Promise<Gathered> {
  const { policy, position, workload } = input;
  const time = new Date(input.time);
  const ctx = measureContext(policy, {
    time,
    secrets: runtime.secrets,
    signal,
    logger: runtime.logger,
    canaryRevision: input.canaryRevision,
  });
  const measurements = await measureChecks(policy.spec, ctx, runtime.metrics);
  const plan = stepPlan(policy.spec, position.step);
  const snapshot: FactSnapshot = {
    version: 1,
    time: time.toISOString(),
    rollout: {
      phase: position.phase,
      step: position.step,
      stepCount: policy.spec.steps.length,
      manualPause: position.manualPause,
      stepKind: plan.kind,
      weight: plan.weight,
      stepElapsedSeconds: position.stepElapsedSeconds,
      soakSeconds: plan.soakSeconds,
      canary: workload.canary,
      stable: workload.stable,
    },
    checks: Object.fromEntries(Object.entries(measurements).map(([name, m]) => [name, checkFacts(m)])),
    derived: {},
    kube: { warningEvents: workload.warningEvents, reasons: workload.reasons },
    override: input.override,
    ...(policy.spec.windows?.length ? { window: windowFacts(policy.spec.windows, input.time) } : {}),
    ...(revertDepth(policy.spec) > 0
      ? { revert: revertFacts(revertDepth(policy.spec), input.promotedRevisions ?? [], input.canaryRevision) }
      : {}),
  };
  return { snapshot: deepFreeze(await withDerived(input.compiled, snapshot)), measurements };
}

/** The snapshot is frozen: decide, the recorders and the audit log all see the same facts. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
  }
  return value;
}
