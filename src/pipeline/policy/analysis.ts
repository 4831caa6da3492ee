import { z } from 'zod';
import { strict } from './strict.js';

/**
 * The schema of what widens a policy's analysis (docs/checks.md, docs/webhooks.md): a check's failure limit and
 * inconclusive band. Each field carries its description (the CRD's, so `kubectl explain` shows it).
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
