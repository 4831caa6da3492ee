import type { ResourceType } from './registry.js';
import { conflict, invalid } from './status.js';
import type { KObject } from './types.js';

/** The options of a DELETE (query and body), as the API server reads them. */
export interface DeleteOptions {
  dryRun?: boolean;
  /** Pods: how long they stay Terminating (default their spec.terminationGracePeriodSeconds; 0 removes at once). */
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** The rules of deletion the API server applies: preconditions, policy finalizers, no new finalizers. */

export function checkPreconditions(type: ResourceType, old: KObject, pre: DeleteOptions['preconditions'] = {}): void {
  const name = old.metadata.name ?? '';
  if (pre.uid && pre.uid !== old.metadata.uid)
    throw conflict(
      type,
      name,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`,
    );
  if (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
    throw conflict(
      type,
      name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ` +
        `${old.metadata.resourceVersion}`,
    );
  }
}

/** The finalizers a deletion leaves: the object's, plus `orphan` / `foregroundDeletion` for those policies. */
export function finalizersFor(old: KObject, policy: string | undefined): string[] {
  const finalizers = [...(old.metadata.finalizers ?? [])];
  if (policy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
  if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
  return finalizers;
}

export function checkNoNewFinalizers(type: ResourceType, old: KObject, next: KObject): void {
  if (!old.metadata.deletionTimestamp) return;
  const added = (next.metadata.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f));
  if (added.length === 0) return;
  throw invalid({ kind: type.kind, group: type.group, name: old.metadata.name ?? '' }, [
    {
      reason: 'FieldValueForbidden',
      field: 'metadata.finalizers',
      message:
        `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ` +
        `${JSON.stringify(added)}`,
    },
  ]);
}
