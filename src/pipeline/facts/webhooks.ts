import type { Clock } from '../../lib/clock/clock.js';
import { callWebhook, type WebhookAnswer, type WebhookContext } from '../../adapters/webhooks/call.js';
import type { HttpClient } from '../../adapters/providers/http.js';
import type { SecretReader } from '../../adapters/secrets/reader.js';
import type { PolicySpec } from '../policy/schema.js';
import type { WebhookSpec } from '../policy/webhooks.js';
import type { StepPlan } from './steps.js';

/** Where a tick stands for its webhooks: the step, its plan and soak so far, and what already passed. */
export interface WebhookStage {
  step: number;
  plan: StepPlan;
  stepElapsedSeconds: number;
  /** The canary revision the memo belongs to: a new rollout asks everything again. */
  revision: string | null;
  /** What passed earlier in this rollout (status.webhooksPassed): `name` for preRollout, `name@step` for a gate. */
  passed: readonly string[];
}

const soaked = (s: WebhookStage): boolean => s.plan.soakSeconds !== null && s.stepElapsedSeconds >= s.plan.soakSeconds;

/** The memo key of a webhook that passed: once per rollout for preRollout, once per step for a gate. */
export function passKey(hook: WebhookSpec, s: Pick<WebhookStage, 'step' | 'revision'>): string {
  return `${s.revision ?? ''}/${hook.name}${hook.type === 'preRollout' ? '' : `@${s.step}`}`;
}

/**
 * The webhooks a tick asks (docs/webhooks.md, "Types"): preRollout on the first step until it passes; rollout and
 * rollback every tick; confirmRollout on the first step, confirmTrafficIncrease once a step before the last has soaked,
 * confirmPromotion once the last step has soaked, each until it opens at that step. postRollout is not asked here.
 */
export function webhooksToAsk(spec: PolicySpec, s: WebhookStage): WebhookSpec[] {
  const last = spec.steps.length - 1;
  const passed = new Set(s.passed);
  const due: Record<WebhookSpec['type'], () => boolean> = {
    preRollout: () => s.step === 0,
    rollout: () => true,
    rollback: () => true,
    confirmRollout: () => s.step === 0,
    confirmTrafficIncrease: () => s.step < last && soaked(s),
    confirmPromotion: () => s.step === last && soaked(s),
    postRollout: () => false,
  };
  return (spec.webhooks ?? []).filter((hook) => due[hook.type]() && !passed.has(passKey(hook, s)));
}

/** The memo after this tick's answers: this rollout's earlier passes, and the preRollout and gates that passed now. */
export function passedAfter(
  s: WebhookStage,
  asked: readonly WebhookSpec[],
  answers: Record<string, WebhookAnswer>,
): string[] {
  const mine = s.passed.filter((key) => key.startsWith(`${s.revision ?? ''}/`));
  const now = asked
    .filter((hook) => hook.type !== 'rollout' && hook.type !== 'rollback' && answers[hook.name]?.ok)
    .map((hook) => passKey(hook, s));
  return [...new Set([...mine, ...now])];
}

export interface WebhookRuntime {
  http: HttpClient;
  secrets: SecretReader;
  clock: Clock;
  signal?: AbortSignal;
}

/** Asks this tick's webhooks at once; each answer (never an exception) becomes the fact `webhooks.<name>`. */
export async function askWebhooks(
  spec: PolicySpec,
  stage: WebhookStage,
  ctx: WebhookContext,
  runtime: WebhookRuntime,
): Promise<{ answers: Record<string, WebhookAnswer>; passed: string[] }> {
  const asked = webhooksToAsk(spec, stage);
  const answers = await Promise.all(asked.map((hook) => callWebhook(hook, ctx, runtime, runtime.signal)));
  const byName = Object.fromEntries(asked.map((hook, i) => [hook.name, answers[i]!]));
  return { answers: byName, passed: passedAfter(stage, asked, byName) };
}
