import type { Sandbox } from '@kubestead/sandbox';
import { describe, expect, it } from 'vitest';
import { prometheusTestsEnabled } from '../../metrics/prometheus-harness.js';
import { chainHoldingI, releaseActuations, replacedIn } from '../../support/rollout-checks.js';
import { raw } from '../../support/sandbox.js';
import { waitFor } from '../../support/wait.js';
import {
  apply,
  deploymentPath,
  getObject,
  imageOf,
  kubectl,
  operatorCluster,
  policyYaml,
  waitForPhase,
  workloadYaml,
} from '../../e2e/support.js';

/** The shared policy with a first step that soaks long: the canary stays at step 1 until the breach rolls it back. */
const longFirstStep = (ns: string, prometheus: string): string =>
  replacedIn(policyYaml(ns, 'checkout', prometheus), '{weight: 25, soak: 3s}', '{weight: 25, soak: 120s}');

const holder = async (sandbox: Sandbox, ns: string): Promise<unknown> =>
  (await raw(sandbox, 'GET', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/kubestead-controller`)).body?.spec
    ?.holderIdentity;

describe.runIf(prometheusTestsEnabled())('row 4: a failover during a rollback', () => {
  const cluster = operatorCluster();

  it('two kubestead run replicas, the leader SIGKILLed with its canary scale-down in flight: the new leader finishes the rollback and never re-advances', async () => {
    const { sandbox, prom } = cluster;
    const ns = 'rollback-failover';
    const canaryScale = `${deploymentPath(ns, 'checkout')}/scale`;
    await apply(sandbox, workloadYaml(ns, 'checkout', 'example/checkout:1'));
    await apply(sandbox, longFirstStep(ns, prom.url));
    const leaseArgs = ['--leader-elect', '--lease-namespace', ns];
    const a = await cluster.operator(ns, leaseArgs);
    await waitFor(async () => (await holder(sandbox, ns)) === a.lines[0]!.identity, 20_000, 'a to lead');
    await waitForPhase(sandbox, ns, 'checkout', 'Idle', 30_000);
    const b = await cluster.operator(ns, leaseArgs);

    await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', ns);
    await waitForPhase(sandbox, ns, 'checkout', 'Progressing', 30_000);
    await waitFor(
      async () => ((await getObject(sandbox, deploymentPath(ns, 'checkout'))).spec?.replicas ?? 0) > 0,
      30_000,
      'the canary scaled up',
    );
    // The rollback's canary scale-down hangs unanswered; then the canary fails its check.
    const before = sandbox.faults.fired;
    sandbox.faults.inject({ method: 'PATCH', path: canaryScale, respond: 'hang', hangMs: 60_000 });
    prom.exporter.canaryErrors = 40;
    await waitFor(() => sandbox.faults.fired > before, 60_000, 'the leader’s rollback to scale the canary down');
    a.kill('SIGKILL');
    await a.exited;
    const killedAt = Date.now();
    await waitFor(async () => (await holder(sandbox, ns)) === b.lines[0]!.identity, 40_000, 'b to take over');
    await waitForPhase(sandbox, ns, 'checkout', 'RolledBack', 60_000);

    // Finished: the canary at 0, primary still on the stable template.
    expect((await getObject(sandbox, deploymentPath(ns, 'checkout'))).spec?.replicas).toBe(0);
    expect(imageOf(await getObject(sandbox, deploymentPath(ns, 'checkout-primary')))).toBe('example/checkout:1');
    const scaledDown = sandbox.requests
      .list({ since: killedAt, path: canaryScale })
      .filter((r) => r.method === 'PATCH' && r.code === 200);
    expect(scaledDown.length, 'the new leader’s canary scale-down').toBe(1);
    // The rollback once (recorded by the dead leader, actuated by the new one), and never an advance after it (I).
    const entries = await chainHoldingI(sandbox, ns, 'checkout');
    expect(releaseActuations(entries)).toEqual(['rollback 0']);
    const rollback = entries.find((e) => e.decision?.action === 'rollback')!;
    expect(
      entries.filter((e) => e.seq > rollback.seq && e.kind === 'decision').map((e) => e.decision?.action),
      'decisions after the rollback',
    ).not.toContain('advance');
  }, 150_000);
});
