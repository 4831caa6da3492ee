import { CoreV1Api, Watch, type V1Pod } from '@kubernetes/client-node';
import type { Sandbox } from '@kubestead/sandbox';
import { waitFor } from './wait.js';

/** A pod that serves: Running, Ready, and not being deleted. */
export const serving = (pod: V1Pod): boolean =>
  !pod.metadata?.deletionTimestamp &&
  pod.status?.phase === 'Running' &&
  (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export interface PodSampler<T> {
  /** Every sample so far, in order (it grows while the watch runs). */
  readonly samples: T[];
  /** Waits for the watch to catch up with a fresh list, stops it, and gives every sample. */
  stop(): Promise<T[]>;
}

/**
 * A namespace's pods summarized after every change to any of them, for the capacity invariants (docs/hpa.md,
 * fast revert). A watch, not a timer: no state the API server shows is missed, however fast or slow the machine.
 * Resolves once the watch is open; the first sample is the state before anything changed.
 */
export async function watchPods<T>(
  sandbox: Sandbox,
  namespace: string,
  summarize: (pods: V1Pod[]) => T,
): Promise<PodSampler<T>> {
  const core = sandbox.client(CoreV1Api);
  const listed = await core.listNamespacedPod({ namespace });
  const pods = new Map(listed.items.map((pod) => [pod.metadata?.uid ?? '', pod]));
  const samples = [summarize([...pods.values()])];
  let failure: unknown;
  const watching = await new Watch(sandbox.kubeConfig()).watch(
    `/api/v1/namespaces/${namespace}/pods`,
    // timeoutSeconds: the server keeps it open that long (a watch without one is closed after seconds in tests).
    { resourceVersion: listed.metadata?.resourceVersion, timeoutSeconds: 600 },
    (type: string, pod: V1Pod) => {
      if (type === 'DELETED') pods.delete(pod.metadata?.uid ?? '');
      else if (type === 'ADDED' || type === 'MODIFIED') pods.set(pod.metadata?.uid ?? '', pod);
      else return;
      samples.push(summarize([...pods.values()]));
    },
    (error: unknown) => {
      if (error && !(error instanceof Error && error.name === 'AbortError')) failure = error;
    },
  );
  let stopped = false;
  return {
    samples,
    async stop() {
      if (stopped) return samples;
      stopped = true;
      const now = await core.listNamespacedPod({ namespace });
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

/** The count of serving pods (primary and canary together) after every change. */
export function sampleReadyPods(sandbox: Sandbox, namespace: string): Promise<PodSampler<number>> {
  return watchPods(sandbox, namespace, (pods) => pods.filter(serving).length);
}
