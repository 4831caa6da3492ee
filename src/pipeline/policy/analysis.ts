import { z } from 'zod';
import { boundedDuration, DURATION_BOUNDS } from './duration.js';
import { doc, httpUrl, secretRefSchema } from './schema-parts.js';
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
  .meta(
    doc(
      'How many failing measurements in a row are tolerated: the rollout holds on each of them and rolls back on ' +
        'the next one (default 0: the first failing measurement rolls back). A measurement in bounds ends the run.',
      'failureLimit: 2',
    ),
  );

const inconclusive = strict({
  max: z
    .number()
    .optional()
    .meta(doc('A value above this and up to `max` is inconclusive: the rollout pauses for a person.', 'max: 0.02')),
  min: z
    .number()
    .optional()
    .meta(doc('A value below this and down to `min` is inconclusive: the rollout pauses for a person.', 'min: 0.97')),
})
  .optional()
  .meta(
    doc(
      'A band inside the bounds where the check neither passes nor fails: the rollout pauses for a person, with the ' +
        'value; `kubestead resume` goes on (and accepts the band for the rest of the step), `abort` rolls back.',
      'inconclusive: {max: 0.02}',
    ),
  );

/** The fields a check gets besides its query and bounds. */
export const CHECK_ANALYSIS_FIELDS = { failureLimit, inconclusive };

/** An HTTP header: a plain value, or one read from a Secret (never shown in a log, an event, status or an error). */
export const headerSchema = strict({
  name: z
    .string()
    .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'expected an HTTP header name' })
    .meta(doc('The header name.', 'name: Authorization')),
  value: z
    .string()
    .optional()
    .meta(doc('A plain value (nothing secret: it is part of the policy).', 'value: application/json')),
  valueFrom: strict({
    secretKeyRef: secretRefSchema.meta(
      doc('The Secret key holding the value, in the policy namespace.', 'secretKeyRef: {name: gw, key: token}'),
    ),
  })
    .optional()
    .meta(
      doc(
        'Where the value is read from: a Secret key (a token, an API key).',
        'valueFrom: {secretKeyRef: {name: gw, key: token}}',
      ),
    ),
})
  .superRefine((header, ctx) => {
    if ((header.value === undefined) === (header.valueFrom === undefined))
      ctx.addIssue({ code: 'custom', message: 'a header has exactly one of "value" or "valueFrom"' });
  })
  .meta(doc('A header sent with every request.', '- {name: X-Team, value: shop}'));

export const WEB_METHODS = ['GET', 'POST'] as const;

/** docs/checks.md, "Any JSON API: the web provider". */
export const webSchema = strict({
  url: httpUrl().meta(
    doc(
      "The API's base address. With GET, a check's query (a path and query string) is joined to it; with POST, " +
        'the request goes to it as written.',
      'url: "https://abc12345.live.dynatrace.com"',
    ),
  ),
  method: z
    .enum(WEB_METHODS)
    .default('GET')
    .meta(
      doc("GET (the check's query is the path and query string) or POST (the query is the JSON body).", 'method: POST'),
    ),
  headers: z
    .array(headerSchema)
    .optional()
    .meta(
      doc(
        'Headers sent with every request (auth, accept).',
        'headers: [{name: Authorization, valueFrom: {secretKeyRef: {name: influx, key: authorization}}}]',
      ),
    ),
  timeout: boundedDuration(DURATION_BOUNDS.timeout)
    .default('5s')
    .meta(doc('How long one request may take, retries included; past it the check is `unavailable`.', 'timeout: 10s')),
  caSecretRef: secretRefSchema
    .optional()
    .meta(
      doc(
        'Secret holding a PEM CA bundle to trust instead of the system roots.',
        'caSecretRef: {name: gw-ca, key: ca.crt}',
      ),
    ),
}).meta(
  doc(
    "Any JSON API over HTTP: the answer must be 2xx and JSON, and a number is picked from it (the check's `value`, " +
      'jsonata); anything else is `unavailable` with the reason.',
    'web: {url: "http://graphite.monitoring:8080"}',
  ),
);
