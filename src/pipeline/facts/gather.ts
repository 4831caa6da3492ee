import type { Logger } from 'pino';
import type { CompiledPolicy } from '../compile/compile.js';
import { withDerived } from './derived.js';
import {
  evaluationWindow,
  measureChecks,
  measureContext,
  type MeasureContext,
  type MetricsRuntime,
  type Measurement,
} from '../../adapters/providers/index.js';
import type { RolloutPolicy } from '../policy/schema.js';
import type { ComparisonFacts } from '../policy/compare.js';
import type { SecretReader } from '../../adapters/secrets/reader.js';
import type { CheckFacts, FactSnapshot } from './snapshot.js';
import type { Override, Phase } from '../policy/vocabulary.js';
import { parseDuration } from '../policy/duration.js';
import { stepPlan } from './steps.js';
import { stepCount } from '../policy/strategies.js';
import { nextRun, verdictOf, type FailureRun } from './verdict.js';
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
  /** A person resumed this step: the inconclusive bands no longer pause it. */
  inconclusiveAccepted?: boolean;
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
  /** Each check's run of failing measurements as status keeps it (absent: none). */
  failures?: Record<string, FailureRun>;
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
  /** Each check's run of failing measurements after this tick's, for status. */
  failures: Record<string, FailureRun>;
}

/**
 * The snapshot's entry of a measurement: the docs/architecture.md, "FactSnapshot v1" fields, its verdict and run of
 * failures, plus warnings for the audit log.
 */
function checkFacts(m: Measurement, judged: Pick<CheckFacts, 'verdict' | 'consecutiveFailures'>): CheckFacts {
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
    ...(m.comparison ? { comparison: withoutSamples(m.comparison) } : {}),
    ...judged,
  };
}

/** A comparison's facts keep the sample counts, not the samples (query --json shows those). */
function withoutSamples(comparison: NonNullable<Measurement['comparison']>): ComparisonFacts {
  const { samples: _samples, ...facts } = comparison;
  return facts;
}

/** Each measurement's snapshot entry, with its verdict, and each threshold check's run of failures after it. */
function judge(
  input: GatherInput,
  measurements: Record<string, Measurement>,
  ctx: Pick<MeasureContext, 'time' | 'intervalSeconds'>,
): { checks: FactSnapshot['checks']; failures: Record<string, FailureRun> } {
  const window = (iso: string) => evaluationWindow({ time: new Date(iso), intervalSeconds: ctx.intervalSeconds }).index;
  const tick = { time: ctx.time.toISOString(), window };
  const checks: FactSnapshot['checks'] = {};
  const failures: Record<string, FailureRun> = {};
  for (const check of input.policy.spec.checks) {
    const m = measurements[check.name];
    if (!m) continue;
    // A comparison is judged by its rules on its statistics; bounds and bands do not apply to it.
    if (check.compare) {
      checks[check.name] = checkFacts(m, {});
      continue;
    }
    const verdict = verdictOf(check, m);
    const run = nextRun(input.failures?.[check.name], verdict, tick);
    failures[check.name] = run;
    checks[check.name] = checkFacts(m, { verdict, consecutiveFailures: run.count });
  }
  return { checks, failures };
}

/**
 * Builds exactly the FactSnapshot v1 of one tick: every check measured (concurrently, bounded,
 * through the shared cache), the rollout's position and replica state, canary pod health, and the
 * pending override; derived facts computed before it is frozen.
 */
export async function gatherFacts(input: GatherInput, runtime: GatherRuntime, signal?: AbortSignal): Promise<Gathered> {
  const ctx = measureContext(input.policy, {
    time: new Date(input.time),
    secrets: runtime.secrets,
    signal,
    logger: runtime.logger,
    canaryRevision: input.canaryRevision,
  });
  return snapshotOf(input, await measureChecks(input.policy.spec, ctx, runtime.metrics));
}

/**
 * The frozen snapshot of a tick from its measurements: what gatherFacts builds once it has measured,
 * and what a backtest builds from the measurements its range requests give each tick.
 */
export async function snapshotOf(input: GatherInput, measurements: Record<string, Measurement>): Promise<Gathered> {
  const { policy, position, workload } = input;
  const intervalSeconds = parseDuration(policy.spec.interval) ?? 30;
  const { checks, failures } = judge(input, measurements, { time: new Date(input.time), intervalSeconds });
  const plan = stepPlan(policy.spec, position.step);
  const snapshot: FactSnapshot = {
    version: 1,
    time: new Date(input.time).toISOString(),
    rollout: {
      phase: position.phase,
      step: position.step,
      stepCount: stepCount(policy.spec),
      manualPause: position.manualPause,
      stepKind: plan.kind,
      weight: plan.weight,
      ...(plan.match ? { match: plan.match } : {}),
      ...(plan.mirror !== undefined ? { mirror: plan.mirror } : {}),
      stepElapsedSeconds: position.stepElapsedSeconds,
      soakSeconds: plan.soakSeconds,
      canary: workload.canary,
      stable: workload.stable,
      ...(position.inconclusiveAccepted ? { inconclusiveAccepted: true } : {}),
    },
    checks,
    derived: {},
    kube: { warningEvents: workload.warningEvents, reasons: workload.reasons },
    override: input.override,
    ...(policy.spec.windows?.length ? { window: windowFacts(policy.spec.windows, input.time) } : {}),
    ...(revertDepth(policy.spec) > 0
      ? { revert: revertFacts(revertDepth(policy.spec), input.promotedRevisions ?? [], input.canaryRevision) }
      : {}),
  };
  return { snapshot: deepFreeze(await withDerived(input.compiled, snapshot)), measurements, failures };
}

/** The snapshot is frozen: decide, the recorders and the audit log all see the same facts. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
  }
  return value;
}
