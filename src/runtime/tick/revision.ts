import { createHash } from 'node:crypto';
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { canonicalJson } from '../../pipeline/compile/compile.js';

/**
 * The revision of a pod template: a short hash of its canonical JSON. The target's template hash is
 * the canaryRevision; the template primary was copied from is the stableRevision.
 */
export function templateHash(template: V1PodTemplateSpec | undefined): string {
  return createHash('sha256')
    .update(canonicalJson(template ?? {}))
    .digest('hex')
    .slice(0, 10);
}
