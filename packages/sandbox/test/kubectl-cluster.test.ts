import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import { kubectlFor, kubectlPresent, type Kubectl } from '../../../test/support/kubectl.js';
import { testSandbox } from '../../../test/support/sandbox.js';
import { waitFor } from '../../../test/support/wait.js';

/** The real kubectl on what a cluster has besides Deployments: its node, bare pods, rollbacks, autoscalers. */

let sandbox: Sandbox;
let kubectl: Kubectl;

async function ok(...args: string[]): Promise<string> {
  const r = await kubectl.run(...args);
  expect(r.code, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

describe.skipIf(!kubectlPresent)('the real kubectl on nodes, pods, rollbacks and autoscalers', () => {
  beforeAll(async () => {
    sandbox = await testSandbox();
    kubectl = await kubectlFor(sandbox);
    await ok('create', 'namespace', 'kc');
  });
  afterAll(async () => {
    await kubectl.close();
    await sandbox.close();
  });

  it('lists the node with its columns', async () => {
    const lines = (await ok('get', 'nodes', '-o', 'wide')).trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE/);
    expect(lines[1]).toMatch(/^sandbox-node\s+Ready\s+control-plane\s+\S+\s+v1\.32\.0\S*\s+10\.0\.0\.10\s+<none>/);
  });

  it('runs a bare pod (kubectl run) and says why exec and logs cannot work', async () => {
    await waitFor(async () => (await kubectl.run('get', 'sa', 'default', '-n', 'kc')).code === 0, 5000, 'the SA');
    await ok('run', 'hello', '-n', 'kc', '--image=busybox', '--restart=Never', '--', 'sleep', '3600');
    await ok('wait', '--for=condition=Ready', 'pod/hello', '-n', 'kc', '--timeout=15s');
    expect(await ok('get', 'pod', 'hello', '-n', 'kc', '-o', 'jsonpath={.spec.nodeName} {.status.phase}')).toBe(
      'sandbox-node Running',
    );
    const logs = await kubectl.run('logs', 'hello', '-n', 'kc');
    expect(logs.code).not.toBe(0);
    expect(logs.stderr).toContain('the sandbox simulates pods and runs no containers');
  });

  it('rollout undo goes back to the old ReplicaSet (templates compared as Go values), not to a third', async () => {
    interface ReplicaSetJson {
      metadata: { name: string; annotations: Record<string, string> };
      spec: { replicas: number };
    }
    const replicaSets = async (): Promise<string[]> => {
      const list = JSON.parse(await ok('get', 'rs', '-n', 'kc', '-l', 'app=web', '-o', 'json')) as {
        items: ReplicaSetJson[];
      };
      return list.items.map(
        (rs) =>
          `${rs.metadata.name} rev=${rs.metadata.annotations['deployment.kubernetes.io/revision']} ` +
          `replicas=${rs.spec.replicas}`,
      );
    };
    await ok('create', 'deployment', 'web', '-n', 'kc', '--image=web:1', '--replicas=2');
    await ok('rollout', 'status', 'deployment/web', '-n', 'kc', '--timeout=20s');
    const [first] = await replicaSets();
    await ok('set', 'image', 'deployment/web', 'web=web:2', '-n', 'kc');
    await ok('rollout', 'status', 'deployment/web', '-n', 'kc', '--timeout=20s');
    expect(await ok('rollout', 'undo', 'deployment/web', '-n', 'kc')).toContain('rolled back');
    await ok('rollout', 'status', 'deployment/web', '-n', 'kc', '--timeout=20s');
    const after = await replicaSets();
    expect(after).toHaveLength(2);
    const firstName = first?.split(' ')[0] ?? '';
    expect(after).toContain(`${firstName} rev=3 replicas=2`);
    expect(
      await ok('get', 'deploy', 'web', '-n', 'kc', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'),
    ).toBe('web:1');
    const history = await ok('rollout', 'history', 'deployment/web', '-n', 'kc');
    expect(
      history
        .trim()
        .split('\n')
        .slice(2)
        .map((l) => l.trim().split(/\s+/)[0]),
    ).toEqual(['2', '3']);
  });
});
