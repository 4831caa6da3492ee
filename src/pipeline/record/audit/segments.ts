import type { CoreV1Api, V1ConfigMap, V1OwnerReference } from '@kubernetes/client-node';
import type { KubeClients } from '../../../adapters/kube/clients.js';
import type { PolicyRef } from '../recorder.js';
import type { AuditEntry } from './entry.js';
import { MANAGED_BY, policyOwner } from '../../../adapters/kube/names.js';

export const UID_LABEL = 'kubestead.io/audit-uid';
export const POLICY_LABEL = 'kubestead.io/audit-policy';
export const ROLE_LABEL = 'kubestead.io/audit';
const SEALED_ANNOTATION = 'kubestead.io/audit-sealed';
const INDEX_LABEL = 'kubestead.io/audit-segment';
export const DATA_KEY = 'chain.jsonl';

/** One ConfigMap of a chain: its lines in order, and whether it is sealed (rolled over). */
export interface Segment {
  name: string;
  namespace: string;
  index: number;
  resourceVersion: string;
  sealed: boolean;
  lines: string[];
  bytes: number;
  /** The ConfigMap as read (the base of a replace). */
  object: V1ConfigMap;
}

/** A label value made from a name (63 characters at most, starting and ending alphanumeric). */
export function labelValue(text: string): string {
  return text.slice(0, 63).replace(/[^A-Za-z0-9]+$/, '');
}

/** Object names: the policy's name (cut to leave room), the kind, the uid's first 8 characters. */
export function objectName(policy: Pick<PolicyRef, 'name' | 'uid'>, kind: string, suffix?: string): string {
  const uid = policy.uid.replace(/[^a-z0-9]/g, '').slice(0, 8);
  const tail = `-${kind}-${uid}${suffix === undefined ? '' : `-${suffix}`}`;
  return `${policy.name.slice(0, 253 - tail.length).replace(/[.-]+$/, '')}${tail}`;
}

export function segmentName(policy: PolicyRef, index: number): string {
  return objectName(policy, 'audit', String(index).padStart(6, '0'));
}

function toSegment(map: V1ConfigMap): Segment {
  const text = map.data?.[DATA_KEY] ?? '';
  const meta = map.metadata ?? {};
  return {
    name: meta.name ?? '',
    namespace: meta.namespace ?? '',
    index: Number(meta.labels?.[INDEX_LABEL] ?? -1),
    resourceVersion: meta.resourceVersion ?? '',
    sealed: meta.annotations?.[SEALED_ANNOTATION] === 'true',
    lines: text === '' ? [] : text.replace(/\n$/, '').split('\n'),
    bytes: Buffer.byteLength(text),
    object: map,
  };
}

export interface SegmentOptions {
  /** Keep segments after the policy is deleted (no ownerReference): the retention's choice. */
  keepAfterDeletion: boolean;
}

/** The ConfigMaps that hold a policy's chain, read and written with optimistic concurrency. */
export class SegmentStore {
  private readonly core: CoreV1Api;

  constructor(
    clients: KubeClients,
    private readonly options: SegmentOptions,
  ) {
    this.core = clients.core;
  }

  /** Every segment of the policy's chain (by uid), oldest first. */
  async list(namespace: string, uid: string): Promise<Segment[]> {
    const list = await this.core.listNamespacedConfigMap({
      namespace,
      labelSelector: `${ROLE_LABEL}=segment,${UID_LABEL}=${uid}`,
    });
    return list.items.map(toSegment).sort((a, b) => a.index - b.index);
  }

  /** The chains in a namespace kept for a policy name: uid → segments, oldest first. */
  async listByName(namespace: string, name: string): Promise<Map<string, Segment[]>> {
    const list = await this.core.listNamespacedConfigMap({
      namespace,
      labelSelector: `${ROLE_LABEL}=segment,${POLICY_LABEL}=${labelValue(name)}`,
    });
    const chains = new Map<string, Segment[]>();
    for (const map of list.items) {
      const uid = map.metadata?.labels?.[UID_LABEL] ?? '';
      chains.set(
        uid,
        [...(chains.get(uid) ?? []), toSegment(map)].sort((a, b) => a.index - b.index),
      );
    }
    return chains;
  }

  async create(policy: PolicyRef, index: number, lines: string[]): Promise<Segment> {
    const body: V1ConfigMap = {
      metadata: {
        name: segmentName(policy, index),
        namespace: policy.namespace,
        labels: {
          ...MANAGED_BY,
          [ROLE_LABEL]: 'segment',
          [UID_LABEL]: policy.uid,
          [POLICY_LABEL]: labelValue(policy.name),
          [INDEX_LABEL]: String(index),
        },
        ownerReferences: this.options.keepAfterDeletion ? undefined : [ownerOf(policy)],
      },
      data: { [DATA_KEY]: `${lines.join('\n')}\n` },
    };
    return toSegment(await this.core.createNamespacedConfigMap({ namespace: policy.namespace, body }));
  }

  /** Replaces a segment's lines (and seals it) if nobody changed it since `segment.resourceVersion`. */
  async replace(segment: Segment, lines: string[], sealed: boolean): Promise<Segment> {
    const current = segment.object;
    const body: V1ConfigMap = {
      ...current,
      metadata: {
        ...current.metadata,
        resourceVersion: segment.resourceVersion,
        annotations: { ...current.metadata?.annotations, ...(sealed ? { [SEALED_ANNOTATION]: 'true' } : {}) },
      },
      data: { ...current.data, [DATA_KEY]: `${lines.join('\n')}\n` },
    };
    return toSegment(
      await this.core.replaceNamespacedConfigMap({ name: segment.name, namespace: segment.namespace, body }),
    );
  }

  /** Deletes a segment if it is still the version that was read (a precondition on resourceVersion). */
  async delete(segment: Segment): Promise<void> {
    await this.core.deleteNamespacedConfigMap({
      name: segment.name,
      namespace: segment.namespace,
      body: { preconditions: { resourceVersion: segment.resourceVersion } },
    });
  }
}

export function ownerOf(policy: PolicyRef): V1OwnerReference {
  return policyOwner(policy.name, policy.uid);
}

/** The entries of segments, parsed (the caller verifies them). */
export function segmentLines(segments: Segment[]): string[] {
  return segments.flatMap((s) => s.lines);
}

export type { AuditEntry };
