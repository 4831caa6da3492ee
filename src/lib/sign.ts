import { Webhook } from 'standardwebhooks';

/**
 * Standard Webhooks signing, shared by every signed delivery: the audit log's SIEM webhook and the policy's webhooks
 * (docs/audit.md, docs/webhooks.md).
 */

/** The secrets of a Secret value: one, or two during rotation, separated by whitespace. */
export function signingSecrets(value: string): string[] {
  const secrets = value.split(/\s+/).filter(Boolean);
  if (secrets.length === 0 || secrets.length > 2)
    throw new Error(`a webhook secret holds one or two secrets, got ${secrets.length}`);
  return secrets;
}

/**
 * Standard Webhooks headers: webhook-id (the idempotency key), webhook-timestamp (seconds) and
 * webhook-signature (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, one per secret).
 */
export function signedHeaders(id: string, nowMs: number, body: string, secrets: string[]): Record<string, string> {
  const at = new Date(Math.floor(nowMs / 1000) * 1000);
  const signatures = secrets.map((secret) => new Webhook(secret).sign(id, at, body));
  return {
    'webhook-id': id,
    'webhook-timestamp': String(at.getTime() / 1000),
    'webhook-signature': signatures.join(' '),
  };
}
