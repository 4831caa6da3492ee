import { z } from 'zod';
import { strict } from './strict.js';

/**
 * The small schemas every part of the RolloutPolicy schema shares (names, Secret refs, URLs): a leaf of the schema
 * modules, so that schema.ts and the schemas beside it (analysis.ts) can both use them without a cycle.
 */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

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

export const secretRefSchema = strict({ name: name('Secret name'), key: z.string().min(1) });

/** An http(s) URL. */
export const httpUrl = () => z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });
