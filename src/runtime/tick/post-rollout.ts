import { callWebhook, type WebhookContext } from '../../adapters/webhooks/call.js';
import type { TickContext } from './context.js';
import { recordEvent } from './record.js';

const ENDS = new Set(['Succeeded', 'RolledBack']);

/** The phase this tick ended the rollout in (promotion complete, or rolled back), if it did. */
function endedIn(ctx: TickContext): string | undefined {
  const phase = ctx.next.phase;
  return phase && ENDS.has(phase) && ctx.status.phase !== phase ? phase : undefined;
}

function bodyOf(ctx: TickContext, phase: string): WebhookContext {
  return {
    policy: ctx.key.name,
    namespace: ctx.key.namespace,
    phase,
    step: ctx.next.currentStep ?? 0,
    weight: phase === 'Succeeded' ? 100 : 0,
    canaryRevision: ctx.next.canaryRevision ?? null,
    stableRevision: ctx.next.stableRevision ?? null,
  };
}

/**
 * postRollout webhooks (docs/webhooks.md): asked once, on the tick that ends a rollout. Each answer is recorded as an
 * event; it changes nothing.
 */
export async function askPostRollout(ctx: TickContext): Promise<void> {
  const phase = endedIn(ctx);
  const hooks = (ctx.policy?.spec.webhooks ?? []).filter((hook) => hook.type === 'postRollout');
  const { metrics, secrets, clock } = ctx.shared.gather;
  if (!phase || !hooks.length || !clock) return;
  for (const hook of hooks) {
    const answer = await callWebhook(hook, bodyOf(ctx, phase), { http: metrics.http, secrets, clock }, ctx.signal);
    const outcome = answer.ok ? `answered HTTP ${answer.code ?? ''}` : `failed (${answer.error ?? 'no answer'})`;
    await recordEvent(ctx, 'post-rollout', `postRollout webhook ${hook.name} ${outcome} after ${phase}`);
  }
}
