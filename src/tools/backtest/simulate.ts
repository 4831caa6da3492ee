import { measureContext, measureHistories, type MeasurementHistory } from '../../adapters/providers/index.js';
import type { MetricsRuntime } from '../../adapters/providers/provider.js';
import type { SecretReader } from '../../adapters/secrets/reader.js';
import { canaryStarted, decided, steppedTo } from '../../pipeline/actuate/transitions.js';
import { compilePolicy, type CompiledPolicy } from '../../pipeline/compile/compile.js';
import { decide } from '../../pipeline/decide/decide.js';
import type { Reason } from '../../pipeline/decide/decision.js';
import { snapshotOf, type Gathered } from '../../pipeline/facts/gather.js';
import type { FactSnapshot } from '../../pipeline/facts/snapshot.js';
import { stepPlan } from '../../pipeline/facts/steps.js';
import type { FailureRun } from '../../pipeline/facts/verdict.js';
import type { WorkloadState } from '../../pipeline/facts/workload.js';
import { parseDuration } from '../../pipeline/policy/duration.js';
import type { RolloutPolicy } from '../../pipeline/policy/schema.js';
import type { PolicyStatus } from '../../pipeline/policy/status.js';
import type { Action } from '../../pipeline/policy/vocabulary.js';
import { stepElapsedSeconds } from '../../runtime/tick/gather.js';

/** How a backtest ended: the rollout promoted or rolled back, still paused, or still going at the window's end. */
export type BacktestOutcome = 'promoted' | 'rolledBack' | 'paused' | 'incomplete';

/** One tick of a backtest, as `kubestead backtest --json` prints it. */
export interface BacktestTick {
  time: string;
  /** The 0-based step (a Decision's `step`). */
  step: number;
  weight: number;
  action: Action;
  reasons: Reason[];
  checks: Record<string, { status: 'ok' | 'unavailable'; value: number | null }>;
}

export interface Backtest {
  outcome: BacktestOutcome;
  ticks: BacktestTick[];
}

export interface BacktestRequest {
  policy: RolloutPolicy;
  /** The rollout starts here (ms): step 1 begins; the controller ticks every interval from it. */
  startMs: number;
  /** The window: its first tick is the first at or after this (ms; not before startMs). */
  fromMs: number;
  /** The last tick is at or before this (ms). */
  endMs: number;
  secrets: SecretReader;
  metrics: MetricsRuntime;
}

/**
 * A backtest judges metrics: the canary's pods are taken as ready and healthy throughout, with no
 * Warning events and no override, so that every decision comes from the checks and the step timing.
 */
const HEALTHY: WorkloadState = {
  canary: { desiredReplicas: 1, readyReplicas: 1, restarts: 0 },
  stable: { desiredReplicas: 1, readyReplicas: 1 },
  warningEvents: 0,
  reasons: {},
};

/** Most ticks one backtest runs (a day at 1s is 86,400). */
export const MAX_TICKS = 100_000;

export const intervalMsOf = (policy: RolloutPolicy): number => (parseDuration(policy.spec.interval) ?? 30) * 1000;

/** A bad window (empty, too long, or one the rollout is over before): a usage error of `kubestead backtest`. */
export class BacktestRangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BacktestRangeError';
  }
}

/** The ticks of a backtest: one every interval from the rollout's start, those from `fromMs` to `endMs`. */
export function tickRange(policy: RolloutPolicy, window: Pick<BacktestRequest, 'startMs' | 'fromMs' | 'endMs'>) {
  const stepMs = intervalMsOf(policy);
  const { startMs, endMs } = window;
  const first = startMs + Math.max(0, Math.ceil((window.fromMs - startMs) / stepMs)) * stepMs;
  if (first > endMs) throw new BacktestRangeError('the window holds no tick: --to is before the first one');
  const count = Math.floor((endMs - first) / stepMs) + 1;
  if (count > MAX_TICKS)
    throw new BacktestRangeError(`the window holds ${count} ticks of ${stepMs / 1000}s; at most ${MAX_TICKS}`);
  return { startMs: first, endMs: first + (count - 1) * stepMs, stepMs };
}

/**
 * The rollout's position at its first tick in the window when it started earlier: step timing alone,
 * as the controller would have moved it with every check in bounds (a step advances at the first
 * tick its soak is over). A rollout that would have promoted before the window cannot be backtested
 * from it.
 */
export function positionAt(policy: RolloutPolicy, startMs: number, firstTickMs: number): PolicyStatus {
  const stepMs = intervalMsOf(policy);
  const weightOf = (step: number) => stepPlan(policy.spec, step).weight;
  let status: PolicyStatus = canaryStarted('backtest', weightOf(0), new Date(startMs).toISOString());
  for (let step = 0; ; step++) {
    const { soakSeconds } = stepPlan(policy.spec, step);
    const stepStart = Date.parse(status.stepStartedAt!);
    // a pause step without a duration: only a person lifts it; the backtest shows it paused there
    if (soakSeconds === null) return status;
    const over = stepStart + Math.ceil((soakSeconds * 1000) / stepMs) * stepMs;
    if (over >= firstTickMs) return status;
    if (step + 1 >= policy.spec.steps.length)
      throw new BacktestRangeError(
        'the rollout would have promoted before --from: start it later, or the window earlier',
      );
    status = { ...status, ...steppedTo(step + 1, weightOf(step + 1), new Date(over).toISOString()) };
  }
}

/** A pause step without a duration: only a person lifts it, so the backtest ends there. */
const waitsForPerson = (snapshot: FactSnapshot, action: Action) =>
  action === 'pause' && snapshot.rollout.stepKind === 'pause' && snapshot.rollout.soakSeconds === null;

async function measurementsAt(histories: Record<string, MeasurementHistory>, timeMs: number) {
  const entries = await Promise.all(Object.entries(histories).map(async ([name, h]) => [name, await h.at(timeMs)]));
  return Object.fromEntries(entries) as Record<string, Awaited<ReturnType<MeasurementHistory['at']>>>;
}

function tickOf(snapshot: FactSnapshot, decision: { action: Action; reasons: Reason[] }): BacktestTick {
  return {
    time: snapshot.time,
    step: snapshot.rollout.step,
    weight: snapshot.rollout.weight,
    action: decision.action,
    reasons: decision.reasons,
    checks: Object.fromEntries(
      Object.entries(snapshot.checks).map(([name, m]) => [name, { status: m.status, value: m.value }]),
    ),
  };
}

/** What the controller would have gathered at a tick of the simulated rollout, from that tick's measurements. */
async function snapshotAt(
  request: BacktestRequest,
  compiled: CompiledPolicy,
  status: PolicyStatus,
  measured: { timeMs: number; histories: Record<string, MeasurementHistory>; failures: Record<string, FailureRun> },
): Promise<Gathered> {
  const { timeMs, histories } = measured;
  const position = {
    phase: status.phase ?? 'Progressing',
    step: status.currentStep ?? 0,
    manualPause: status.manualPause ?? false,
    stepElapsedSeconds: stepElapsedSeconds(status, timeMs),
  };
  const input = {
    policy: request.policy,
    compiled,
    time: timeMs,
    position,
    workload: HEALTHY,
    override: null,
    canaryRevision: null,
    failures: measured.failures,
  };
  return snapshotOf(input, await measurementsAt(histories, timeMs));
}

/**
 * Replays a policy over a past window: the checks measured for every tick from one range request
 * per query, each tick's snapshot built as the gatherer builds it, decided by the compiled rule set,
 * and the rollout's position moved by the same state machine as the controller's (transitions.ts),
 * until it promotes, rolls back or the window ends.
 */
export async function backtest(request: BacktestRequest): Promise<Backtest> {
  const { policy } = request;
  const compiled = compilePolicy(policy);
  const ticks = tickRange(policy, request);
  const ctx = measureContext(policy, {
    time: new Date(ticks.startMs),
    secrets: request.secrets,
    canaryRevision: null,
  });
  const histories = await measureHistories(policy.spec, ctx, request.metrics, ticks);
  const weightOf = (step: number) => stepPlan(policy.spec, step).weight;
  let status = positionAt(policy, request.startMs, ticks.startMs);
  const timeline: BacktestTick[] = [];
  let failures: Record<string, FailureRun> = {};
  for (let timeMs = ticks.startMs; timeMs <= ticks.endMs; timeMs += ticks.stepMs) {
    const gathered = await snapshotAt(request, compiled, status, { timeMs, histories, failures });
    const snapshot = gathered.snapshot;
    failures = gathered.failures;
    const decision = await decide(compiled, snapshot);
    timeline.push(tickOf(snapshot, decision));
    if (decision.action === 'promote') return { outcome: 'promoted', ticks: timeline };
    if (decision.action === 'rollback') return { outcome: 'rolledBack', ticks: timeline };
    if (waitsForPerson(snapshot, decision.action)) return { outcome: 'paused', ticks: timeline };
    status = { ...status, ...decided(status, decision, { nowMs: timeMs, weightOf }) };
  }
  return { outcome: status.phase === 'Paused' ? 'paused' : 'incomplete', ticks: timeline };
}
