import { AppsV1Api, CoreV1Api, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import { deploymentBody, testSandbox } from '../../../test/support/sandbox.js';
import { waitFor } from '../../../test/support/wait.js';

/** Pod behaviour chosen by image tag, with the kubelet's reasons and Warning events. */

let sandbox: Sandbox;
let core: CoreV1Api;
const NS = 'pods';

async function podOf(name: string): Promise<V1Pod> {
  return waitFor(
    async () => (await core.listNamespacedPod({ namespace: NS, labelSelector: `app=${name}` })).items[0],
    8000,
    `a pod of ${name}`,
  );
}

async function warning(pod: V1Pod, reason: string): Promise<CoreV1Event> {
  return waitFor(
    async () =>
      (
        await core.listNamespacedEvent({
          namespace: NS,
          fieldSelector: `involvedObject.name=${pod.metadata?.name ?? ''},reason=${reason}`,
        })
      ).items[0],
    8000,
    `a ${reason} event`,
  );
}

function reasonsOf(pod: V1Pod | undefined): string[] {
  const status = pod?.status?.containerStatuses?.[0];
  return [status?.state?.waiting?.reason ?? '', status?.lastState?.terminated?.reason ?? ''];
}

async function waitingReason(name: string, reasons: string[]): Promise<V1Pod> {
  return waitFor(
    async () => {
      const pod = (await core.listNamespacedPod({ namespace: NS, labelSelector: `app=${name}` })).items[0];
      return reasonsOf(pod).some((r) => reasons.includes(r)) ? pod : undefined;
    },
    8000,
    `${name}: ${reasons.join(' or ')}`,
  );
}

beforeAll(async () => {
  sandbox = await testSandbox({ workloads: { readyDelayMs: 60, crashIntervalMs: 120, resyncMs: 100 } });
  core = sandbox.client(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
  const apps = sandbox.client(AppsV1Api);
  for (const [name, tag] of [
    ['crash', 'crashloop'],
    ['unready', 'unready'],
    ['pull', 'errimagepull'],
    ['oom', 'oomkilled'],
  ] as const) {
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: deploymentBody(name, { containers: [{ name: 'app', image: `shop/app:${tag}` }] }),
    });
  }
});
afterAll(async () => sandbox.close());

describe('pod behaviour by image tag', () => {
  it(':crashloop restarts with CrashLoopBackOff and BackOff Warnings', async () => {
    const pod = await waitingReason('crash', ['CrashLoopBackOff']);
    expect(pod.status?.containerStatuses?.[0]?.restartCount).toBeGreaterThan(0);
    expect((await warning(pod, 'BackOff')).type).toBe('Warning');
  });

  it(':unready runs but never becomes Ready, with Unhealthy Warnings', async () => {
    const pod = await podOf('unready');
    const event = await warning(pod, 'Unhealthy');
    expect([event.type, event.message]).toEqual([
      'Warning',
      'Readiness probe failed: HTTP probe failed with statuscode: 503',
    ]);
    const now = await core.readNamespacedPod({ name: pod.metadata!.name!, namespace: NS });
    expect(now.status?.phase).toBe('Running');
    expect(now.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
  });

  it(':errimagepull stays Pending in ErrImagePull / ImagePullBackOff, with Failed and BackOff Warnings', async () => {
    const pod = await waitingReason('pull', ['ImagePullBackOff']);
    expect(pod.status?.phase).toBe('Pending');
    expect((await warning(pod, 'Failed')).message).toBe('Error: ErrImagePull');
    expect((await warning(pod, 'BackOff')).message).toBe('Back-off pulling image "shop/app:errimagepull"');
  });

  it(':oomkilled is terminated with OOMKilled (exit 137) and restarts', async () => {
    const pod = await waitingReason('oom', ['OOMKilled']);
    expect(pod.status?.containerStatuses?.[0]?.lastState?.terminated).toMatchObject({
      reason: 'OOMKilled',
      exitCode: 137,
    });
    expect((await warning(pod, 'BackOff')).type).toBe('Warning');
  });
});
