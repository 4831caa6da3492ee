import type { V1Deployment, V1OwnerReference, V1PodTemplateSpec } from '@kubernetes/client-node';
import { MANAGED_BY, ROLE_LABEL } from '../../adapters/kube/names.js';
import { primaryName } from '../policy/vocabulary.js';
import { CONFIG_HASH_ANNOTATION, withConfigCopies, withoutConfigCopies, type TrackedConfig } from './config.js';

/** Annotations of the target that belong to it alone and are not copied to its primary. */
const NOT_COPIED = /^(deployment\.kubernetes\.io\/|kubectl\.kubernetes\.io\/last-applied-configuration$)/;

const withRole = (labels: Record<string, string> | undefined): Record<string, string> => ({
  ...(labels ?? {}),
  [ROLE_LABEL]: 'primary',
});

/**
 * A pod template for primary: the target's, with `kubestead.io/role: primary` on its labels and, with
 * tracked config, every tracked reference pointing at its copy and the config's hash as an annotation.
 */
export function primaryTemplate(template: V1PodTemplateSpec | undefined, config?: TrackedConfig): V1PodTemplateSpec {
  const copy = structuredClone(template ?? {});
  copy.metadata = { ...(copy.metadata ?? {}), labels: withRole(copy.metadata?.labels) };
  if (!config || config.refs.length === 0) return copy;
  copy.metadata.annotations = { ...(copy.metadata.annotations ?? {}), [CONFIG_HASH_ANNOTATION]: config.hash };
  return withConfigCopies(copy, config.refs);
}

/**
 * The inverse of primaryTemplate: primary's (stable) pod template as the user's Deployment runs it — without the role
 * label and the config hash, and, when config was tracked (the hash is there), reading the user's objects, not the
 * copies (which go with primary).
 */
export function stableTemplateOf(primary: V1PodTemplateSpec | undefined): V1PodTemplateSpec {
  const copy = structuredClone(primary ?? {});
  const { [ROLE_LABEL]: _role, ...labels } = copy.metadata?.labels ?? {};
  const { [CONFIG_HASH_ANNOTATION]: hash, ...annotations } = copy.metadata?.annotations ?? {};
  copy.metadata = { ...copy.metadata, labels };
  if (Object.keys(annotations).length > 0) copy.metadata.annotations = annotations;
  else delete copy.metadata.annotations;
  return hash === undefined ? copy : withoutConfigCopies(copy);
}

/**
 * `<target>-primary`: a copy of the target's spec with the role label on selector and template, its
 * replica count, the managed-by label and an ownerReference to the policy. Only spec and chosen
 * metadata are copied: a read object's resourceVersion, uid, managedFields, creationTimestamp and
 * status would make the create fail or lie.
 */
export function primaryFrom(target: V1Deployment, owner: V1OwnerReference, config?: TrackedConfig): V1Deployment {
  const meta = target.metadata ?? {};
  const spec = structuredClone(target.spec ?? { selector: {}, template: {} });
  const annotations = Object.fromEntries(
    Object.entries(meta.annotations ?? {}).filter(([key]) => !NOT_COPIED.test(key)),
  );
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: primaryName(meta.name ?? ''),
      namespace: meta.namespace,
      labels: { ...withRole(meta.labels), ...MANAGED_BY },
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ownerReferences: [owner],
    },
    spec: {
      ...spec,
      replicas: target.spec?.replicas ?? 1,
      selector: { ...spec.selector, matchLabels: withRole(spec.selector.matchLabels) },
      template: primaryTemplate(target.spec?.template, config),
    },
  };
}

/** A Deployment whose controller has rolled out its current spec, every replica updated and ready. */
export function rolledOut(d: V1Deployment | undefined): boolean {
  if (!d) return false;
  const want = d.spec?.replicas ?? 1;
  const { observedGeneration = 0, updatedReplicas = 0, readyReplicas = 0, replicas = 0 } = d.status ?? {};
  return (
    observedGeneration >= (d.metadata?.generation ?? 0) &&
    [updatedReplicas, readyReplicas, replicas].every((n) => n === want)
  );
}

/** The images of a template's containers, for messages (`app=shop:1.4`). */
export function imagesOf(template: V1PodTemplateSpec | undefined): string {
  return (template?.spec?.containers ?? []).map((c) => `${c.name}=${c.image ?? '?'}`).join(', ');
}
