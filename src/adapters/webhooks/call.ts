import { randomUUID } from 'node:crypto';
import type { Clock } from '../../lib/clock/clock.js';
import { signedHeaders, signingSecrets } from '../../lib/sign.js';
import { parseDuration } from '../../pipeline/policy/duration.js';
import type { WebhookSpec, WebhookType } from '../../pipeline/policy/webhooks.js';
import type { HttpClient } from '../providers/http.js';
import { scrub } from '../providers/provider.js';
import type { SecretReader } from '../secrets/reader.js';

/** Where the rollout stands, as a webhook's body tells it (docs/webhooks.md, "The call"). */
export interface WebhookContext {
  policy: string;
  namespace: string;
  phase: string;
  step: number;
  weight: number;
  canaryRevision: string | null;
  stableRevision: string | null;
}

/** One call's answer: the fact `webhooks.<name>` of the snapshot (src/pipeline/facts/snapshot.ts). */
export interface WebhookAnswer {
  type: WebhookType;
  ok: boolean;
  code: number | null;
  latencyMs: number;
  error?: string;
  excerpt?: string;
  deliveryId: string;
}

export interface WebhookDeps {
  http: HttpClient;
  secrets: SecretReader;
  clock: Clock;
  newId?: () => string;
}

/** The start of an answer's body in the snapshot: enough to say why, bounded (it lands in every audit entry). */
export const EXCERPT_CHARS = 256;

/** The JSON body of a call. */
export function webhookBody(hook: WebhookSpec, ctx: WebhookContext, deliveryId: string): string {
  return JSON.stringify({
    deliveryId,
    ...ctx,
    webhook: { name: hook.name, type: hook.type, metadata: hook.metadata ?? {} },
  });
}

/**
 * POSTs one webhook and says what it answered; never throws. A refused address, a timeout, a network error or a
 * non-2xx answer (after the client's retry) is `ok: false` with the reason; the signing key and the URL's query (it may
 * carry a token) never enter the answer.
 */
export async function callWebhook(
  hook: WebhookSpec,
  ctx: WebhookContext,
  deps: WebhookDeps,
  signal?: AbortSignal,
): Promise<WebhookAnswer> {
  const deliveryId = (deps.newId ?? randomUUID)();
  const started = deps.clock.now();
  const secrets: string[] = [];
  const answer = (rest: Omit<WebhookAnswer, 'type' | 'deliveryId' | 'latencyMs'>): WebhookAnswer => ({
    type: hook.type,
    deliveryId,
    latencyMs: Math.max(0, deps.clock.now() - started),
    ...rest,
    ...(rest.error ? { error: scrub(rest.error, secrets) } : {}),
  });
  try {
    const body = webhookBody(hook, ctx, deliveryId);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (hook.secretRef) {
      secrets.push(...signingSecrets(await deps.secrets.read(ctx.namespace, hook.secretRef)));
      Object.assign(headers, signedHeaders(deliveryId, deps.clock.now(), body, secrets));
    }
    const res = await deps.http.request(
      { url: new URL(hook.url), method: 'POST', headers, body },
      { timeoutMs: (parseDuration(hook.timeout) ?? 10) * 1000, ...(signal ? { signal } : {}) },
    );
    const ok = res.status >= 200 && res.status <= 299;
    const excerpt = excerptOf(scrub(res.body, secrets)); // scrubbed before it is cut: no part of a key survives
    return answer({
      ok,
      code: res.status,
      ...(ok ? {} : { error: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}` }),
      ...(excerpt ? { excerpt } : {}),
    });
  } catch (error) {
    return answer({ ok: false, code: null, error: (error as Error).message || String(error) });
  }
}

function excerptOf(body: string): string | undefined {
  const line = body.replace(/\s+/g, ' ').trim();
  if (!line) return undefined;
  return line.length > EXCERPT_CHARS ? `${line.slice(0, EXCERPT_CHARS - 1)}…` : line;
}
