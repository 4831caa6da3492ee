import type { V1Container, V1OwnerReference, V1PodSpec, V1PodTemplateSpec } from '@kubernetes/client-node';
import { MANAGED_BY } from '../../adapters/kube/names.js';
import type { ConfigObject, ConfigObjectKind } from '../../adapters/kube/config-objects.js';
import { PRIMARY_SUFFIX, primaryName } from '../policy/vocabulary.js';

/** What a pod template may read its configuration from (issue 28: config changes are canaried). */
export type ConfigKind = ConfigObjectKind;

export interface ConfigRef {
  kind: ConfigKind;
  name: string;
}

/**
 * The data of one referenced object as read: a ConfigMap's values, a Secret's as the API gives them
 * (base64). A Secret's values only ever enter a hash and primary's copy of it.
 */
export interface ConfigData extends ConfigRef {
  data: Record<string, string>;
  /** A Secret's type (`Opaque`, `kubernetes.io/tls`, …), which its copy keeps. */
  type?: string;
}

/** A place in a pod spec that names a ConfigMap or Secret: `holder[key]` is the name. */
type Visit = (kind: ConfigKind, holder: Record<string, unknown>, key: string) => void;

const asHolder = (value: object | undefined): Record<string, unknown> | undefined =>
  value as Record<string, unknown> | undefined;

function visitContainer(container: V1Container, visit: Visit): void {
  for (const from of container.envFrom ?? []) {
    const map = asHolder(from.configMapRef);
    const secret = asHolder(from.secretRef);
    if (map) visit('ConfigMap', map, 'name');
    if (secret) visit('Secret', secret, 'name');
  }
  for (const env of container.env ?? []) {
    const map = asHolder(env.valueFrom?.configMapKeyRef);
    const secret = asHolder(env.valueFrom?.secretKeyRef);
    if (map) visit('ConfigMap', map, 'name');
    if (secret) visit('Secret', secret, 'name');
  }
}

function visitVolumes(spec: V1PodSpec, visit: Visit): void {
  for (const volume of spec.volumes ?? []) {
    const map = asHolder(volume.configMap);
    const secret = asHolder(volume.secret);
    if (map) visit('ConfigMap', map, 'name');
    if (secret) visit('Secret', secret, 'secretName');
    for (const source of volume.projected?.sources ?? []) {
      const projectedMap = asHolder(source.configMap);
      const projectedSecret = asHolder(source.secret);
      if (projectedMap) visit('ConfigMap', projectedMap, 'name');
      if (projectedSecret) visit('Secret', projectedSecret, 'name');
    }
  }
}

/** Every place of a pod template that names a ConfigMap or Secret: volumes, projected volumes, envFrom, env.valueFrom. */
function visitTemplate(template: V1PodTemplateSpec | undefined, visit: Visit): void {
  const spec = template?.spec;
  if (!spec) return;
  visitVolumes(spec, visit);
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) visitContainer(container, visit);
}

export const keyOf = (ref: ConfigRef): string => `${ref.kind}/${ref.name}`;

/**
 * The ConfigMaps (and, with `secrets`, the Secrets) a pod template reads, each once, sorted by kind
 * and name: what is part of the revision when config tracking is on.
 */
export function configRefs(template: V1PodTemplateSpec | undefined, secrets: boolean): ConfigRef[] {
  const found = new Map<string, ConfigRef>();
  visitTemplate(template, (kind, holder, key) => {
    const name = holder[key];
    if (typeof name !== 'string' || name === '' || (kind === 'Secret' && !secrets)) return;
    found.set(keyOf({ kind, name }), { kind, name });
  });
  return [...found.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ref]) => ref);
}

/**
 * The template primary runs: the same, but every tracked reference points at the policy's copy
 * (`<name>-primary`), so that an edit of the user's object reaches only the canary.
 */
export function withConfigCopies(template: V1PodTemplateSpec, tracked: readonly ConfigRef[]): V1PodTemplateSpec {
  const copy = structuredClone(template);
  const wanted = new Set(tracked.map(keyOf));
  visitTemplate(copy, (kind, holder, key) => {
    const name = holder[key];
    if (typeof name === 'string' && wanted.has(keyOf({ kind, name }))) holder[key] = primaryName(name);
  });
  return copy;
}

/**
 * The inverse of withConfigCopies, for handing the stable template back: every reference to a copy (`<name>-primary`)
 * names the user's object again.
 */
export function withoutConfigCopies(template: V1PodTemplateSpec): V1PodTemplateSpec {
  const copy = structuredClone(template);
  const suffix = PRIMARY_SUFFIX;
  visitTemplate(copy, (_kind, holder, key) => {
    const name = holder[key];
    if (typeof name === 'string' && name.endsWith(suffix)) holder[key] = name.slice(0, -suffix.length);
  });
  return copy;
}

/** The config primary is to run: the tracked references, and the revision of their data (runtime/tick/revision.ts). */
export interface TrackedConfig {
  refs: readonly ConfigRef[];
  data: readonly ConfigData[];
  hash: string;
  /** The policy: the owner of the copies (deleted with it). */
  owner: V1OwnerReference;
}

/** On primary's pod template: the hash of the config data it runs, so that a change of the config alone rolls it. */
export const CONFIG_HASH_ANNOTATION = 'kubestead.io/config-hash';
/** On a copy: the name of the user's object it copies. */
export const COPY_OF_LABEL = 'kubestead.io/copy-of';

/**
 * The copy of one ConfigMap or Secret primary reads: `<name>-primary`, labelled, owned by the policy,
 * with the data given (a Secret's copy keeps its type).
 */
export function configCopy(namespace: string, object: ConfigData, owner: V1OwnerReference): ConfigObject {
  const metadata = {
    name: primaryName(object.name),
    namespace,
    labels: { ...MANAGED_BY, [COPY_OF_LABEL]: object.name },
    ownerReferences: [owner],
  };
  const data = { ...object.data };
  if (object.kind === 'Secret') return { apiVersion: 'v1', kind: 'Secret', metadata, type: object.type, data };
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata, data };
}
