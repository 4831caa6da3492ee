import {
  AutoscalingV1Api,
  AutoscalingV2Api,
  KubeConfig,
  Watch,
  type V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import { kubectlFor, kubectlPresent, type Kubectl } from '../../../test/support/kubectl.js';
import { deploymentBody, raw, testSandbox } from '../../../test/support/sandbox.js';
import { waitFor } from '../../../test/support/wait.js';

let sandbox: Sandbox;
let kubectl: Kubectl;
let v2: AutoscalingV2Api;
let v1: AutoscalingV1Api;
let kc: KubeConfig;

beforeAll(async () => {
  // The HPAs of the API tests target no Deployment: the controller must not sync them while a test writes and reads
  // their status (it would write FailedGetScale), so this sandbox syncs once an hour; the autoscale test has its own.
  sandbox = await testSandbox({ hpaSyncMs: 3_600_000 });
  kc = new KubeConfig();
  kc.loadFromFile(sandbox.kubeconfigPath);
  v2 = kc.makeApiClient(AutoscalingV2Api);
  v1 = kc.makeApiClient(AutoscalingV1Api);
  kubectl = await kubectlFor(sandbox);
});

afterAll(async () => {
  await kubectl.close();
  await sandbox.close();
});

function hpa(name: string, target = 50): V2HorizontalPodAutoscaler {
  return {
    metadata: { name },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      maxReplicas: 6,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } },
      ],
    },
  };
}

describe('HorizontalPodAutoscaler API', () => {
  it('is discovered at autoscaling v2 (preferred) and v1', async () => {
    const group = await raw(sandbox, 'GET', '/apis/autoscaling');
    const body = group.body as { preferredVersion: { version: string }; versions: Array<{ version: string }> };
    expect(body.preferredVersion.version).toBe('v2');
    expect(body.versions.map((v) => v.version)).toEqual(['v2', 'v1']);
    const v1List = await raw(sandbox, 'GET', '/apis/autoscaling/v1');
    const names = (v1List.body as { resources: Array<{ name: string }> }).resources.map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(['horizontalpodautoscalers', 'horizontalpodautoscalers/status']));
  });

  it('creates with the defaults, reads at v1 as the converted object, and watches', async () => {
    const seen: string[] = [];
    const watch = await new Watch(kc).watch(
      '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers',
      {},
      (phase, o: V2HorizontalPodAutoscaler) => seen.push(`${phase} ${o.metadata?.name}`),
      () => undefined,
    );
    const created = await v2.createNamespacedHorizontalPodAutoscaler({ namespace: 'default', body: hpa('crud') });
    expect(created.spec?.minReplicas).toBe(1);
    const old = await v1.readNamespacedHorizontalPodAutoscaler({ namespace: 'default', name: 'crud' });
    expect(old.apiVersion).toBe('autoscaling/v1');
    expect(old.spec?.targetCPUUtilizationPercentage).toBe(50);
    await v1.replaceNamespacedHorizontalPodAutoscaler({
      namespace: 'default',
      name: 'crud',
      body: { ...old, spec: { ...old.spec!, targetCPUUtilizationPercentage: 70 } },
    });
    const back = await v2.readNamespacedHorizontalPodAutoscaler({ namespace: 'default', name: 'crud' });
    expect(back.spec?.metrics?.[0]?.resource?.target.averageUtilization).toBe(70);
    await v2.deleteNamespacedHorizontalPodAutoscaler({ namespace: 'default', name: 'crud' });
    await waitFor(() => seen.includes('DELETED crud'), 8000, 'the watch to see the deletion');
    watch.abort();
    expect(seen.slice(0, 3)).toEqual(['ADDED crud', 'MODIFIED crud', 'DELETED crud']);
  });

  it('writes status only through the status subresource', async () => {
    await v2.createNamespacedHorizontalPodAutoscaler({ namespace: 'default', body: hpa('st') });
    const current = await v2.readNamespacedHorizontalPodAutoscaler({ namespace: 'default', name: 'st' });
    const status = { currentReplicas: 3, desiredReplicas: 4 };
    await v2.replaceNamespacedHorizontalPodAutoscaler({
      namespace: 'default',
      name: 'st',
      body: { ...current, status },
    });
    const unchanged = await v2.readNamespacedHorizontalPodAutoscaler({ namespace: 'default', name: 'st' });
    expect(unchanged.status?.currentReplicas ?? 0).toBe(0);
    await v2.replaceNamespacedHorizontalPodAutoscalerStatus({
      namespace: 'default',
      name: 'st',
      body: { ...unchanged, status },
    });
    const v1Status = await v1.readNamespacedHorizontalPodAutoscalerStatus({ namespace: 'default', name: 'st' });
    expect(v1Status.status).toMatchObject({ currentReplicas: 3, desiredReplicas: 4 });
  });

  it.skipIf(!kubectlPresent)('prints the columns of kubectl get hpa', async () => {
    const r = await kubectl.run('get', 'hpa', 'st');
    expect(r.code, r.stderr).toBe(0);
    const [header, row] = r.stdout.trim().split('\n');
    expect(header!.split(/\s+/)).toEqual(['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']);
    expect(row).toMatch(/^st\s+Deployment\/web\s+cpu: <unknown>\/50%\s+1\s+6\s+3\s+\d+s$/);
  });

  it.skipIf(!kubectlPresent)(
    'kubectl autoscale creates one, and kubectl describe hpa shows its conditions',
    async () => {
      const syncing = await testSandbox({ hpaSyncMs: 200 });
      try {
        await autoscaleAndDescribe(syncing);
      } finally {
        await syncing.close();
      }
    },
  );
});

/** `kubectl autoscale` on a Deployment with a CPU load, then `kubectl describe hpa`, against a sandbox that syncs often. */
async function autoscaleAndDescribe(sandbox: Sandbox): Promise<void> {
  const kubectl = await kubectlFor(sandbox);
  const kc = new KubeConfig();
  kc.loadFromFile(sandbox.kubeconfigPath);
  const v2 = kc.makeApiClient(AutoscalingV2Api);
  try {
    const body = deploymentBody('auto', {}, { replicas: 2 });
    body.spec!.template.spec!.containers[0]!.resources = { requests: { cpu: '100m' } };
    body.metadata!.annotations = { 'sandbox.kubestead.io/cpu-load': '100m' };
    const created = await raw(sandbox, 'POST', '/apis/apps/v1/namespaces/default/deployments', {
      body: JSON.stringify(body),
      contentType: 'application/json',
    });
    expect(created.status).toBe(201);
    const r = await kubectl.run('autoscale', 'deployment', 'auto', '--min=2', '--max=6', '--cpu-percent=50');
    expect(r.code, r.stderr).toBe(0);
    const hpa = await waitFor(
      async () => {
        const h = await v2.readNamespacedHorizontalPodAutoscaler({ namespace: 'default', name: 'auto' });
        return h.status?.conditions?.some((c) => c.type === 'ScalingActive' && c.status === 'True') ? h : undefined;
      },
      8000,
      'the autoscaler to find its metric',
    );
    expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
    const described = await kubectl.run('describe', 'hpa', 'auto');
    expect(described.code, described.stderr).toBe(0);
    expect(described.stdout).toMatch(/Reference:\s+Deployment\/auto/);
    expect(described.stdout).toMatch(/Min replicas:\s+2/);
    expect(described.stdout).toMatch(/ScalingActive\s+True\s+ValidMetricFound/);
    expect(described.stdout).toMatch(/AbleToScale\s+True/);
    // more load: the rescale's Event, worded as a real HPA's, in describe's Events and kubectl get events
    const annotated = await kubectl.run(
      'annotate',
      'deployment',
      'auto',
      'sandbox.kubestead.io/cpu-load=300m',
      '--overwrite',
    );
    expect(annotated.code, annotated.stderr).toBe(0);
    const rescaled =
      /SuccessfulRescale\s+.*New size: 4; reason: cpu resource utilization \(percentage of request\) above target/;
    const events = await waitFor(
      async () => {
        const r = await kubectl.run('describe', 'hpa', 'auto');
        return rescaled.test(r.stdout) ? r.stdout : undefined;
      },
      8000,
      'the SuccessfulRescale Event in kubectl describe hpa',
    );
    expect(events).toMatch(/Normal\s+SuccessfulRescale\s+\S+\s+horizontal-pod-autoscaler\s+New size: 4/);
    const listed = await kubectl.run('get', 'events', '--field-selector', 'reason=SuccessfulRescale', '-o', 'name');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^event\/auto\./m);
  } finally {
    await kubectl.close();
  }
}
