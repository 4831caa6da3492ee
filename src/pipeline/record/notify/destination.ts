import type { KubeClients } from '../../../adapters/kube/clients.js';
import { policyPath } from '../../../adapters/kube/names.js';
import type { NotifierKind } from '../../policy/schema-notifications.js';
import type { PolicySpec } from '../../policy/schema.js';
import type { NotificationEvent } from '../../policy/vocabulary.js';
import type { PolicyRef } from '../recorder.js';
import type { NamespacedSecretRef } from '../audit/webhook/destination.js';

/** One destination of a policy's notifications, its Secrets resolved to their namespace. */
export interface NotifyDestination {
  /** Unique per policy (the operator-wide ones are `default-slack`, `default-teams`, `default-webhook`): in status, logs and metrics, never the URL. */
  name: string;
  kind: NotifierKind;
  url: { value: string } | { secretRef: NamespacedSecretRef };
  /** The generic webhook's Standard Webhooks secret(s). */
  signingSecretRef?: NamespacedSecretRef;
  on?: readonly NotificationEvent[];
  template?: string;
}

type Entry = NonNullable<PolicySpec['notifications']>[number];

function destinationOf(namespace: string, entry: Entry): NotifyDestination {
  const common = {
    name: entry.name,
    ...(entry.on ? { on: entry.on } : {}),
    ...(entry.template ? { template: entry.template } : {}),
  };
  if (entry.slack) return { ...common, kind: 'slack', url: { secretRef: { namespace, ...entry.slack.urlSecretRef } } };
  if (entry.teams) return { ...common, kind: 'teams', url: { secretRef: { namespace, ...entry.teams.urlSecretRef } } };
  const webhook = entry.webhook!;
  return {
    ...common,
    kind: 'webhook',
    url: webhook.url !== undefined ? { value: webhook.url } : { secretRef: { namespace, ...webhook.urlSecretRef! } },
    signingSecretRef: { namespace, ...webhook.secretRef },
  };
}

/** A policy's spec.notifications as destinations (its Secrets in the policy's namespace). */
export function policyNotifications(policy: PolicyRef, spec: PolicySpec['notifications']): NotifyDestination[] {
  return (spec ?? []).map((entry) => destinationOf(policy.namespace, entry));
}

/** Reads a policy's spec.notifications from the cluster (the Recorder seam carries no spec). */
export async function readPolicyNotifications(
  clients: KubeClients,
  policy: PolicyRef,
): Promise<PolicySpec['notifications']> {
  const object = (await clients.custom.getNamespacedCustomObject(policyPath(policy.namespace, policy.name))) as {
    spec?: { notifications?: PolicySpec['notifications'] };
  };
  return object.spec?.notifications;
}

/** The cursor key of a destination in the policy's delivery-cursor ConfigMap. */
export const notifyCursorKey = (destination: Pick<NotifyDestination, 'name'>): string => `notify.${destination.name}`;
