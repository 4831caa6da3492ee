import type { CoreV1Api, V1ConfigMap } from '@kubernetes/client-node';
import type { KubeClients } from '../../../../adapters/kube/clients.js';
import type { PolicyRef } from '../../recorder.js';
import { labelValue, objectName, ownerOf, POLICY_LABEL, ROLE_LABEL, UID_LABEL } from '../segments.js';
import { MANAGED_BY } from '../../../../adapters/kube/names.js';
import { isConflict, isNotFound } from '../../../../adapters/kube/errors.js';

/** How far a destination has acknowledged the chain: the last delivered entry. */
export interface Cursor {
  seq: number;
  hash: string;
  /**
   * The seq of the last entry of the batch in flight (sent, not yet acknowledged): a process that
   * takes over resends exactly that batch, so its webhook-id is the same (row 34 of docs/reliability.md).
   */
  sending?: number;
}

/**
 * The delivery cursors of a policy, one key per destination, in one ConfigMap beside the chain:
 * whichever replica leads next resumes from there.
 */
export class CursorStore {
  private readonly core: CoreV1Api;

  constructor(
    clients: KubeClients,
    private readonly keepAfterDeletion: boolean,
  ) {
    this.core = clients.core;
  }

  async read(policy: PolicyRef, key: string): Promise<Cursor | null> {
    const map = await this.readMap(policy);
    const text = map?.data?.[key];
    return text ? (JSON.parse(text) as Cursor) : null;
  }

  /** Moves the destination's cursor forward (never back), re-reading on a conflict; clears the mark in flight. */
  async advance(policy: PolicyRef, key: string, cursor: Cursor): Promise<void> {
    await this.update(policy, key, (current) => (current && current.seq >= cursor.seq ? null : cursor));
  }

  /** Marks the batch ending at `sending` as in flight, before it is sent (once per batch). */
  async markSending(policy: PolicyRef, key: string, sending: number): Promise<void> {
    await this.update(policy, key, (current) =>
      current?.sending === sending ? null : { seq: current?.seq ?? -1, hash: current?.hash ?? '', sending },
    );
  }

  /** Writes what `change` makes of the current cursor (null: nothing to write), re-reading on a conflict. */
  private async update(
    policy: PolicyRef,
    key: string,
    change: (current: Cursor | null) => Cursor | null,
  ): Promise<void> {
    for (let attempt = 0; attempt < 8; attempt += 1) {
      const map = await this.readMap(policy);
      const next = change(map?.data?.[key] ? (JSON.parse(map.data[key]) as Cursor) : null);
      if (!next) return;
      try {
        await this.write(policy, map, { ...map?.data, [key]: JSON.stringify(next) });
        return;
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
    }
    throw new Error(`delivery cursor of ${policy.namespace}/${policy.name}: still conflicting`);
  }

  private async readMap(policy: PolicyRef): Promise<V1ConfigMap | null> {
    try {
      return await this.core.readNamespacedConfigMap({
        name: objectName(policy, 'audit-cursor'),
        namespace: policy.namespace,
      });
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  private async write(policy: PolicyRef, map: V1ConfigMap | null, data: Record<string, string>): Promise<void> {
    if (map) {
      await this.core.replaceNamespacedConfigMap({
        name: map.metadata!.name!,
        namespace: policy.namespace,
        body: { ...map, data },
      });
      return;
    }
    await this.core.createNamespacedConfigMap({
      namespace: policy.namespace,
      body: {
        metadata: {
          name: objectName(policy, 'audit-cursor'),
          namespace: policy.namespace,
          labels: {
            ...MANAGED_BY,
            [ROLE_LABEL]: 'cursor',
            [UID_LABEL]: policy.uid,
            [POLICY_LABEL]: labelValue(policy.name),
          },
          ownerReferences: this.keepAfterDeletion ? undefined : [ownerOf(policy)],
        },
        data,
      },
    });
  }
}
