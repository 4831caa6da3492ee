import { z } from 'zod';
import { strict } from './strict.js';

/**
 * `spec.configTracking` (docs/operating.md, "Config changes are canaried"): the ConfigMaps the target's
 * pod template reads are part of its revision, and primary runs copies of them.
 */
export const configTrackingSchema = strict({ enabled: z.boolean().default(true) }).optional();

/** Whether a policy tracks its target's config: on unless `configTracking: {enabled: false}`. */
export const tracksConfig = (spec: { configTracking?: { enabled: boolean } }): boolean =>
  spec.configTracking?.enabled ?? true;
