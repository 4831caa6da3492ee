import { createHash } from 'node:crypto';
import type { KubeClients } from '../../../../adapters/kube/clients.js';
import type { PolicySpec } from '../../../policy/schema.js';
import type { PolicyRef } from '../../recorder.js';

import type { WebhookFormat } from '../../../policy/vocabulary.js';
import { policyPath } from '../../../../adapters/kube/names.js';

export { WEBHOOK_FORMATS, type WebhookFormat } from '../../../policy/vocabulary.js';

export interface NamespacedSecretRef {
  namespace: string;
  name: string;
  key: string;
}

/** Where a policy's entries go: the URL, the body format, the signing secret(s), an optional token. */
export interface Destination {
  url: string;
  format: WebhookFormat;
  /** The Secret key holds one Standard Webhooks secret (`whsec_…`), or two separated by a space (rotation). */
  secretRef: NamespacedSecretRef;
  /** Splunk HEC token or Elasticsearch API key, sent as `Authorization: Splunk …` / `ApiKey …`. */
  tokenSecretRef?: NamespacedSecretRef;
}

/** The cursor key of a destination (its URL's hash: URLs may not be ConfigMap keys). */
export function destinationKey(destination: Pick<Destination, 'url'>): string {
  return createHash('sha256').update(destination.url).digest('hex').slice(0, 16);
}

/** A destination without secrets, for logs and messages (no userinfo, no query). */
export function describeDestination(destination: Pick<Destination, 'url'>): string {
  const url = new URL(destination.url);
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * The policy's spec.audit.webhook as a destination (JSON unless it says otherwise; the Secrets in the policy's
 * namespace).
 */
export function policyDestination(policy: PolicyRef, audit: PolicySpec['audit']): Destination | null {
  const webhook = audit?.webhook;
  if (!webhook) return null;
  const { namespace } = policy;
  return {
    url: webhook.url,
    format: webhook.format ?? 'json',
    secretRef: { namespace, ...webhook.secretRef },
    ...(webhook.tokenSecretRef ? { tokenSecretRef: { namespace, ...webhook.tokenSecretRef } } : {}),
  };
}

/** Reads a policy's spec.audit from the cluster (the Recorder seam carries no spec). */
export async function readPolicyAudit(clients: KubeClients, policy: PolicyRef): Promise<PolicySpec['audit']> {
  const object = (await clients.custom.getNamespacedCustomObject(policyPath(policy.namespace, policy.name))) as {
    spec?: { audit?: PolicySpec['audit'] };
  };
  return object.spec?.audit;
}
