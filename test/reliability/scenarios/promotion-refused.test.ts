import { describe, expect, it } from 'vitest';
import { prometheusTestsEnabled } from '../../metrics/prometheus-harness.js';
import { actuationRequests } from '../../support/invariant.js';
import { chainHoldingI, releaseActuations, servingPodsRemoved, watchServing } from '../../support/rollout-checks.js';
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

/** How many answers of 500 primary's template write gets (the queue's backoff doubling between them) before the fault is lifted. */
const REFUSALS = 4;

describe.runIf(prometheusTestsEnabled())('row 41: the promotion refused after the checks passed', () => {
  const cluster = operatorCluster();

  it('kubestead run retries primary’s refused template write; no serving pod removed and nothing else actuated until it goes through', async () => {
    const { sandbox, prom } = cluster;
    const ns = 'promotion-refused';
    const primaryPath = deploymentPath(ns, 'checkout-primary');
    await apply(sandbox, workloadYaml(ns, 'checkout', 'example/checkout:1'));
    await apply(sandbox, policyYaml(ns, 'checkout', prom.url));
    const proc = await cluster.operator(ns);
    await waitForPhase(sandbox, ns, 'checkout', 'Idle', 30_000);
    const pods = await watchServing(sandbox, ns);

    await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', ns);
    await waitFor(
      async () => (await getObject(sandbox, policyPath(ns, 'checkout'))).status?.currentStep === 1,
      60_000,
      'step 2',
    );
    // The last step soaks 3 s: the checks pass, the promotion is decided, and primary's template write is refused.
    const before = sandbox.faults.fired;
    sandbox.faults.inject({ method: 'PUT', path: new RegExp(`^${primaryPath}(\\?|$)`), respond: 500, times: Infinity });
    await waitFor(() => sandbox.faults.fired - before >= REFUSALS, 60_000, `${REFUSALS} refusals of primary's write`);
    sandbox.faults.clear();
    await waitForPhase(sandbox, ns, 'checkout', 'Succeeded', 60_000);
    expect(imageOf(await getObject(sandbox, primaryPath))).toBe('example/checkout:2');
    // Settled (primary's 4 pods ready, the canary's gone) before the pod watch is read to its end.
    await waitFor(
      async () => {
        const all = await getObject(sandbox, `/api/v1/namespaces/${ns}/pods`);
        const primary = await getObject(sandbox, primaryPath);
        return all.items.length === 4 && primary.status?.readyReplicas === 4 && primary.status?.updatedReplicas === 4;
      },
      60_000,
      'the rollout to settle',
    );
    const samples = await pods.stop();

    // Retried: the refusals, then the same write through; between the first refusal and that write nothing else
    // was actuated (no canary scaled down, no rollback) and no serving pod stopped serving.
    const requests = actuationRequests(sandbox, ns);
    const first = requests.findIndex((r) => r.fault);
    const through = requests.findIndex((r, i) => i > first && !r.fault);
    expect(first, 'a refused actuation').toBeGreaterThanOrEqual(0);
    expect(through, 'the refused write through at last').toBeGreaterThan(first);
    const window = requests.slice(first, through + 1).map((r) => `${r.method} ${r.path.split('?')[0]} ${r.code}`);
    expect(window.length - 1, window.join(', ')).toBeGreaterThanOrEqual(REFUSALS);
    expect(window).toEqual([
      ...Array<string>(window.length - 1).fill(`PUT ${primaryPath} 500`),
      `PUT ${primaryPath} 200`,
    ]);
    const [from, to] = [requests[first]!.time, requests[through]!.time];
    expect(servingPodsRemoved(samples, from, to), `${samples.length} samples`).toEqual([]);
    expect(samples.filter((s) => s.at >= from && s.at <= to).every((s) => s.names.length > 0)).toBe(true);
    expect(Math.min(...samples.map((s) => s.names.length)), 'serving pods after every change').toBeGreaterThan(0);
    expect(proc.raw.join('\n')).toMatch(/Internal error occurred: injected fault/);

    // Checks passed, so one promotion and no rollback in the chain; each decision before its actuation (I).
    const entries = await chainHoldingI(sandbox, ns, 'checkout');
    expect(releaseActuations(entries)).toEqual(['advance 0', 'promote 1']);
  }, 120_000);
});
