import { z } from 'zod';
import { boundedDuration, DURATION_BOUNDS } from './duration.js';
import { dnsLabel, doc, httpUrl, secretRefSchema } from './schema-parts.js';
import { strict } from './strict.js';

/**
 * The schema of a policy's webhooks (docs/webhooks.md): outside systems Kubestead ASKS, whose answers decide (a gate
 * that holds a stage, a test that must pass, a stop button). Notifications, which are only told, are not these.
 */

/**
 * When each type is asked, and what its answer does (docs/webhooks.md, "Types"):
 * - preRollout: once before any traffic moves; not 2xx (after retries) rolls back.
 * - rollout: every interval while checks run (a load generator); a failure is a failed check: rollback.
 * - confirmRollout, confirmTrafficIncrease, confirmPromotion: gates; the stage waits until one answers 2xx.
 * - postRollout: once after promotion or rollback; its answer is recorded and changes nothing.
 * - rollback: every interval; a 2xx answer rolls back.
 */
export const WEBHOOK_TYPES = [
  'preRollout',
  'rollout',
  'confirmRollout',
  'confirmTrafficIncrease',
  'confirmPromotion',
  'postRollout',
  'rollback',
] as const;
export type WebhookType = (typeof WEBHOOK_TYPES)[number];

/** The gates: a stage waits on them. */
export const GATE_TYPES = [
  'confirmRollout',
  'confirmTrafficIncrease',
  'confirmPromotion',
] as const satisfies readonly WebhookType[];

export const webhookSchema = strict({
  name: dnsLabel.meta(
    doc('The webhook name, unique in the policy: its answers are `webhooks.<name>`.', 'name: release-gate'),
  ),
  type: z
    .enum(WEBHOOK_TYPES)
    .meta(
      doc(
        'When it is asked and what its answer does: preRollout (before traffic moves; not 2xx rolls back), rollout ' +
          '(every interval during checks; a failure rolls back), confirmRollout / confirmTrafficIncrease / ' +
          'confirmPromotion (gates: the stage waits until 2xx), postRollout (once at the end; recorded only), rollback ' +
          '(every interval; 2xx rolls back).',
        'type: confirmPromotion',
      ),
    ),
  url: httpUrl().meta(
    doc('Where the JSON body is POSTed; the host obeys the operator allow-list.', 'url: "http://gates.qa/ok"'),
  ),
  timeout: boundedDuration(DURATION_BOUNDS.timeout)
    .default('10s')
    .meta(doc('How long one call may take, retries included; past it the call failed.', 'timeout: 60s')),
  metadata: z
    .record(z.string(), z.string().meta(doc('One metadata string.', 'suite: smoke')))
    .optional()
    .meta(doc('Strings sent as `metadata` in the body (a test suite, a ticket).', 'metadata: {suite: smoke}')),
  secretRef: secretRefSchema
    .optional()
    .meta(
      doc(
        'Secret key holding a Standard Webhooks signing secret (`whsec_…`): every call is signed (webhook-id, ' +
          '-timestamp, -signature). Never logged.',
        'secretRef: {name: hooks, key: signing}',
      ),
    ),
}).meta(
  doc(
    'An outside system asked at a stage of the rollout; its answer decides (docs/webhooks.md).',
    '- {name: acceptance, type: preRollout, url: "http://tester.qa/run", timeout: 60s}',
  ),
);

export const webhooksSchema = z
  .array(webhookSchema)
  .optional()
  .meta(
    doc(
      'Webhooks asked during the rollout: tests, load, gates, a stop button (docs/webhooks.md).',
      'webhooks: [{name: release-gate, type: confirmPromotion, url: "http://gates.qa/ok"}]',
    ),
  );

export type WebhookSpec = z.output<typeof webhookSchema>;
