import type { NotifierKind } from '../../pipeline/policy/schema-notifications.js';
import { breached, headline, readingText, type RolloutEvent } from './event.js';

/** A request body for one destination kind. */
export interface NotificationBody {
  body: string;
  contentType: string;
}

const fields = (event: RolloutEvent) => ({
  policy: `${event.policy.namespace}/${event.policy.name}`,
  step: event.stepLabel,
  weight: event.weight === null ? '–' : `${event.weight}%`,
});

const checkLine = (name: string, event: RolloutEvent): string => {
  const reading = event.checks[name]!;
  return `${breached(reading) ? '✗' : '✓'} ${name}: ${readingText(reading)}`;
};

/** Slack Block Kit (https://api.slack.com/block-kit), with `text` as the notification's plain fallback. */
export function slackBody(event: RolloutEvent, text: string): NotificationBody {
  const f = fields(event);
  const checks = Object.keys(event.checks).map((name) => checkLine(name, event));
  const blocks = [
    { type: 'header', text: { type: 'plain_text', text: `${f.policy} ${headline(event)}`.slice(0, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3000) } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Step*\n${f.step}` },
        { type: 'mrkdwn', text: `*Weight*\n${f.weight}` },
        ...(event.revision ? [{ type: 'mrkdwn', text: `*Revision*\n${event.revision}` }] : []),
        ...(event.actor ? [{ type: 'mrkdwn', text: `*By*\n${event.actor}` }] : []),
      ],
    },
    ...(checks.length ? [{ type: 'section', text: { type: 'mrkdwn', text: checks.join('\n').slice(0, 3000) } }] : []),
    { type: 'context', elements: [{ type: 'mrkdwn', text: `kubestead · ${event.time} · ${event.id}` }] },
  ];
  return { body: JSON.stringify({ text, blocks }), contentType: 'application/json' };
}

/** A Teams message for a Workflows webhook: one Adaptive Card (schema 1.4). */
export function teamsBody(event: RolloutEvent, text: string): NotificationBody {
  const f = fields(event);
  const card = {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.4',
    body: [
      { type: 'TextBlock', size: 'Medium', weight: 'Bolder', wrap: true, text: `${f.policy} ${headline(event)}` },
      { type: 'TextBlock', wrap: true, text },
      {
        type: 'FactSet',
        facts: [
          { title: 'Step', value: f.step },
          { title: 'Weight', value: f.weight },
          ...(event.revision ? [{ title: 'Revision', value: event.revision }] : []),
          ...(event.actor ? [{ title: 'By', value: event.actor }] : []),
          ...Object.keys(event.checks).map((name) => ({ title: name, value: readingText(event.checks[name]!) })),
        ],
      },
    ],
  };
  const message = {
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
  };
  return { body: JSON.stringify(message), contentType: 'application/json' };
}

/** The generic webhook: the event itself, with the text (signed by the caller). */
export function webhookBody(event: RolloutEvent, text: string): NotificationBody {
  return { body: JSON.stringify({ ...event, text }), contentType: 'application/json' };
}

export const BODIES: Record<NotifierKind, (event: RolloutEvent, text: string) => NotificationBody> = {
  slack: slackBody,
  teams: teamsBody,
  webhook: webhookBody,
};
