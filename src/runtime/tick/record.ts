import { errorLine } from '../../adapters/kube/errors.js';
import type { V1ObjectReference } from '@kubernetes/client-node';
import type { Decision } from '../../pipeline/decide/decision.js';
import { stepPlan } from '../../pipeline/facts/steps.js';
import { EventRecorder } from '../../pipeline/record/events.js';
import { fanOutRecorder } from '../../pipeline/record/fanout.js';
import { logRecorder } from '../../pipeline/record/log.js';
import type { DecisionRecord, PolicyRef, RecordKind, RecordReceipt, Recorder } from '../../pipeline/record/recorder.js';
import { condition } from './conditions.js';
import { generationOf, isoAt, stop, type Stop, type TickContext, stepsOf } from './context.js';
import { POLICY_RESOURCE } from '../../adapters/kube/names.js';
import { stepLabel } from '../../pipeline/policy/vocabulary.js';
import { winningReasons } from '../../pipeline/decide/winning.js';

export function subjects(ctx: TickContext): { policy: V1ObjectReference; target?: V1ObjectReference } {
  const meta = ctx.raw.metadata ?? {};
  const policy = {
    apiVersion: POLICY_RESOURCE.apiVersion,
    kind: POLICY_RESOURCE.kind,
    namespace: ctx.key.namespace,
    name: ctx.key.name,
    uid: meta.uid,
    resourceVersion: meta.resourceVersion,
  };
  const t = ctx.target?.metadata;
  return t
    ? {
        policy,
        target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: t.namespace, name: t.name, uid: t.uid },
      }
    : { policy };
}

const RECORDERS = ['recorder', 'log', 'events'];

/**
 * The tick's recorder: the operator's recorder (the audit chain, write-ahead) first, then the
 * controller's log, then Events on the policy and the Deployment.
 */
function recorderOf(ctx: TickContext): Recorder {
  const { kube, deps } = ctx.shared;
  const log = logRecorder(deps.logger, stepsOf(ctx));
  return fanOutRecorder(
    [deps.recorder, log, new EventRecorder(kube, subjects(ctx), deps.identity)],
    (i) => RECORDERS[i] ?? 'recorder',
  );
}

/** The policy a record of this tick is about (the generation the decision was made for). */
export const policyRefOf = (ctx: TickContext): PolicyRef => ({
  namespace: ctx.key.namespace,
  name: ctx.key.name,
  uid: ctx.raw.metadata?.uid ?? '',
  generation: generationOf(ctx),
});

export function entry(
  ctx: TickContext,
  kind: RecordKind,
  decision: Decision,
  said: { message: string; actor?: string },
): DecisionRecord {
  const { message, actor } = said;
  return {
    kind,
    time: isoAt(ctx.now),
    decision,
    message,
    controller: ctx.shared.deps.identity,
    policy: policyRefOf(ctx),
    ...(ctx.gathered ? { snapshot: ctx.gathered.snapshot } : {}),
    ...(actor !== undefined ? { actor } : {}),
    ...(ctx.next.canaryRevision !== undefined ? { revision: ctx.next.canaryRevision } : {}),
  };
}

/** Stores a record through every recorder; the receipt (audit head) goes to status. */
export async function store(ctx: TickContext, record: DecisionRecord): Promise<RecordReceipt> {
  const receipt = await recorderOf(ctx).record(record);
  const { head, seq } = receipt;
  if (head !== undefined || seq !== undefined)
    ctx.next.audit = {
      ...ctx.next.audit,
      ...(head !== undefined ? { head } : {}),
      ...(seq !== undefined ? { seq } : {}),
    };
  // A receipt may name a rollback report (the audit recorder's); status shows the newest.
  const report = (receipt as { report?: unknown }).report;
  if (typeof report === 'string') ctx.next.report = report;
  return receipt;
}

/**
 * A controller event that is no decision (adopted, canary started, scaled, handed back, invalid
 * policy): recorded, but nothing waits on it; a refusal is logged and shown as Degraded.
 */
export async function recordEvent(ctx: TickContext, rule: string, message: string): Promise<boolean> {
  const step = ctx.next.currentStep ?? 0;
  const decision: Decision = { action: 'hold', reasons: [{ rule, message }], step, nextStep: null };
  try {
    await store(ctx, entry(ctx, 'event', decision, { message }));
    return true;
  } catch (error) {
    ctx.log.warn({ rule, error: errorLine(error) }, 'record refused');
    condition(ctx, 'Degraded', true, {
      reason: 'RecordRefused',
      message: `could not record "${message}": ${(error as Error).message}`,
    });
    return false;
  }
}

/** The one-line summary of a decision, with its values: `rolled back: error-rate = 0.4 is above max 0.05`. */
export function decisionMessage(ctx: TickContext, decision: Decision): string {
  const why = winningReasons(ctx.compiled, decision)
    .map((r) => r.message)
    .join('; ');
  const weight = decision.nextStep !== null && ctx.policy ? stepPlan(ctx.policy.spec, decision.nextStep).weight : null;
  switch (decision.action) {
    case 'advance':
      return (
        `advanced to step ` +
        `${decision.nextStep === null ? '?' : stepLabel(decision.nextStep, stepsOf(ctx))} (weight ` +
        `${weight ?? '?'}%): ${why}`
      );
    case 'promote':
      return `promoted: ${why}`;
    case 'pause':
      return `paused: ${why}`;
    case 'rollback':
      return `rolled back: ${why}`;
    case 'hold':
      return `holding: ${why}`;
    default: {
      const unknown: never = decision.action;
      return String(unknown);
    }
  }
}

/** Whether a decision changes anything (a hold never does; a pause only when not paused yet). */
export function changesSomething(ctx: TickContext, decision: Decision): boolean {
  if (decision.action === 'hold') return false;
  if (decision.action === 'pause') return ctx.status.phase !== 'Paused' || ctx.override?.action === 'pause';
  return true;
}

/**
 * The record phase: an override and a decision that changes something pass through the recorders
 * before anything is applied. Write-ahead: an advance or promote whose record is refused is not
 * applied; a pause or rollback goes ahead, the gap shown as Degraded.
 */
export async function recordDecision(ctx: TickContext): Promise<Stop | undefined> {
  const decision = ctx.decision;
  if (!decision) return undefined;
  const shadow = ctx.policy?.spec.mode === 'shadow';
  try {
    if (ctx.override)
      await store(
        ctx,
        entry(ctx, 'override', decision, {
          message: `${ctx.override.action} by ${ctx.override.actor}`,
          actor: ctx.override.actor,
        }),
      );
    if (changesSomething(ctx, decision)) {
      const message = decisionMessage(ctx, decision);
      ctx.receipt = await store(
        ctx,
        entry(ctx, shadow ? 'shadow' : 'decision', decision, { message: shadow ? `would have ${message}` : message }),
      );
    }
  } catch (error) {
    const why = `record refused: ${(error as Error).message}`;
    condition(ctx, 'Degraded', true, { reason: 'RecordRefused', message: why });
    if (decision.action === 'advance' || decision.action === 'promote')
      return stop(`${decision.action} not applied: ${why}`, ctx.intervalMs);
    ctx.log.warn({ action: decision.action, error: errorLine(error) }, 'record refused; applying anyway');
  }
  ctx.shared.crash('after-record');
  return undefined;
}
