import { z } from 'zod';
import { strict } from './strict.js';

/**
 * The pieces every part of the RolloutPolicy schema shares: names, Secret references, "exactly one
 * of", and `doc`, the one place a field's description and example are written. The zod schema is the
 * single source of both: the CRD (`kubectl explain`), docs/reference/policy.md and `--help` read them
 * from it.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A field's description and an example as a user writes it (a YAML fragment); `.meta(doc(…))`. */
export function doc(description: string, example?: string): { description: string; example?: string } {
  return example === undefined ? { description } : { description, example };
}

export const name = (what: string) =>
  z
    .string()
    .max(253)
    .regex(DNS_SUBDOMAIN, {
      error: (iss) => `expected a ${what} (lower-case letters, digits, '-' and '.'), got ${JSON.stringify(iss.input)}`,
    });

export const dnsLabel = z
  .string()
  .max(63)
  .regex(DNS_LABEL, {
    error: (iss) => `expected a DNS label (lower-case letters, digits and '-'), got ${JSON.stringify(iss.input)}`,
  });

export const secretRefSchema = strict({
  name: name('Secret name').meta(doc('The Secret, in the policy namespace.', 'name: prometheus-auth')),
  key: z.string().min(1).meta(doc('The key of the Secret that holds the value.', 'key: token')),
});

/**
 * A Secret reference of one field: what it holds and an example that fits it (`{name: datadog, key:
 * api-key}` for a Datadog API key). Its value never appears in a log, Event, status or error.
 */
export function secretRef(holding: string, example: string) {
  return secretRefSchema.meta(
    doc(
      `Secret holding ${holding}; read with a single GET when it is needed, its value never appears in a log, ` +
        `Event, status or error.`,
      example,
    ),
  );
}

export function exactlyOne(value: object, kinds: readonly string[], what: string, ctx: z.RefinementCtx): void {
  const present = kinds.filter((k) => (value as Record<string, unknown>)[k] !== undefined);
  if (present.length !== 1) {
    const found = present.length ? `got ${present.join(' and ')}` : 'got none';
    ctx.addIssue({ code: 'custom', message: `expected exactly one ${what} of ${kinds.join(', ')}; ${found}` });
  }
}

export const httpUrl = () => z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });
