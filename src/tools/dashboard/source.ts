import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock/clock.js';
import type { KubeClients } from '../../adapters/kube/clients.js';
import { policyInformer } from '../../runtime/controller/informers.js';
import { summarize, type PolicyDetail, type PolicyObjectView, type PolicySummary } from '../view/document.js';
import { readDetail, readSummaries } from '../view/read.js';

/**
 * What the dashboard shows, from one place: the policies (the informer's cache once it has listed,
 * a list before), one policy's status document (the same readDetail as `kubestead status -o json`),
 * and each change the informer sees, for the live updates.
 */
export interface DashboardSource {
  summaries(): Promise<PolicySummary[]>;
  detail(namespace: string, name: string): Promise<PolicyDetail>;
  /** Calls `listener` with a policy's new summary on every change (deleted: `deleted` is true); returns the unsubscribe. */
  onChange(listener: (summary: PolicySummary, deleted: boolean) => void): () => void;
  close(): Promise<void>;
}

export interface ClusterSourceOptions {
  clients: KubeClients;
  kubeConfig: KubeConfig;
  /** The namespace to show (undefined: every namespace). */
  namespace: string | undefined;
  clock: Clock;
  logger: Logger;
}

const byName = (a: PolicySummary, b: PolicySummary): number =>
  a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);

/** A source over a cluster: a policy informer (one watch) for the list and the live updates. */
export function clusterSource(options: ClusterSourceOptions): DashboardSource {
  const { clients, namespace } = options;
  const informer = policyInformer(clients, namespace, options);
  const listeners = new Set<(summary: PolicySummary, deleted: boolean) => void>();
  const tell = (deleted: boolean) => (object: KubernetesObject) => {
    const summary = summarize(object);
    for (const listener of listeners) listener(summary, deleted);
  };
  informer.on('add', tell(false));
  informer.on('update', tell(false));
  informer.on('delete', tell(true));
  informer.start();
  return {
    async summaries() {
      if (!informer.synced()) return readSummaries(clients, namespace === undefined ? null : [namespace]);
      return informer.store
        .list()
        .map((o) => summarize(o as PolicyObjectView))
        .sort(byName);
    },
    detail: (ns, name) => readDetail(clients, ns, name),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => informer.stop(),
  };
}
