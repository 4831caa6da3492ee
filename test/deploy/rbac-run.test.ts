import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/lib/clock/clock.js';
import { ShopTraffic } from '../../src/tools/demo/exporter.js';
import type { LocalServer } from '../../src/tools/demo/http.js';
import { startBuiltInPrometheus } from '../../src/tools/demo/metrics-source.js';
import {
  createShop,
  DEMO_POLICY_FILE,
  DemoPolicyApi,
  readDemoPolicy,
  releaseShop,
} from '../../src/tools/demo/shop-cluster.js';
import { loadPolicyFile } from '../../src/pipeline/policy/load.js';
import type { Sandbox } from '@kubestead/sandbox';
import { OperatorProcess } from '../controller/process.js';
import { ROOT } from '../helpers.js';
import { testSandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

const exec = promisify(execFile);
const MANIFEST = resolve(ROOT, 'deploy/kubestead-controller.yaml');
const KUBECTL = '/usr/bin/kubectl';
const SERVICE_ACCOUNT = 'system:serviceaccount:kubestead-system:kubestead-controller';

const kubectl = (sandbox: Sandbox, ...args: string[]) =>
  exec(KUBECTL, args, { env: { ...process.env, KUBECONFIG: sandbox.kubeconfigPath }, cwd: ROOT });

/**
 * The shipped install in the sandbox's RBAC mode: `kubectl apply -f deploy/kubestead-controller.yaml`,
 * then `kubestead run` with a token of the manifest's ServiceAccount, so that it has exactly the
 * shipped ClusterRole and leader-election Role, nothing more.
 */
describe('the controller with exactly the shipped RBAC', () => {
  let sandbox: Sandbox;
  let metrics: LocalServer;
  let operator: (OperatorProcess & { metricsPort: number }) | undefined;
  const traffic = new ShopTraffic(systemClock);

  beforeAll(async () => {
    sandbox = await testSandbox({ rbac: true });
    const { policies } = await loadPolicyFile(DEMO_POLICY_FILE);
    metrics = await startBuiltInPrometheus(policies[0]!.policy, traffic, systemClock);
  });
  afterAll(async () => {
    await operator?.close();
    await metrics?.close();
    await sandbox?.close();
  });

  it('kubectl applies the manifest', async () => {
    const { stdout } = await kubectl(sandbox, 'apply', '-f', MANIFEST);
    for (const line of [
      'namespace/kubestead-system created',
      'customresourcedefinition.apiextensions.k8s.io/rolloutpolicies.kubestead.io created',
      'serviceaccount/kubestead-controller created',
      'clusterrole.rbac.authorization.k8s.io/kubestead-controller created',
      'clusterrolebinding.rbac.authorization.k8s.io/kubestead-controller created',
      'role.rbac.authorization.k8s.io/kubestead-leader-election created',
      'rolebinding.rbac.authorization.k8s.io/kubestead-leader-election created',
      'deployment.apps/kubestead-controller created',
    ]) {
      expect(stdout).toContain(line);
    }
  });

  it('completes a canary as the ServiceAccount (leader election as shipped)', async () => {
    const kubeconfig = await sandbox.addUser('kubestead-sa-token-0123456789', {
      username: SERVICE_ACCOUNT,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:kubestead-system', 'system:authenticated'],
    });
    const { stdout: whoami } = await exec(KUBECTL, ['auth', 'can-i', 'update', 'deployments', '-n', 'shop'], {
      env: { ...process.env, KUBECONFIG: kubeconfig },
    });
    expect(whoami.trim()).toBe('yes');
    await createShop(sandbox.kubeConfig());
    const policies = new DemoPolicyApi(sandbox.kubeConfig());
    await policies.apply(await readDemoPolicy(metrics.url));
    operator = await OperatorProcess.start(sandbox, [
      '--kubeconfig',
      kubeconfig,
      '--leader-elect',
      '--lease-namespace',
      'kubestead-system',
    ]);
    await waitFor(
      async () => (await policies.read()).status?.phase === 'Idle',
      60_000,
      () => `phase Idle\n${operator!.raw.join('\n')}`,
    );
    const since = Date.now();
    await releaseShop(sandbox.kubeConfig(), '2');
    const status = await waitFor(
      async () => {
        const s = (await policies.read()).status;
        return s?.phase === 'Succeeded' && Date.parse(s.lastDecision?.time ?? '') >= since ? s : undefined;
      },
      90_000,
      () => `phase Succeeded\n${operator!.raw.join('\n')}`,
    );
    expect(status.lastDecision?.action).toBe('promote');
    const asServiceAccount = sandbox.requests.list({}).filter((r) => r.user === SERVICE_ACCOUNT);
    expect(asServiceAccount.some((r) => r.method === 'PATCH' && r.path.endsWith('/deployments/shop/scale'))).toBe(true);
    const forbidden = asServiceAccount.filter((r) => r.code === 403);
    expect(forbidden, JSON.stringify(forbidden)).toEqual([]);
  }, 150_000);

  it('without `patch` on deployments/scale, the next release fails with a clear 403 naming the verb and resource, in status and log', async () => {
    const rbac = sandbox.client(RbacAuthorizationV1Api);
    const role = await rbac.readClusterRole({ name: 'kubestead-controller' });
    const rules = (role.rules ?? []).map((rule) =>
      rule.resources?.includes('deployments/scale')
        ? { ...rule, verbs: rule.verbs.filter((v) => v !== 'patch') }
        : rule,
    );
    expect(rules).not.toEqual(role.rules);
    await rbac.replaceClusterRole({ name: 'kubestead-controller', body: { ...role, rules } });
    const policies = new DemoPolicyApi(sandbox.kubeConfig());
    await releaseShop(sandbox.kubeConfig(), '3');
    const refusal =
      'HTTP 403: deployments.apps "shop" is forbidden: User "system:serviceaccount:kubestead-system:kubestead-controller" cannot patch resource "deployments/scale" in API group "apps" in the namespace "shop"; the controller\'s ServiceAccount needs that rule (docs/operating.md lists the RBAC rules)';
    const degraded = await waitFor(
      async () => {
        const conditions = (await policies.read()).status?.conditions ?? [];
        return conditions.find((c) => c.type === 'Degraded' && c.status === 'True');
      },
      60_000,
      () => `Degraded=True in the status\n${operator!.raw.join('\n')}`,
    );
    expect(degraded).toMatchObject({ reason: 'Forbidden', message: refusal });

    const logged = await waitFor(
      () => operator!.lines.find((l) => l.msg === 'reconcile failed; retrying'),
      30_000,
      'the refusal in the log',
    );
    expect(logged).toMatchObject({ namespace: 'shop', policy: 'shop', err: refusal });
    expect(operator!.raw.join('\n')).not.toMatch(/\n\s+at |Headers:|HTTP-Code/);

    // `kubestead status` shows it too.
    const { stdout } = await exec(process.execPath, [resolve(ROOT, 'bin/kubestead'), 'status', 'shop', '-n', 'shop'], {
      env: { ...process.env, KUBECONFIG: sandbox.kubeconfigPath },
    });
    expect(stdout).toContain(`  degraded Forbidden: ${refusal}`);
  }, 120_000);
});
