import { condition } from './conditions.js';
import { stageText, stepPlan } from '../../pipeline/facts/steps.js';
import { stepsOf, type TickContext } from './context.js';
import { isConflict } from '../../adapters/kube/errors.js';
import { keyString, OVERRIDE_ANNOTATION } from '../../adapters/kube/names.js';
import { compact, conditionOf, sameStatus, type RolloutStatus } from './status.js';
import { stepLabel } from '../../pipeline/policy/vocabulary.js';
import { describeStep } from '../../pipeline/policy/strategies.js';

/** A status write refused because the policy changed since it was read: the tick is re-read and re-decided. */
export class StatusConflict extends Error {
  constructor(readonly key: string) {
    super(`status of ${key} changed while the tick ran (409); re-reading`);
    this.name = 'StatusConflict';
  }
}

function phaseMessage(s: RolloutStatus, steps: number): string {
  const { currentStep = 0, canaryWeight = 0, effectiveWeight = 0, canaryRevision = '', stableRevision = 'unknown' } = s;
  const weights = `canary weight ${canaryWeight}% asked, ${effectiveWeight}% given`;
  const where = `step ${stepLabel(currentStep, steps)}, ${weights}`;
  const messages: Record<string, string> = {
    Idle: `no canary; stable revision ${stableRevision}`,
    Progressing: `canary ${canaryRevision} at ${where}`,
    Paused: `paused at ${where}`,
    Promoting: `promoting canary ${canaryRevision}: primary rolls out its template`,
    Succeeded: `canary ${canaryRevision} promoted; primary runs it`,
    RolledBack: `canary ${canaryRevision} rolled back; it stays so until the next template change`,
  };
  return messages[s.phase ?? 'Idle'] ?? String(s.phase);
}

function progressingCondition(ctx: TickContext): void {
  const phase = ctx.next.phase ?? 'Idle';
  const active = phase === 'Progressing' || phase === 'Paused' || phase === 'Promoting';
  condition(ctx, 'Progressing', active, {
    reason: phase,
    message: phaseMessage(ctx.next, stepsOf(ctx) ?? 0),
  });
}

/** The current step's kind as people read it, while a rollout is at a step (status.stage). */
function stageOf(ctx: TickContext): string | undefined {
  const { phase, currentStep } = ctx.next;
  if (phase !== 'Progressing' && phase !== 'Paused') return undefined;
  if (currentStep === undefined || !ctx.policy) return undefined;
  if (ctx.policy.spec.blueGreen) return stageText(stepPlan(ctx.policy.spec, currentStep));
  const step = ctx.policy.spec.steps[currentStep];
  return step ? describeStep(step) : undefined;
}

/** The write fence's claim this tick holds (fence.ts) stays shown, whatever a stage rebuilt status from. */
function showClaim(ctx: TickContext): void {
  if (ctx.claim) ctx.next.shardOwner = ctx.claim;
}

/** Conditions every tick sets the same way, so that an unchanged tick writes nothing. */
function settle(ctx: TickContext): RolloutStatus {
  // an owner acts: the policy is no longer without one (src/runtime/controller/stale.ts wrote Stale=True)
  if (conditionOf(ctx.next, 'Stale')) ctx.next.conditions = ctx.next.conditions?.filter((c) => c.type !== 'Stale');
  showClaim(ctx);
  if (ctx.policy && ctx.next.phase) progressingCondition(ctx);
  if (!ctx.degraded && ctx.policy && ctx.next.phase)
    condition(ctx, 'Degraded', false, { reason: 'AsExpected', message: 'nothing degraded' });
  ctx.next.observedGeneration = ctx.raw.metadata?.generation ?? 0;
  if (ctx.policy && ctx.next.currentStep !== undefined) ctx.next.step = stepLabel(ctx.next.currentStep, stepsOf(ctx));
  ctx.next.stage = stageOf(ctx);
  return compact(ctx.next);
}

/**
 * The status stage: one write of the status subresource, only when something shown changed
 * (a check read again with the same result is not: status.checks keeps when a reading changed),
 * guarded by the resourceVersion read at the start of the tick (409 → StatusConflict). Then the
 * consumed override annotation is removed (a merge patch, guarded the same way).
 */
export async function writeStatus(ctx: TickContext): Promise<void> {
  const next = settle(ctx);
  const { kube, deps, crash } = ctx.shared;
  if (!sameStatus(next, compact(ctx.status))) {
    try {
      ctx.raw = await kube.writePolicyStatus(ctx.raw, next);
      ctx.shared.conflicts.note(keyString(ctx.key), deps.clock.now(), false);
    } catch (error) {
      if (!isConflict(error)) throw error;
      ctx.shared.conflicts.note(keyString(ctx.key), deps.clock.now(), true);
      throw new StatusConflict(keyString(ctx.key));
    }
  }
  crash('after-status');
  if (ctx.removeOverride) {
    try {
      ctx.raw = await kube.patchPolicyMetadata(ctx.raw, { annotations: { [OVERRIDE_ANNOTATION]: null } });
    } catch (error) {
      // A newer override was set meanwhile: the next tick reads it (and this one is recorded in status).
      if (!isConflict(error)) throw error;
    }
  }
  deps.observer.phase(keyString(ctx.key), next.phase ?? null);
}
