import { describe, expect, it } from 'vitest';
import { prometheusTestsEnabled } from '../../metrics/prometheus-harness.js';
import { sampleReadyPods } from '../../support/capacity.js';
import {
  actuationRequests,
  actuations,
  expectInvariantI,
  verifiedChain,
  type ChainOwner,
} from '../../support/invariant.js';
import { waitFor } from '../../support/wait.js';
import {
  apply,
  deploymentPath,
  getObject,
  imageOf,
  kubectl,
  operatorCluster,
  policyPath,
  policyYaml,
  waitForPhase,
  workloadYaml,
} from '../../e2e/support.js';

/** How many answers of 500 each failing write gets before the fault is lifted. */
const FAILURES = 3;

describe.runIf(prometheusTestsEnabled())('row 13: a partial actuation', () => {
  const cluster = operatorCluster();

  it('kubestead run retries a Deployment write answered 500 (the canary’s scale, then primary’s promotion); never 0 ready pods', async () => {
    const { sandbox, prom } = cluster;
    const ns = 'partial-actuation';
    const deployments = `/apis/apps/v1/namespaces/${ns}/deployments`;
    await apply(sandbox, workloadYaml(ns, 'checkout', 'example/checkout:1'));
    await apply(sandbox, policyYaml(ns, 'checkout', prom.url));
    const proc = await cluster.operator(ns);
    await waitForPhase(sandbox, ns, 'checkout', 'Idle', 30_000);
    const ready = await sampleReadyPods(sandbox, ns);

    /** Answers the write 500 until it was refused FAILURES times, then lets it through. */
    const failWrites = async (method: string, path: string): Promise<void> => {
      const before = sandbox.faults.fired;
      sandbox.faults.inject({ method, path, respond: 500, times: FAILURES });
      await waitFor(
        () => sandbox.faults.fired - before >= FAILURES,
        60_000,
        `${FAILURES} refusals of ${method} ${path}`,
      );
    };
    // The advance: its decision recorded, the canary's /scale refused.
    const advance = failWrites('PATCH', `${deployments}/checkout/scale`);
    await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', ns);
    await advance;
    await waitFor(
      async () => (await getObject(sandbox, policyPath(ns, 'checkout'))).status?.currentStep === 1,
      60_000,
      'step 2',
    );
    // The promotion: the checks passed, primary's template write refused.
    await failWrites('PUT', `${deployments}/checkout-primary`);
    await waitForPhase(sandbox, ns, 'checkout', 'Succeeded', 60_000);

    expect(imageOf(await getObject(sandbox, deploymentPath(ns, 'checkout-primary')))).toBe('example/checkout:2');
    // The rollout settled (primary's 4 pods ready, the canary's gone) before the pod watch is read to its end.
    await waitFor(
      async () => {
        const pods = await getObject(sandbox, `/api/v1/namespaces/${ns}/pods`);
        const primary = await getObject(sandbox, deploymentPath(ns, 'checkout-primary'));
        return pods.items.length === 4 && primary.status?.readyReplicas === 4 && primary.status?.updatedReplicas === 4;
      },
      60_000,
      'the rollout to settle',
    );
    const samples = await ready.stop();
    expect(Math.min(...samples), `ready pods after every change: ${samples.join(' ')}`).toBeGreaterThan(0);
    // The failure and the retry, as the operator logged them and as the API server answered them.
    expect(proc.raw.join('\n')).toMatch(/Internal error occurred: injected fault/);
    const refused = actuationRequests(sandbox, ns).filter((r) => r.fault);
    expect(refused.map((r) => `${r.method} ${r.path.replace(deployments, '')} ${r.code}`)).toEqual([
      ...Array<string>(FAILURES).fill('PATCH /checkout/scale 500'),
      ...Array<string>(FAILURES).fill('PUT /checkout-primary 500'),
    ]);
    const head = (await getObject(sandbox, policyPath(ns, 'checkout'))).status?.audit as ChainOwner['head'];
    const entries = await verifiedChain({
      kubeconfigPath: sandbox.kubeconfigPath,
      namespace: ns,
      name: 'checkout',
      head,
    });
    expectInvariantI(entries, { cluster: { sandbox, namespace: ns } });
    const release = entries.at(-1)!.revision;
    expect(actuations(entries.filter((e) => e.revision === release))).toEqual(['advance 0', 'promote 1']);
  }, 150_000);
});
