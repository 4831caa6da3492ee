import type { Destination, NamespacedSecretRef } from '../../pipeline/record/audit/webhook/destination.js';
import { hasUserinfo } from '../../pipeline/policy/urls.js';
import { WEBHOOK_FORMATS, type WebhookFormat } from '../../pipeline/policy/vocabulary.js';
import type { OptionSpecs } from './args.js';
import { UsageError } from './usage-error.js';

/**
 * `kubestead run`'s operator-wide SIEM destination: every policy's chain goes there, besides its own
 * spec.audit.webhook.
 */
export const WEBHOOK_OPTIONS = {
  'audit-webhook': {
    type: 'string',
    value: 'URL',
    description: "send every policy's audit entries to this http(s) endpoint too (operator-wide SIEM)",
  },
  'audit-webhook-format': {
    type: 'string',
    value: 'FORMAT',
    description: `its body format: ${WEBHOOK_FORMATS.join(', ')} (default json)`,
  },
  'audit-webhook-secret': {
    type: 'string',
    value: 'NS/NAME/KEY',
    description: 'the Secret key holding its Standard Webhooks signing secret(s) (required with --audit-webhook)',
  },
  'audit-webhook-token': {
    type: 'string',
    value: 'NS/NAME/KEY',
    description: 'the Secret key holding a Splunk HEC token or Elasticsearch API key',
  },
  'audit-backlog-limit': {
    type: 'string',
    value: 'N',
    description: 'undelivered SIEM entries per policy past which advance and promote are refused (default 1000)',
  },
} as const satisfies OptionSpecs;

type WebhookValues = { [K in keyof typeof WEBHOOK_OPTIONS]?: string };

/** The destination the flags name, or undefined without --audit-webhook; a flag that cannot work is bad input. */
export function webhookFromFlags(values: WebhookValues): Destination | undefined {
  const url = values['audit-webhook'];
  if (url === undefined) {
    const stray = (['audit-webhook-format', 'audit-webhook-secret', 'audit-webhook-token'] as const).find(
      (flag) => values[flag] !== undefined,
    );
    if (stray) throw new UsageError(`--${stray} needs --audit-webhook URL`);
    return undefined;
  }
  if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url))
    throw new UsageError('--audit-webhook: expected an http(s) URL');
  if (hasUserinfo(url))
    throw new UsageError('--audit-webhook: credentials in the URL are refused; use --audit-webhook-token (a Secret)');
  const format = formatOf(values['audit-webhook-format']);
  const secret = values['audit-webhook-secret'];
  if (secret === undefined)
    throw new UsageError('--audit-webhook needs --audit-webhook-secret NS/NAME/KEY (the signing secret)');
  const token = values['audit-webhook-token'];
  if (format === 'splunk' && token === undefined)
    throw new UsageError('--audit-webhook-format splunk needs --audit-webhook-token NS/NAME/KEY (the HEC token)');
  return {
    url,
    format,
    secretRef: secretRefOf('--audit-webhook-secret', secret),
    ...(token === undefined ? {} : { tokenSecretRef: secretRefOf('--audit-webhook-token', token) }),
  };
}

/** --audit-backlog-limit: a whole number of entries, or undefined for the recorder's default. */
export function backlogLimitFromFlags(values: WebhookValues): number | undefined {
  const text = values['audit-backlog-limit'];
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,8}$/.test(text))
    throw new UsageError(
      `--audit-backlog-limit: expected a whole number of entries, 1 or more, got ${JSON.stringify(text)}`,
    );
  return Number(text);
}

function formatOf(text: string | undefined): WebhookFormat {
  const format = text ?? 'json';
  if (!(WEBHOOK_FORMATS as readonly string[]).includes(format))
    throw new UsageError(
      `--audit-webhook-format: expected one of ${WEBHOOK_FORMATS.join(', ')}, got ${JSON.stringify(format)}`,
    );
  return format as WebhookFormat;
}

export function secretRefOf(flag: string, text: string): NamespacedSecretRef {
  const [namespace, name, key, ...rest] = text.split('/');
  if (!namespace || !name || !key || rest.length)
    throw new UsageError(`${flag}: expected NAMESPACE/SECRET/KEY, got ${JSON.stringify(text)}`);
  return { namespace, name, key };
}
