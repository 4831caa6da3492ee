import { z } from 'zod';
import { strict } from './strict.js';
import { doc } from './schema-parts.js';

/**
 * `spec.configTracking` (docs/operating.md, "Config changes are canaried"): the ConfigMaps (and, with
 * `secrets`, the Secrets) the target's pod template reads are part of its revision, and primary runs
 * copies of them.
 */
export const configTrackingSchema = strict({
  enabled: z
    .boolean()
    .default(true)
    .meta(
      doc(
        'Off: the revision is the pod template alone, and primary reads the same ConfigMaps and Secrets as the target.',
        'enabled: false',
      ),
    ),
  secrets: z
    .boolean()
    .default(false)
    .meta(
      doc(
        'Secrets are tracked too: part of the revision (as a hash only), and primary runs copies of them. Needs ' +
          'Secret create/update/delete rights: the kustomize component deploy/components/secret-tracking.',
        'secrets: true',
      ),
    ),
})
  .meta(
    doc(
      "Config changes are canaried: the ConfigMaps (and with `secrets: true` the Secrets) the target's pod template " +
        'reads (volumes, projected volumes, `envFrom`, `env.valueFrom`) are part of its revision, and primary runs ' +
        'copies of them (`<name>-primary`), updated only when a canary is promoted.',
      'configTracking: {enabled: false}',
    ),
  )
  .optional();

type Tracking = { configTracking?: { enabled: boolean; secrets?: boolean } };

/** Whether a policy tracks its target's config: on unless `configTracking: {enabled: false}`. */
export const tracksConfig = (spec: Tracking): boolean => spec.configTracking?.enabled ?? true;

/** Whether a policy tracks its target's Secrets too: only with `configTracking: {secrets: true}`. */
export const tracksSecrets = (spec: Tracking): boolean => tracksConfig(spec) && spec.configTracking?.secrets === true;
