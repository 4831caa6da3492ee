import { isDeepStrictEqual } from 'node:util';
import { gatherFacts, type Gathered, type RolloutPosition } from '../../pipeline/facts/gather.js';
import { workloadState } from '../../pipeline/facts/workload.js';
import {
  actuatorOf,
  inRollout,
  isoAt,
  isShadow,
  policyOf,
  type Stop,
  stop,
  targetOf,
  type TickContext,
} from './context.js';
import { shownWeight } from './drift.js';
import type { RolloutStatus } from './status.js';
import type { FactSnapshot } from '../../pipeline/facts/snapshot.js';
import type { FailureRun } from '../../pipeline/facts/verdict.js';
import type { Measurement } from '../../adapters/providers/index.js';
import type { Verdict } from '../../pipeline/policy/vocabulary.js';

/** Seconds the current step has soaked at `now`: since stepStartedAt, paused time excluded. */
export function stepElapsedSeconds(status: RolloutStatus, now: number): number {
  const started = status.stepStartedAt ? Date.parse(status.stepStartedAt) : now;
  const pausedNow = status.pausedSince ? now - Date.parse(status.pausedSince) : 0;
  const elapsed = (now - started - (status.pausedSeconds ?? 0) * 1000 - pausedNow) / 1000;
  return Math.max(0, Math.round(elapsed * 1000) / 1000);
}

/** Seconds since a blue-green preview began (status.previewStartedAt), paused or not; undefined without it. */
function previewElapsedSeconds(status: RolloutStatus, now: number): number | undefined {
  const started = status.previewStartedAt ? Date.parse(status.previewStartedAt) : NaN;
  return Number.isNaN(started) ? undefined : Math.max(0, Math.round(now - started) / 1000);
}

/** Where the rollout is, as status keeps it. */
function positionOf(ctx: TickContext): RolloutPosition {
  return {
    phase: ctx.next.phase ?? 'Progressing',
    step: ctx.next.currentStep ?? 0,
    manualPause: ctx.next.manualPause ?? false,
    stepElapsedSeconds: stepElapsedSeconds(ctx.next, ctx.now),
    previewElapsedSeconds: previewElapsedSeconds(ctx.next, ctx.now),
    inconclusiveAccepted: ctx.next.inconclusiveAccepted ?? false,
    weightGiven: weightGiven(ctx),
  };
}

/** A weighted router (not in shadow mode): whether the route gives the canary the weight status asks (drift.ts read it). */
function weightGiven(ctx: TickContext): boolean | undefined {
  if (isShadow(ctx) || !actuatorOf(ctx).router.weighted) return undefined;
  return ctx.next.effectiveWeight === shownWeight(ctx.next.canaryWeight ?? 0);
}

/** Gather and freeze: the tick's FactSnapshot, and each check's measurement in status.checks. */
export async function gather(ctx: TickContext): Promise<Stop | undefined> {
  const policy = policyOf(ctx);
  const compiled = ctx.compiled;
  if (!compiled) return undefined;
  const { deps, gather: runtime } = ctx.shared;
  const workload = workloadState(deps.cache, targetOf(ctx), ctx.primary);
  ctx.gathered = await gatherFacts(
    {
      policy,
      compiled,
      time: ctx.now,
      position: positionOf(ctx),
      workload,
      override: ctx.override?.action ?? null,
      canaryRevision: ctx.next.canaryRevision ?? null,
      failures: failureRuns(ctx.status),
      promotedRevisions: ctx.next.promotedRevisions,
      webhooks: { passed: ctx.status.webhooksPassed ?? [], stableRevision: ctx.next.stableRevision ?? null },
    },
    runtime,
    ctx.signal,
  );
  keepReadings(ctx, ctx.gathered.snapshot);
  showChecks(ctx, ctx.gathered);
  ctx.next.webhooksPassed = ctx.gathered.webhooksPassed.length ? ctx.gathered.webhooksPassed : undefined;
  return undefined;
}

/** Each check's reading in status.checks (what `kubestead status` shows), with when it last changed. */
function showChecks(ctx: TickContext, gathered: Gathered): void {
  const checks: NonNullable<RolloutStatus['checks']> = {};
  for (const [name, m] of Object.entries(gathered.measurements)) {
    ctx.shared.deps.observer.measurement(m.provider, m.status, m.latencyMs);
    const reading = readingOf(m, gathered.snapshot.checks[name]?.verdict, gathered.failures[name]);
    checks[name] = {
      ...reading,
      unchangedSince: unchangedSince(ctx.status.checks?.[name], reading, m.observedAt ?? isoAt(ctx.now)),
    };
  }
  ctx.next.checks = checks;
}

/** Every tick's readings, for the rollback report (the audit chain has only the ticks that changed something). */
function keepReadings(ctx: TickContext, snapshot: FactSnapshot): void {
  ctx.shared.readings.add(ctx.raw.metadata?.uid ?? '', snapshot, ctx.next.canaryRevision ?? null);
}

type CheckStatus = NonNullable<RolloutStatus['checks']>[string];

/** What status shows of a check: its reading, verdict and run of failures. */
function readingOf(m: Measurement, verdict: Verdict | undefined, run: FailureRun | undefined): CheckStatus {
  return {
    status: m.status,
    value: m.value,
    min: m.min,
    max: m.max,
    ...(m.error ? { error: m.error } : {}),
    ...(verdict ? { verdict } : {}),
    ...(run?.count ? { consecutiveFailures: run.count } : {}),
    ...(run?.at ? { lastFailureAt: run.at } : {}),
  };
}

/** Each check's run of failing measurements as status keeps it (what failureLimit counts; it survives a restart). */
function failureRuns(status: RolloutStatus): Record<string, FailureRun> {
  return Object.fromEntries(
    Object.entries(status.checks ?? {}).map(([name, c]) => [
      name,
      { count: c.consecutiveFailures ?? 0, ...(c.lastFailureAt ? { at: c.lastFailureAt } : {}) },
    ]),
  );
}

/** When a check's reading last changed: kept while each measurement reads the same, else this one's time. */
function unchangedSince(
  before: CheckStatus | undefined,
  reading: Omit<CheckStatus, 'unchangedSince'>,
  measuredAt: string,
): string {
  if (!before?.unchangedSince) return measuredAt;
  const { unchangedSince: since, ...was } = before;
  return isDeepStrictEqual(was, reading) ? since : measuredAt;
}

/** Nothing to analyse outside a rollout: an idle policy reads its cache and writes nothing. */
export function idleGate(ctx: TickContext): Promise<Stop | undefined> {
  return Promise.resolve(
    inRollout(ctx.next.phase) ? undefined : stop(`${ctx.next.phase ?? 'no phase'}: nothing to analyse`, ctx.intervalMs),
  );
}
