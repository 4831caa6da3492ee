import { z } from 'zod';
import { strict } from './strict.js';

/**
 * `spec.fastRevert` (docs/operating.md, "Fast revert to a known-good revision"): a target whose revision
 * equals one of the last `revisions` promoted ones is promoted at once, without steps (0: off).
 */
export const fastRevertSchema = strict({ revisions: z.number().int().min(0).max(10).default(0) }).optional();

/** How many earlier promoted revisions a policy reverts to at once (0: none). */
export const revertDepth = (spec: { fastRevert?: { revisions: number } }): number => spec.fastRevert?.revisions ?? 0;
