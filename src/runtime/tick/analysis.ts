import { isDeepStrictEqual } from 'node:util';
import { decide } from '../../pipeline/decide/decide.js';
import { gatherFacts } from '../../pipeline/facts/gather.js';
import { workloadState } from '../../pipeline/facts/workload.js';
import { isoAt, policyOf, targetOf, type Stop, type TickContext } from './context.js';
import { alreadyConsumed, OVERRIDABLE_PHASES, readOverride } from './overrides.js';
import { recordEvent } from './record.js';
import type { RolloutStatus } from './status.js';

/** Seconds the current step has soaked at `now`: since stepStartedAt, paused time excluded. */
export function stepElapsedSeconds(status: RolloutStatus, now: number): number {
  const started = status.stepStartedAt ? Date.parse(status.stepStartedAt) : now;
  const pausedNow = status.pausedSince ? now - Date.parse(status.pausedSince) : 0;
  const elapsed = (now - started - (status.pausedSeconds ?? 0) * 1000 - pausedNow) / 1000;
  return Math.max(0, Math.round(elapsed * 1000) / 1000);
}

/**
 * Reads the override annotation. One for a rollout in progress becomes the snapshot's override; one
 * already consumed (a restart between status and its removal), an invalid one, or one for a policy
 * that is not progressing is only removed, the last two with a Warning Event saying why.
 */
export async function readOverrides(ctx: TickContext): Promise<Stop | undefined> {
  const read = readOverride(ctx.raw);
  if (read.kind === 'none') return undefined;
  ctx.removeOverride = true;
  if (read.kind === 'invalid') {
    await recordEvent(ctx, 'override-refused', `override refused: ${read.message}`);
    return undefined;
  }
  const { override } = read;
  if (alreadyConsumed(ctx.status, override)) return undefined;
  if (!OVERRIDABLE_PHASES.includes(ctx.next.phase ?? '')) {
    await recordEvent(ctx, 'override-refused', `override ${override.action} by ${override.actor} refused: the policy is ${ctx.next.phase ?? 'not adopted'}, not progressing`);
    return undefined;
  }
  ctx.override = override;
  ctx.next.lastOverride = override;
  return undefined;
}

/** Gather and freeze: the tick's FactSnapshot, and each check's measurement in status.checks. */
export async function gather(ctx: TickContext): Promise<Stop | undefined> {
  const policy = policyOf(ctx);
  const compiled = ctx.compiled;
  if (!compiled) return undefined;
  const { deps, gather: runtime } = ctx.shared;
  const position = {
    phase: (ctx.next.phase ?? 'Progressing'), step: ctx.next.currentStep ?? 0,
    manualPause: ctx.next.manualPause ?? false, stepElapsedSeconds: stepElapsedSeconds(ctx.next, ctx.now),
  };
  const workload = workloadState(deps.cache, targetOf(ctx), ctx.primary);
  ctx.gathered = await gatherFacts({
    policy, compiled, time: ctx.now, position, workload, override: ctx.override?.action ?? null, canaryRevision: ctx.next.canaryRevision ?? null,
  }, runtime, ctx.signal);
  const checks: NonNullable<RolloutStatus['checks']> = {};
  for (const [name, m] of Object.entries(ctx.gathered.measurements)) {
    deps.observer.measurement(m.provider, m.status, m.latencyMs);
    const reading = { status: m.status, value: m.value, min: m.min, max: m.max, ...(m.error ? { error: m.error } : {}) };
    checks[name] = { ...reading, unchangedSince: unchangedSince(ctx.status.checks?.[name], reading, m.observedAt ?? isoAt(ctx.now)) };
  }
  ctx.next.checks = checks;
  return undefined;
}

type CheckStatus = NonNullable<RolloutStatus['checks']>[string];

/** When a check's reading last changed: kept while each measurement reads the same, else this one's time. */
function unchangedSince(before: CheckStatus | undefined, reading: Omit<CheckStatus, 'unchangedSince'>, measuredAt: string): string {
  if (!before?.unchangedSince) return measuredAt;
  const { unchangedSince: since, ...was } = before;
  return isDeepStrictEqual(was, reading) ? since : measuredAt;
}

/** Decide: the pure decision over the frozen snapshot. */
export async function decideTick(ctx: TickContext): Promise<Stop | undefined> {
  if (!ctx.gathered || !ctx.compiled) return undefined;
  ctx.decision = await decide(ctx.compiled, ctx.gathered.snapshot);
  ctx.shared.deps.observer.decision(ctx.decision.action, policyOf(ctx).spec.mode);
  // Every tick's decision, at debug: a decision that changes something is also logged at info, once, as it is recorded.
  if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ action: ctx.decision.action, reasons: ctx.decision.reasons.map((r) => r.message) }, 'decided');
  return undefined;
}

