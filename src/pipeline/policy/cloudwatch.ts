import { z } from 'zod';
import { boundedDuration, DURATION_BOUNDS } from './duration.js';
import { doc, httpUrl, secretRef } from './schema-parts.js';
import { strict } from './strict.js';

/** docs/checks.md, "CloudWatch". An AWS region name: `us-east-1`, `eu-central-1`, `us-gov-west-1`, `cn-north-1`. */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/**
 * The `cloudWatch` provider: GetMetricData through AWS's SDK for JavaScript v3. Credentials come from the SDK's
 * default chain (IRSA's web identity, the environment) unless the policy names a Secret's access key pair.
 */
export const cloudWatchSchema = strict({
  region: z
    .string()
    .regex(REGION, { error: (iss) => `expected an AWS region such as us-east-1, got ${JSON.stringify(iss.input)}` })
    .meta(doc('The AWS region whose CloudWatch is asked.', 'region: eu-west-1')),
  endpoint: httpUrl()
    .optional()
    .meta(
      doc(
        "Overrides the region's public address: an interface VPC endpoint (PrivateLink) or a proxy. It obeys the " +
          "operator's allowedHosts like any provider address.",
        'endpoint: "https://vpce-0a1b2c3d4e5f-abcdefgh.monitoring.eu-west-1.vpce.amazonaws.com"',
      ),
    ),
  accessKeyIdSecretRef: secretRef('an access key id (`AKIA…`)', '{name: cloudwatch, key: access-key-id}').optional(),
  secretAccessKeySecretRef: secretRef(
    'the secret access key of the access key id',
    '{name: cloudwatch, key: secret-access-key}',
  ).optional(),
  sessionTokenSecretRef: secretRef(
    'a session token, for temporary credentials',
    '{name: cloudwatch, key: session-token}',
  ).optional(),
  lookback: boundedDuration(DURATION_BOUNDS.window)
    .default('5m')
    .meta(
      doc(
        "How far back from the tick GetMetricData reads: a check's value is the newest datapoint in it (CloudWatch " +
          'publishes a minute or more late). No datapoint in it is `unavailable`.',
        'lookback: 10m',
      ),
    ),
  timeout: boundedDuration(DURATION_BOUNDS.timeout)
    .default('10s')
    .meta(doc('How long one query may take, retries included; past it the check is `unavailable`.', 'timeout: 10s')),
})
  .superRefine((spec, ctx) => {
    if ((spec.accessKeyIdSecretRef === undefined) !== (spec.secretAccessKeySecretRef === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [spec.accessKeyIdSecretRef === undefined ? 'accessKeyIdSecretRef' : 'secretAccessKeySecretRef'],
        message: 'accessKeyIdSecretRef and secretAccessKeySecretRef go together (or neither: the default chain)',
      });
    if (spec.sessionTokenSecretRef !== undefined && spec.accessKeyIdSecretRef === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['sessionTokenSecretRef'],
        message: 'sessionTokenSecretRef needs accessKeyIdSecretRef and secretAccessKeySecretRef',
      });
  })
  .meta(
    doc(
      "Amazon CloudWatch's GetMetricData: a check's query is the MetricDataQueries (JSON), its value the newest " +
        'datapoint of the query whose Id the check names in `value` (or of the only query that returns data). ' +
        "Credentials: the SDK's default chain (IRSA, environment), or a Secret's access key pair.",
      'cloudWatch: {region: eu-west-1}',
    ),
  );
