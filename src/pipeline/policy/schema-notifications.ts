import { z } from 'zod';
import { strict } from './strict.js';
import { dnsLabel, doc, exactlyOne, httpUrl, secretRef } from './schema-parts.js';
import { NOTIFICATION_EVENTS } from './vocabulary.js';

export const NOTIFIER_KINDS = ['slack', 'teams', 'webhook'] as const;
export type NotifierKind = (typeof NOTIFIER_KINDS)[number];

const urlRef = (what: string, example: string) =>
  strict({ urlSecretRef: secretRef(`the ${what} URL (it carries a token)`, example) });

const webhookSchema = strict({
  url: httpUrl()
    .meta(
      doc(
        'The endpoint, when its address is no secret; otherwise `urlSecretRef`. Exactly one of the two.',
        'url: "https://pager.example/hooks/kubestead"',
      ),
    )
    .optional(),
  urlSecretRef: secretRef('the endpoint URL', '{name: hooks, key: generic}').optional(),
  secretRef: secretRef(
    'the Standard Webhooks signing secret (`whsec_…`; two separated by a space while rotating)',
    '{name: hooks, key: signing}',
  ),
}).superRefine((webhook, ctx) => {
  if ((webhook.url === undefined) === (webhook.urlSecretRef === undefined))
    ctx.addIssue({ code: 'custom', message: 'a webhook has exactly one of "url" or "urlSecretRef"' });
});

const notificationSchema = strict({
  name: dnsLabel.meta(
    doc(
      "The destination's name, unique in the list: in status, metrics and messages (never its URL).",
      'name: team-chat',
    ),
  ),
  slack: urlRef('Slack incoming-webhook', '{name: hooks, key: slack}')
    .meta(
      doc(
        'A Slack incoming webhook: Block Kit messages (`{"blocks": […]}` with a plain `text` fallback).',
        'slack: {urlSecretRef: {name: hooks, key: slack}}',
      ),
    )
    .optional(),
  teams: urlRef('Teams Workflows webhook', '{name: hooks, key: teams}')
    .meta(
      doc(
        'A Microsoft Teams Workflows webhook ("When a Teams webhook request is received"): an Adaptive Card.',
        'teams: {urlSecretRef: {name: hooks, key: teams}}',
      ),
    )
    .optional(),
  webhook: webhookSchema
    .meta(
      doc(
        'Any HTTP endpoint: a versioned JSON event (`kubestead.rollout.<event>`), signed as Standard Webhooks ' +
          '(`webhook-id` is the action id: a receiver drops repeats by it).',
        'webhook: {url: "https://pager.example/hooks/kubestead", secretRef: {name: hooks, key: signing}}',
      ),
    )
    .optional(),
  on: z
    .array(z.enum(NOTIFICATION_EVENTS).meta(doc('One event.', '- rolledBack')))
    .min(1)
    .meta(
      doc(
        `The events sent there (default: every event): ${NOTIFICATION_EVENTS.join(', ')}. \`rolledBack\` also ` +
          'selects progressDeadlineExceeded and metricUnavailable when they roll back.',
        'on: [promoted, rolledBack]',
      ),
    )
    .optional(),
  template: z
    .string()
    .min(1)
    .max(2000)
    .meta(
      doc(
        "A jsonata expression over the event that gives the message's text (default: the policy, the outcome, the " +
          'step and each value against its bound).',
        "template: \"policy.name & ' ' & type & ' at step ' & stepLabel\"",
      ),
    )
    .optional(),
})
  .superRefine((entry, ctx) => exactlyOne(entry, NOTIFIER_KINDS, 'destination kind', ctx))
  .meta(doc('One destination: exactly one of `slack`, `teams`, `webhook`, and which events go there.'));

export const notificationsSchema = z
  .array(notificationSchema)
  .meta(
    doc(
      'Chat and webhook notifications of what the rollout does, each sent once per action by the replica that ' +
        'leads (docs/notifications.md).',
      'notifications: [{name: team-chat, slack: {urlSecretRef: {name: hooks, key: slack}}, on: [promoted, rolledBack]}]',
    ),
  )
  .optional();
