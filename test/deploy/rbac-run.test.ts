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
import { CallTally, Features, FEATURES_SELECTOR } from './rbac-features.js';
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
 * shipped ClusterRole and leader-election Role, nothing more. Every feature that calls the API plays
 * in the one sandbox (rbac-features.ts): a rule missing from the manifest is a 403 naming the call.
 */
describe('the controller with exactly the shipped RBAC', () => {
  let sandbox: Sandbox;
  let metrics: LocalServer;
  let operator: (OperatorProcess & { metricsPort: number }) | undefined;
  let sharded: OperatorProcess | undefined;
  let features: Features | undefined;
  let tally: CallTally;
  const traffic = new ShopTraffic(systemClock);

  beforeAll(async () => {
    sandbox = await testSandbox({ rbac: true });
    tally = new CallTally(sandbox, SERVICE_ACCOUNT);
    const { policies } = await loadPolicyFile(DEMO_POLICY_FILE);
    metrics = await startBuiltInPrometheus(policies[0]!.policy, traffic, systemClock);
  });
  afterAll(async () => {
    await operator?.close();
    await sharded?.close();
    await features?.close();
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

  it('plays every feature that calls the API as the ServiceAccount: no call refused, every call reached', async () => {
    const kubeconfig = await sandbox.addUser('kubestead-sa-token-0123456789', {
      username: SERVICE_ACCOUNT,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:kubestead-system', 'system:authenticated'],
    });
    const { stdout: whoami } = await exec(KUBECTL, ['auth', 'can-i', 'update', 'deployments', '-n', 'shop'], {
      env: { ...process.env, KUBECONFIG: kubeconfig },
    });
    expect(whoami.trim()).toBe('yes');
    features = await Features.prepare(sandbox);
    await createShop(sandbox.kubeConfig());
    const policies = new DemoPolicyApi(sandbox.kubeConfig());
    await policies.apply(await readDemoPolicy(metrics.url));
    // The shop's canary: leader election as shipped, in its namespace. Every other feature: `--shards auto`
    // (membership Leases), cluster-wide, for the policies labelled as the run's features.
    const leases = ['--kubeconfig', kubeconfig, '--lease-namespace', 'kubestead-system'];
    operator = await OperatorProcess.start(sandbox, [...leases, '--leader-elect', '--namespace', 'shop']);
    sharded = await OperatorProcess.start(sandbox, [
      ...leases,
      '--shards',
      'auto',
      '--shard-selector',
      FEATURES_SELECTOR,
    ]);
    const shop = async () => {
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
    };
    const played = await Promise.allSettled([shop(), features.play()]);
    await sharded.close(); // its watches end: the sandbox logs them then
    expect(tally.denied, 'calls the shipped rules refuse').toEqual([]);
    for (const outcome of played)
      if (outcome.status === 'rejected')
        throw new Error(
          `${String(outcome.reason)}\n--- kubestead run --shards auto:\n${sharded.raw.slice(-40).join('\n')}`,
        );
    await waitFor(
      () => tally.missing(features!.calls).length === 0,
      5000,
      () => `every call of the product reached; not reached: ${tally.missing(features!.calls).join(', ')}`,
    );
  }, 180_000);

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
