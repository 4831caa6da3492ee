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
import type { Clock } from '../../lib/clock/clock.js';
import { askWebhooks } from './webhooks.js';

/** Where the rollout is, as status keeps it (the clock that drives it is the tick's). */
export interface RolloutPosition {
  phase: Phase;
  step: number;
  manualPause: boolean;
  /** Soak time of the step so far, paused time excluded. */
  stepElapsedSeconds: number;
  /** Blue-green: seconds since the preview began (status.previewStartedAt; absent: the step's own clock). */
  previewElapsedSeconds?: number;
  /** A person resumed this step: the inconclusive bands no longer pause it. */
  inconclusiveAccepted?: boolean;
  /** A weighted router at a weight step: whether the route gives the canary the step's weight now. */
  weightGiven?: boolean;
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
  /** The policy's webhooks that passed earlier in this rollout (status.webhooksPassed), and the stable revision. */
  webhooks?: { passed: readonly string[]; stableRevision: string | null };
}

/** What every tick of every policy shares: one metrics runtime (HTTP client, query cache) and one Secret reader. */
export interface GatherRuntime {
  metrics: MetricsRuntime;
  secrets: SecretReader;
  logger?: Logger;
  /** The clock of webhook calls (latency, signature timestamps); without it the policy's webhooks are not asked. */
  clock?: Clock;
}

export interface Gathered {
  snapshot: FactSnapshot;
  /** The measurements with what the snapshot leaves out (latency, raw value, answer shape), for status and logs. */
  measurements: Record<string, Measurement>;
  /** Each check's run of failing measurements after this tick's, for status. */
  failures: Record<string, FailureRun>;
  /** The webhooks passed in this rollout after this tick's answers, for status. */
  webhooksPassed: string[];
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
  const plan = stepPlan(input.policy.spec, input.position.step);
  const [measurements, hooks] = await Promise.all([
    measureChecks(input.policy.spec, ctx, runtime.metrics),
    webhookFacts(input, plan, runtime, signal),
  ]);
  return snapshotOf(input, measurements, hooks);
}

type WebhookFacts = Awaited<ReturnType<typeof askWebhooks>>;

/**
 * The frozen snapshot of a tick from its measurements (and webhook answers): what gatherFacts builds once it has
 * measured, and what a backtest builds from the measurements its range requests give each tick (it asks no webhook).
 */
export async function snapshotOf(
  input: GatherInput,
  measurements: Record<string, Measurement>,
  hooks: WebhookFacts = { answers: {}, passed: [...(input.webhooks?.passed ?? [])] },
): Promise<Gathered> {
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
      ...(plan.kind === 'preview'
        ? { previewElapsedSeconds: position.previewElapsedSeconds ?? position.stepElapsedSeconds }
        : {}),
      soakSeconds: plan.soakSeconds,
      canary: workload.canary,
      stable: workload.stable,
      ...(position.inconclusiveAccepted ? { inconclusiveAccepted: true } : {}),
      ...(plan.kind === 'weight' && position.weightGiven !== undefined ? { weightGiven: position.weightGiven } : {}),
    },
    checks,
    derived: {},
    kube: { warningEvents: workload.warningEvents, reasons: workload.reasons },
    override: input.override,
    ...optionalFacts(input, hooks),
  };
  const frozen = deepFreeze(await withDerived(input.compiled, snapshot));
  return { snapshot: frozen, measurements, failures, webhooksPassed: hooks.passed };
}

/** The facts only some policies have: freeze windows, fast revert, webhook answers. */
function optionalFacts(input: GatherInput, hooks: WebhookFacts): Partial<FactSnapshot> {
  const { spec } = input.policy;
  const depth = revertDepth(spec);
  return {
    ...(spec.windows?.length ? { window: windowFacts(spec.windows, input.time) } : {}),
    ...(depth > 0 ? { revert: revertFacts(depth, input.promotedRevisions ?? [], input.canaryRevision) } : {}),
    ...(Object.keys(hooks.answers).length ? { webhooks: hooks.answers } : {}),
  };
}

/** This tick's webhook answers (docs/webhooks.md), asked while the checks are measured. */
async function webhookFacts(
  input: GatherInput,
  plan: ReturnType<typeof stepPlan>,
  runtime: GatherRuntime,
  signal?: AbortSignal,
): ReturnType<typeof askWebhooks> {
  const { policy, position } = input;
  const passed = input.webhooks?.passed ?? [];
  if (!policy.spec.webhooks?.length || !runtime.clock) return { answers: {}, passed: [...passed] };
  const stage = {
    step: position.step,
    plan,
    stepElapsedSeconds: position.stepElapsedSeconds,
    revision: input.canaryRevision,
    passed,
  };
  const call = {
    policy: policy.metadata.name,
    namespace: policy.metadata.namespace,
    phase: position.phase,
    step: position.step,
    weight: plan.weight,
    canaryRevision: input.canaryRevision,
    stableRevision: input.webhooks?.stableRevision ?? null,
  };
  const deps = { http: runtime.metrics.http, secrets: runtime.secrets, clock: runtime.clock, signal };
  return askWebhooks(policy.spec, stage, call, deps);
}

/** The snapshot is frozen: decide, the recorders and the audit log all see the same facts. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
  }
  return value;
}
