import { createHash } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { PolicySpec } from '../../../policy/schema.js';
import type { PolicyRef } from '../../recorder.js';
import { SecretUnavailableError, type SecretReader } from '../../../../adapters/secrets/reader.js';
import { POLICY_API } from '../export.js';

import type { WebhookFormat } from '../../../policy/vocabulary.js';

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

/** The policy's spec.audit.webhook as a destination (JSON unless it says otherwise; the Secrets in the policy's namespace). */
export function policyDestination(policy: PolicyRef, audit: PolicySpec['audit']): Destination | null {
  const webhook = audit?.webhook;
  if (!webhook) return null;
  const { namespace } = policy;
  return {
    url: webhook.url, format: webhook.format ?? 'json', secretRef: { namespace, ...webhook.secretRef },
    ...(webhook.tokenSecretRef ? { tokenSecretRef: { namespace, ...webhook.tokenSecretRef } } : {}),
  };
}

/** Reads a policy's spec.audit from the cluster (the Recorder seam carries no spec). */
export async function readPolicyAudit(kubeConfig: KubeConfig, policy: PolicyRef): Promise<PolicySpec['audit']> {
  const object = (await kubeConfig.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ ...POLICY_API, namespace: policy.namespace, name: policy.name })) as { spec?: { audit?: PolicySpec['audit'] } };
  return object.spec?.audit;
}

/** A SecretReader over the Kubernetes API (one key of one Secret); errors never carry the value. */
export function kubeSecretReader(kubeConfig: KubeConfig): SecretReader {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return {
    async read(namespace, ref) {
      let data: Record<string, string> | undefined;
      try {
        data = (await core.readNamespacedSecret({ name: ref.name, namespace })).data;
      } catch (error) {
        throw new SecretUnavailableError(namespace, ref, `cannot be read (${(error as { code?: number }).code ?? 'no answer'})`);
      }
      const encoded = data?.[ref.key];
      if (encoded === undefined) throw new SecretUnavailableError(namespace, ref, 'no such key');
      return Buffer.from(encoded, 'base64').toString('utf8');
    },
  };
}
