import { NOTIFICATION_EVENTS, type NotificationEvent } from '../../pipeline/policy/vocabulary.js';
import type { NotifyDestination } from '../../pipeline/record/notify/destination.js';
import type { OptionSpecs } from './args.js';
import { secretRefOf } from './run-webhook.js';
import { UsageError } from './usage-error.js';

/**
 * `kubestead run`'s operator-wide notification destinations: every policy without its own spec.notifications
 * uses them (docs/notifications.md). URLs come from Secret keys only: Slack's and Teams' carry tokens.
 */
export const NOTIFY_OPTIONS = {
  'notify-slack': {
    type: 'string',
    value: 'NS/NAME/KEY',
    description: 'the Secret key holding a Slack incoming-webhook URL: the default for policies without notifications',
  },
  'notify-teams': {
    type: 'string',
    value: 'NS/NAME/KEY',
    description: 'the Secret key holding a Teams Workflows webhook URL (the same default)',
  },
  'notify-webhook': {
    type: 'string',
    value: 'NS/NAME/KEY',
    description: 'the Secret key holding a generic webhook URL (the same default; needs --notify-webhook-signing)',
  },
  'notify-webhook-signing': {
    type: 'string',
    value: 'NS/NAME/KEY',
    description: 'the Secret key holding its Standard Webhooks signing secret(s), whsec_…',
  },
  'notify-events': {
    type: 'string',
    value: 'EVENTS',
    description: 'comma-separated events the default destinations get (default: every event)',
  },
} as const satisfies OptionSpecs;

type NotifyValues = { [K in keyof typeof NOTIFY_OPTIONS]?: string };

function eventsOf(text: string | undefined): { on?: NotificationEvent[] } {
  if (text === undefined) return {};
  const on = text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const unknown = on.find((e) => !(NOTIFICATION_EVENTS as readonly string[]).includes(e));
  if (unknown !== undefined || on.length === 0)
    throw new UsageError(
      `--notify-events: expected events among ${NOTIFICATION_EVENTS.join(', ')}, got ${JSON.stringify(unknown ?? text)}`,
    );
  return { on: on as NotificationEvent[] };
}

/** The default destinations the flags name (`default-slack`, `default-teams`, `default-webhook`); bad flags are bad input. */
export function notifyDefaultsFromFlags(values: NotifyValues): NotifyDestination[] {
  const common = eventsOf(values['notify-events']);
  const out: NotifyDestination[] = [];
  for (const kind of ['slack', 'teams'] as const) {
    const text = values[`notify-${kind}`];
    if (text !== undefined)
      out.push({ name: `default-${kind}`, kind, url: { secretRef: secretRefOf(`--notify-${kind}`, text) }, ...common });
  }
  const webhook = values['notify-webhook'];
  const signing = values['notify-webhook-signing'];
  if (webhook === undefined && signing !== undefined)
    throw new UsageError('--notify-webhook-signing needs --notify-webhook NS/NAME/KEY');
  if (webhook !== undefined) {
    if (signing === undefined)
      throw new UsageError('--notify-webhook needs --notify-webhook-signing NS/NAME/KEY (the signing secret)');
    out.push({
      name: 'default-webhook',
      kind: 'webhook',
      url: { secretRef: secretRefOf('--notify-webhook', webhook) },
      signingSecretRef: secretRefOf('--notify-webhook-signing', signing),
      ...common,
    });
  }
  if (out.length === 0 && values['notify-events'] !== undefined)
    throw new UsageError('--notify-events needs --notify-slack, --notify-teams or --notify-webhook');
  return out;
}
