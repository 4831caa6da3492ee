import { z } from 'zod';
import { strict } from './strict.js';
import { doc } from './schema-parts.js';

/**
 * `spec.configTracking` (docs/operating.md, "Config changes are canaried"): the ConfigMaps the target's
 * pod template reads are part of its revision, and primary runs copies of them.
 */
export const configTrackingSchema = strict({
  enabled: z
    .boolean()
    .default(true)
    .meta(
      doc(
        'Off: the revision is the pod template alone, and primary reads the same ConfigMaps as the target.',
        'enabled: false',
      ),
    ),
})
  .meta(
    doc(
      "Config changes are canaried: the ConfigMaps the target's pod template reads (volumes, projected volumes, " +
        '`envFrom`, `env.valueFrom`) are part of its revision, and primary runs copies of them (`<name>-primary`), ' +
        'updated only when a canary is promoted.',
      'configTracking: {enabled: false}',
    ),
  )
  .optional();

/** Whether a policy tracks its target's config: on unless `configTracking: {enabled: false}`. */
export const tracksConfig = (spec: { configTracking?: { enabled: boolean } }): boolean =>
  spec.configTracking?.enabled ?? true;
