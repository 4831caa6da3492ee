import type { Api, Caller, WriteOptions } from './api.js';
import { applyPatch } from './patching.js';
import type { PatchType } from './patch.js';
import type { ResourceType } from './registry.js';
import { selectorString } from './selectors.js';
import { storedVersion } from './objects.js';
import { badRequest, invalid, notFound } from './status.js';
import { clone, getPath, isRecord, setPath, type KObject } from './types.js';

/** autoscaling/v1 Scale of an object with a `/scale` subresource. */
export function toScale(type: ResourceType, object: KObject): KObject {
  const paths = type.scale;
  if (!paths) throw notFound(type, object.metadata.name ?? '');
  const selector = paths.labelSelectorPath ? getPath(object, paths.labelSelectorPath) : undefined;
  const spec = isRecord(object.spec) ? object.spec : {};
  const { name, namespace, uid, resourceVersion, creationTimestamp } = object.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: (getPath(object, paths.specReplicasPath) as number | undefined) ?? 0 },
    status: {
      replicas: (getPath(object, paths.statusReplicasPath) as number | undefined) ?? 0,
      selector: typeof selector === 'string' ? selector : type.builtin ? selectorString(spec.selector) : '',
    },
  };
}

export interface ScaleTarget {
  type: ResourceType;
  namespace: string | undefined;
  name: string;
}

/** PUT …/scale: sets the replicas of the main object; the Scale's resourceVersion is a precondition. */
/** spec.replicas of a Scale body: 400 for a body that is no Scale, 422 for a bad number. */
function scaleReplicas(body: unknown, name: string): { replicas: number; resourceVersion?: string } {
  if (!isRecord(body) || (body.kind !== undefined && body.kind !== 'Scale'))
    throw badRequest('the body must be an autoscaling/v1 Scale');
  const replicas = isRecord(body.spec) ? body.spec.replicas : undefined;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw invalid({ kind: 'Scale', group: 'autoscaling', name }, [
      {
        reason: 'FieldValueInvalid',
        field: 'spec.replicas',
        message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
      },
    ]);
  }
  const rv = isRecord(body.metadata) ? body.metadata.resourceVersion : undefined;
  return { replicas, resourceVersion: typeof rv === 'string' && rv !== '' ? rv : undefined };
}

/** PUT …/scale: sets the replicas of the main object; the Scale's resourceVersion is a precondition. */
export function updateScale(
  api: Api,
  target: ScaleTarget,
  body: unknown,
  by: { caller: Caller; opts?: WriteOptions },
): KObject {
  const { type, namespace, name } = target;
  if (!type.scale) throw notFound(type, name);
  const { replicas, resourceVersion } = scaleReplicas(body, name);
  const old = api.find(type, namespace, name);
  if (!old) throw notFound(type, name);
  const next = clone(old);
  setPath(next, type.scale.specReplicasPath, replicas);
  if (resourceVersion) next.metadata.resourceVersion = resourceVersion;
  return toScale(
    type,
    api.update({ type, namespace, name, version: storedVersion(type, old) }, next, by.caller, by.opts),
  );
}

export function patchScale(
  api: Api,
  target: ScaleTarget,
  patch: { type: PatchType; body: unknown },
  by: { caller: Caller; opts?: WriteOptions },
): KObject {
  const current = toScale(target.type, api.get(target.type, target.namespace, target.name));
  const builtinScale = { ...target.type, builtin: true };
  return updateScale(api, target, applyPatch(builtinScale, current, patch), by);
}
