import type { AuditEntry } from '../entry.js';
import type { WebhookFormat } from './destination.js';

/** The request body of a batch, in the destination's format; entries in chain order. */
export function batchBody(format: WebhookFormat, entries: AuditEntry[]): { body: string; contentType: string } {
  switch (format) {
    case 'json':
      return { body: JSON.stringify({ source: 'kubestead', entries }), contentType: 'application/json' };
    case 'splunk':
      // HEC event endpoint: events concatenated; `time` in epoch seconds.
      return {
        body: entries
          .map((e) =>
            JSON.stringify({
              time: Date.parse(e.time) / 1000,
              host: e.controller,
              source: 'kubestead',
              sourcetype: 'kubestead:audit',
              event: e,
            }),
          )
          .join('\n'),
        contentType: 'application/json',
      };
    case 'elasticsearch':
      // _bulk with `create` and the entry hash as _id: a redelivered entry is a 409 for that item, not a copy.
      return {
        body: entries.map((e) => `${JSON.stringify({ create: { _id: e.hash } })}\n${JSON.stringify(e)}\n`).join(''),
        contentType: 'application/x-ndjson',
      };
    default: {
      const unknownFormat: never = format;
      throw new Error(`unknown webhook format ${String(unknownFormat)}`);
    }
  }
}

/** Authorization header for the formats that take a token. */
export function authorization(format: WebhookFormat, token: string | undefined): Record<string, string> {
  if (token === undefined) return {};
  return {
    authorization:
      format === 'splunk' ? `Splunk ${token}` : format === 'elasticsearch' ? `ApiKey ${token}` : `Bearer ${token}`,
  };
}

/** An Elasticsearch _bulk answer with item errors other than "already there" (409) is a failure. */
export function bulkFailure(format: WebhookFormat, answer: string): string | null {
  if (format !== 'elasticsearch') return null;
  let parsed: { errors?: boolean; items?: Array<Record<string, { status?: number }>> };
  try {
    parsed = JSON.parse(answer) as typeof parsed;
  } catch {
    return 'the _bulk answer is not JSON';
  }
  if (!parsed.errors) return null;
  const failed = (parsed.items ?? [])
    .map((item) => Object.values(item)[0]?.status ?? 0)
    .filter((status) => status !== 409 && (status < 200 || status > 299));
  return failed.length ? `${failed.length} _bulk items failed (status ${failed[0]})` : null;
}
