import { z } from 'zod';
import { boundedDuration, DURATION_BOUNDS } from './duration.js';
import { httpUrl, secretRefSchema } from './primitives.js';
import { strict } from './strict.js';

/**
 * The schema of what widens a policy's analysis (docs/checks.md, docs/webhooks.md): a check's failure limit and
 * inconclusive band, the web provider. Each field carries its description (the CRD's, so `kubectl explain` shows it).
 */

const failureLimit = z
  .number()
  .int()
  .min(0)
  .optional()
  .meta({
    description:
      'How many failing measurements in a row are tolerated: the rollout holds on each of them and rolls back on ' +
      'the next one (default 0: the first failing measurement rolls back). A measurement in bounds ends the run.',
  });

const inconclusive = strict({
  max: z
    .number()
    .optional()
    .meta({ description: 'A value above this and up to `max` is inconclusive: the rollout pauses for a person.' }),
  min: z
    .number()
    .optional()
    .meta({ description: 'A value below this and down to `min` is inconclusive: the rollout pauses for a person.' }),
})
  .optional()
  .meta({
    description:
      'A band inside the bounds where the check neither passes nor fails: the rollout pauses for a person, with the ' +
      'value; `kubestead resume` goes on (and accepts the band for the rest of the step), `abort` rolls back.',
  });

/** The fields a check gets besides its query and bounds. */
export const CHECK_ANALYSIS_FIELDS = { failureLimit, inconclusive };

/** An HTTP header: a plain value, or one read from a Secret (never shown in a log, an event, status or an error). */
export const headerSchema = strict({
  name: z
    .string()
    .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'expected an HTTP header name' })
    .meta({ description: 'The header name.' }),
  value: z.string().optional().meta({ description: 'A plain value (nothing secret: it is part of the policy).' }),
  valueFrom: strict({
    secretKeyRef: secretRefSchema.meta({ description: 'The Secret key holding the value, in the policy namespace.' }),
  })
    .optional()
    .meta({ description: 'Where the value is read from: a Secret key (a token, an API key).' }),
})
  .superRefine((header, ctx) => {
    if ((header.value === undefined) === (header.valueFrom === undefined))
      ctx.addIssue({ code: 'custom', message: 'a header has exactly one of "value" or "valueFrom"' });
  })
  .meta({ description: 'A header sent with every request.' });

export const WEB_METHODS = ['GET', 'POST'] as const;

/** docs/checks.md, "Any JSON API: the web provider". */
export const webSchema = strict({
  url: httpUrl().meta({
    description:
      "The API's base address. With GET, a check's query (a path and query string) is joined to it; with POST, " +
      'the request goes to it as written.',
  }),
  method: z.enum(WEB_METHODS).default('GET').meta({
    description: "GET (the check's query is the path and query string) or POST (the query is the JSON body).",
  }),
  headers: z.array(headerSchema).optional().meta({ description: 'Headers sent with every request (auth, accept).' }),
  timeout: boundedDuration(DURATION_BOUNDS.timeout)
    .default('5s')
    .meta({ description: 'How long one request may take, retries included; past it the check is `unavailable`.' }),
  caSecretRef: secretRefSchema
    .optional()
    .meta({ description: 'Secret holding a PEM CA bundle to trust instead of the system roots.' }),
}).meta({
  description:
    "Any JSON API over HTTP: the answer must be 2xx and JSON, and a number is picked from it (the check's `value`, " +
    'jsonata); anything else is `unavailable` with the reason.',
});
