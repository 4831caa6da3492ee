import { CoreV1Api, Watch, type V1Pod } from '@kubernetes/client-node';
import type { Sandbox } from '@kubestead/sandbox';
import { waitFor } from './wait.js';

const ready = (pod: V1Pod): boolean =>
  !pod.metadata?.deletionTimestamp &&
  pod.status?.phase === 'Running' &&
  (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/**
 * The pods ready to serve in a namespace (every pod of the app: primary and canary) after every change to any of
 * them, for the capacity invariant of docs/hpa.md. A watch, not a timer: no state the API server shows is missed,
 * however fast or slow the machine. Resolves once the watch is open; `stop()` waits for the watch to catch up and
 * gives every sample, in order, the first being the count before anything changed.
 */
export async function sampleReadyPods(sandbox: Sandbox, namespace: string): Promise<{ stop(): Promise<number[]> }> {
  const listed = await sandbox.client(CoreV1Api).listNamespacedPod({ namespace });
  const pods = new Map(listed.items.map((pod) => [pod.metadata?.uid ?? '', pod]));
  const count = () => [...pods.values()].filter(ready).length;
  const samples = [count()];
  let failure: unknown;
  const watching = await new Watch(sandbox.kubeConfig()).watch(
    `/api/v1/namespaces/${namespace}/pods`,
    { resourceVersion: listed.metadata?.resourceVersion },
    (type: string, pod: V1Pod) => {
      if (type === 'DELETED') pods.delete(pod.metadata?.uid ?? '');
      else if (type === 'ADDED' || type === 'MODIFIED') pods.set(pod.metadata?.uid ?? '', pod);
      else return;
      samples.push(count());
    },
    (error: unknown) => {
      if (error && !(error instanceof Error && error.name === 'AbortError')) failure = error;
    },
  );
  return {
    async stop() {
      // Every change up to now delivered: the watch has caught up with a fresh list.
      const now = await sandbox.client(CoreV1Api).listNamespacedPod({ namespace });
      const caughtUp = () =>
        pods.size === now.items.length &&
        now.items.every(
          (p) => pods.get(p.metadata?.uid ?? '')?.metadata?.resourceVersion === p.metadata?.resourceVersion,
        );
      await waitFor(() => failure !== undefined || caughtUp(), 10_000, 'the pod watch to catch up');
      watching.abort();
      if (failure)
        throw new Error(
          `the pod watch failed: ${failure instanceof Error ? failure.message : JSON.stringify(failure)}`,
        );
      return samples;
    },
  };
}
