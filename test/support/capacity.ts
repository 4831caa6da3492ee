import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import type { Sandbox } from '@kubestead/sandbox';

const ready = (pod: V1Pod): boolean =>
  !pod.metadata?.deletionTimestamp &&
  pod.status?.phase === 'Running' &&
  (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/**
 * Samples the pods ready to serve in a namespace (every pod of the app: primary and canary) every `everyMs`, for the
 * capacity invariant of docs/hpa.md: `stop()` gives every sample taken, in order.
 */
export function sampleReadyPods(sandbox: Sandbox, namespace: string, everyMs = 100): { stop(): Promise<number[]> } {
  const core = sandbox.client(CoreV1Api);
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const pods = await core.listNamespacedPod({ namespace });
      samples.push(pods.items.filter(ready).length);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}
