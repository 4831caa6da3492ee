import { errorLine } from '../../adapters/kube/errors.js';
import type { Decision } from '../../pipeline/decide/decision.js';
import { EventRecorder } from '../../pipeline/record/events.js';
import type { RecorderHealth } from '../../pipeline/record/recorder.js';
import { condition } from './conditions.js';
import { isoAt, stop, type Stop, type TickContext } from './context.js';
import { policyRefOf, subjects } from './record.js';
import { conditionOf } from './status.js';
import { keyString } from '../../adapters/kube/names.js';

const HEALTHY_REASON = 'AuditHealthy';

const gated = (decision: Decision | undefined): decision is Decision =>
  decision?.action === 'advance' || decision?.action === 'promote';

/**
 * The audit gate, before the record stage: an advance or promote is not applied (nor recorded, nor
 * announced by an Event) while the recorder says it cannot keep the trail: store down, chain broken
 * (a corrupt or foreign segment), SIEM backlog past its bound. Pause and rollback pass: safety first.
 */
export async function auditGate(ctx: TickContext): Promise<Stop | undefined> {
  const recorder = ctx.shared.deps.recorder;
  const decision = ctx.decision;
  if (!gated(decision) || !recorder.checkHealth || ctx.policy?.spec.mode === 'shadow') return undefined;
  ctx.auditHealth = await recorder.checkHealth(policyRefOf(ctx));
  if (ctx.auditHealth.healthy) return undefined;
  ctx.log.warn(
    { action: decision.action, reason: ctx.auditHealth.reason },
    `${decision.action} not applied: ${ctx.auditHealth.message}`,
  );
  return stop(`${decision.action} not applied: ${ctx.auditHealth.message}`, ctx.intervalMs);
}

/** This tick's view of the recorder: read fresh while it was unhealthy (so that a repair lifts the condition). */
async function currentHealth(ctx: TickContext): Promise<RecorderHealth | undefined> {
  const recorder = ctx.shared.deps.recorder;
  if (ctx.auditHealth) return ctx.auditHealth;
  const known = recorder.health?.(policyRefOf(ctx));
  const shownUnhealthy = conditionOf(ctx.status, 'AuditHealthy')?.status === 'False';
  if (recorder.checkHealth && (shownUnhealthy || (known && !known.healthy)))
    return recorder.checkHealth(policyRefOf(ctx));
  return known;
}

/** An Event when the audit trail's state changes reason: the breakage (Warning) or the recovery. */
async function announce(ctx: TickContext, health: RecorderHealth): Promise<void> {
  const before = conditionOf(ctx.status, 'AuditHealthy');
  const changed = health.healthy ? before?.status === 'False' : before?.reason !== health.reason;
  if (!changed) return;
  // The Event's reason comes from the rule: audit-chain-broken → AuditChainBroken.
  const rule = health.healthy
    ? 'audit-recovered'
    : health.reason.replace(/[A-Z]/g, (c, i: number) => `${i > 0 ? '-' : ''}${c.toLowerCase()}`);
  const message = health.healthy ? `audit trail healthy again: ${health.message}` : health.message;
  await emitEvent(ctx, rule, message);
}

/** An Event on the policy and its target about the controller's own state (nothing waits on it). */
export async function emitEvent(ctx: TickContext, rule: string, message: string): Promise<void> {
  const record = {
    kind: 'event' as const,
    time: isoAt(ctx.now),
    policy: policyRefOf(ctx),
    message,
    controller: ctx.shared.deps.identity,
    decision: {
      action: 'hold' as const,
      reasons: [{ rule, message }],
      step: ctx.next.currentStep ?? 0,
      nextStep: null,
    },
  };
  try {
    await new EventRecorder(ctx.shared.kube, subjects(ctx), ctx.shared.deps.identity).record(record);
  } catch (error) {
    ctx.log.warn({ rule, error: errorLine(error) }, 'Event not created');
  }
}

/** A head the recorder stored after this tick's receipt (a late entry): status.audit follows it, never back. */
function showHead(ctx: TickContext, newest: RecorderHealth['head']): void {
  if (newest && newest.seq > (ctx.next.audit?.seq ?? -1)) ctx.next.audit = { ...ctx.next.audit, ...newest };
}

/**
 * After every tick of a valid policy: the recorder's health as the AuditHealthy condition (and
 * Degraded when nothing else degraded it), an Event when it changes, and the operator's metric.
 */
export async function showAuditHealth(ctx: TickContext): Promise<void> {
  if (!ctx.policy || !ctx.raw.metadata?.uid) return;
  const health = await currentHealth(ctx);
  if (!health) return;
  await announce(ctx, health);
  condition(ctx, 'AuditHealthy', health.healthy, {
    reason: health.healthy ? HEALTHY_REASON : health.reason,
    message: health.message,
  });
  if (!health.healthy && !ctx.degraded)
    condition(ctx, 'Degraded', true, { reason: health.reason, message: health.message });
  showHead(ctx, health.head);
  ctx.shared.deps.observer.audit?.(keyString(ctx.key), {
    healthy: health.healthy,
    reason: health.reason,
    backlog: health.backlog ?? 0,
  });
}
