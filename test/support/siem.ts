/**
 * A SIEM for the reliability scenarios (rows 33, 34): the signing Secret `kubestead run` reads, and
 * what the local receiver (test/audit/receiver.ts) was given, checked as a SIEM would check it.
 */
import { Webhook } from 'standardwebhooks';
import { expect } from 'vitest';
import type { AuditEntry } from '../../src/pipeline/record/audit/entry.js';
import type { TestReceiver } from '../audit/receiver.js';

/** The Secret `siem` (key `hmac`) holding a Standard Webhooks signing secret, in `namespace`. */
export const siemSecretYaml = (namespace: string, secret: string): string => `apiVersion: v1
kind: Secret
metadata: {name: siem, namespace: ${namespace}}
type: Opaque
data: {hmac: ${Buffer.from(secret).toString('base64')}}
`;

/**
 * Every entry the receiver ingested, after dedupe by hash, in arrival order. Each request's
 * signature is checked, its `webhook-id` is the hash of its batch's last entry, and a `webhook-id`
 * seen twice carried the same batch byte for byte (a redelivery, never a different batch).
 */
export function deliveredEntries(receiver: TestReceiver, secret: string): AuditEntry[] {
  const byId = new Map<string, string>();
  const seen = new Map<string, AuditEntry>();
  for (const request of receiver.ingested) {
    const id = String(request.headers['webhook-id']);
    const batch = new Webhook(secret).verify(request.body, request.headers as Record<string, string>) as {
      entries: AuditEntry[];
    };
    expect(id, 'webhook-id: the hash of the batch’s last entry').toBe(batch.entries.at(-1)!.hash);
    expect(byId.get(id) ?? request.body, `webhook-id ${id} sent again with another body`).toBe(request.body);
    byId.set(id, request.body);
    for (const e of batch.entries) if (!seen.has(e.hash)) seen.set(e.hash, e);
  }
  return [...seen.values()];
}
