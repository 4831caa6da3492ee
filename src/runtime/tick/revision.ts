import { createHash } from 'node:crypto';
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { keyOf, type ConfigData } from '../../pipeline/actuate/config.js';
import { canonicalJson } from '../../pipeline/compile/compile.js';

const shortHash = (value: unknown): string =>
  createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 10);

/**
 * The revision of a pod template: a short hash of its canonical JSON. The target's template hash is
 * the canaryRevision; the template primary was copied from is the stableRevision.
 */
export function templateHash(template: V1PodTemplateSpec | undefined): string {
  return shortHash(template ?? {});
}

/**
 * The revision of a template together with the config it reads (kind, name and every key and value of
 * each tracked ConfigMap or Secret, in canonical order): equal inputs, equal revision. Without tracked
 * config it is the template's hash, so a policy's revisions do not change when tracking finds nothing.
 * A Secret's values leave this function only inside the hash.
 */
export function revisionOf(template: V1PodTemplateSpec | undefined, config: readonly ConfigData[]): string {
  if (config.length === 0) return templateHash(template);
  return shortHash({ template: template ?? {}, config: canonicalConfig(config) });
}

/** The hash of the tracked config's data alone (primary's `kubestead.io/config-hash`). */
export const configHash = (config: readonly ConfigData[]): string => shortHash(canonicalConfig(config));

function canonicalConfig(config: readonly ConfigData[]): ConfigData[] {
  const sorted = [...config].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  return sorted.map(({ kind, name, data }) => ({ kind, name, data }));
}
