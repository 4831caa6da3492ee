import type { KubeClients } from '../../../adapters/kube/clients.js';
import { segmentLines, SegmentStore, type Segment } from './segments.js';
import { policyPath } from '../../../adapters/kube/names.js';
import { isNotFound } from '../../../adapters/kube/errors.js';

/** No chain to export: the message names the namespace and the policy. */
export class ChainNotFoundError extends Error {}

/** The uid of the live RolloutPolicy, or null when it is gone (its chain may be kept by retention). */
export async function policyUid(clients: KubeClients, namespace: string, name: string): Promise<string | null> {
  try {
    const policy = (await clients.custom.getNamespacedCustomObject(policyPath(namespace, name))) as {
      metadata?: { uid?: string };
    };
    return policy.metadata?.uid ?? null;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

function newestChain(chains: Map<string, Segment[]>): Segment[] {
  const ranked = [...chains.values()].sort(
    (a, b) =>
      (b.at(-1)?.object.metadata?.creationTimestamp?.getTime?.() ?? 0) -
      (a.at(-1)?.object.metadata?.creationTimestamp?.getTime?.() ?? 0),
  );
  return ranked[0] ?? [];
}

/**
 * The chain of a policy as stored lines, oldest first: the live policy's chain, or, when the policy is
 * gone, the newest chain kept under its name. `since` keeps entries whose time is at or after it.
 */
export async function readChainLines(
  clients: KubeClients,
  namespace: string,
  name: string,
  since?: Date,
): Promise<string[]> {
  const store = new SegmentStore(clients, { keepAfterDeletion: true });
  const uid = await policyUid(clients, namespace, name);
  const segments = uid ? await store.list(namespace, uid) : newestChain(await store.listByName(namespace, name));
  if (segments.length === 0) throw new ChainNotFoundError(`no audit chain for RolloutPolicy ${namespace}/${name}`);
  const lines = segmentLines(segments);
  if (since === undefined) return lines;
  return lines.filter((line) => {
    const time = (JSON.parse(line) as { time?: string }).time;
    return time !== undefined && new Date(time).getTime() >= since.getTime();
  });
}
