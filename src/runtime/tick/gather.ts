import { isDeepStrictEqual } from 'node:util';
import { gatherFacts } from '../../pipeline/facts/gather.js';
import { workloadState } from '../../pipeline/facts/workload.js';
import { inRollout, isoAt, policyOf, type Stop, stop, targetOf, type TickContext } from './context.js';
import type { RolloutStatus } from './status.js';

/** Seconds the current step has soaked at `now`: since stepStartedAt, paused time excluded. */
export function stepElapsedSeconds(status: RolloutStatus, now: number): number {
  const started = status.stepStartedAt ? Date.parse(status.stepStartedAt) : now;
  const pausedNow = status.pausedSince ? now - Date.parse(status.pausedSince) : 0;
  const elapsed = (now - started - (status.pausedSeconds ?? 0) * 1000 - pausedNow) / 1000;
  return Math.max(0, Math.round(elapsed * 1000) / 1000);
}

/** Gather and freeze: the tick's FactSnapshot, and each check's measurement in status.checks. */
export async function gather(ctx: TickContext): Promise<Stop | undefined> {
  const policy = policyOf(ctx);
  const compiled = ctx.compiled;
  if (!compiled) return undefined;
  const { deps, gather: runtime } = ctx.shared;
  const position = {
    phase: ctx.next.phase ?? 'Progressing',
    step: ctx.next.currentStep ?? 0,
    manualPause: ctx.next.manualPause ?? false,
    stepElapsedSeconds: stepElapsedSeconds(ctx.next, ctx.now),
  };
  const workload = workloadState(deps.cache, targetOf(ctx), ctx.primary);
  ctx.gathered = await gatherFacts(
    {
      policy,
      compiled,
      time: ctx.now,
      position,
      workload,
      override: ctx.override?.action ?? null,
      canaryRevision: ctx.next.canaryRevision ?? null,
      promotedRevisions: ctx.next.promotedRevisions,
    },
    runtime,
    ctx.signal,
  );
  const checks: NonNullable<RolloutStatus['checks']> = {};
  for (const [name, m] of Object.entries(ctx.gathered.measurements)) {
    deps.observer.measurement(m.provider, m.status, m.latencyMs);
    const reading = {
      status: m.status,
      value: m.value,
      min: m.min,
      max: m.max,
      ...(m.error ? { error: m.error } : {}),
    };
    checks[name] = {
      ...reading,
      unchangedSince: unchangedSince(ctx.status.checks?.[name], reading, m.observedAt ?? isoAt(ctx.now)),
    };
  }
  ctx.next.checks = checks;
  return undefined;
}

type CheckStatus = NonNullable<RolloutStatus['checks']>[string];

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
