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
});
