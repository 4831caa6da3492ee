import { z } from 'zod';
import { strict } from './strict.js';
import { doc } from './schema-parts.js';

/**
 * `spec.fastRevert` (docs/operating.md, "Fast revert to a known-good revision"): a target whose revision
 * equals one of the last `revisions` promoted ones is promoted at once, without steps (0: off).
 */
export const fastRevertSchema = strict({
  revisions: z
    .number()
    .int()
    .min(0)
    .max(10)
    .default(0)
    .meta(doc('How many earlier promoted revisions count as known-good; 0 turns it off.', 'revisions: 3')),
})
  .meta(
    doc(
      'Fast revert: a target whose revision (template and tracked config together) equals one of the last ' +
        '`revisions` promoted ones is promoted at once, without steps (rule `fast-revert`); status keeps them in ' +
        '`promotedRevisions`.',
      'fastRevert: {revisions: 3}',
    ),
  )
  .optional();

/** How many earlier promoted revisions a policy reverts to at once (0: none). */
export const revertDepth = (spec: { fastRevert?: { revisions: number } }): number => spec.fastRevert?.revisions ?? 0;
