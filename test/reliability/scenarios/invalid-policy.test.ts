import { describe, expect, it } from 'vitest';
import { prometheusTestsEnabled } from '../../metrics/prometheus-harness.js';
import { raw } from '../../support/sandbox.js';
import { waitFor } from '../../support/wait.js';
import {
  apply,
  deploymentPath,
  kubectl,
  operatorCluster,
  policyYaml,
  status,
  waitForPhase,
  workloadYaml,
} from '../../e2e/support.js';

type Condition = { type: string; status: string; reason: string; message: string };

describe.runIf(prometheusTestsEnabled())('row 26: an invalid policy applied to a running controller', () => {
  const cluster = operatorCluster();

  it('kubestead run refuses it with one-line errors in its status while another rollout advances to the end', async () => {
    const { sandbox, prom } = cluster;
    const ns = 'invalid-policy';
    await apply(sandbox, workloadYaml(ns, 'checkout', 'example/checkout:1'));
    await apply(sandbox, workloadYaml(ns, 'other', 'example/other:1'));
    await apply(sandbox, policyYaml(ns, 'checkout', prom.url));
    await cluster.operator(ns);
    await waitForPhase(sandbox, ns, 'checkout', 'Idle', 30_000);
    await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', ns);
    await waitForPhase(sandbox, ns, 'checkout', 'Progressing', 30_000);

    // A check naming a provider the policy does not have: the CRD schema cannot see it.
    await apply(sandbox, policyYaml(ns, 'other', prom.url).replace('provider: prom', 'provider: missing'));
    const ready = await waitFor(
      async () =>
        ((await status(sandbox, ns, 'other')).conditions as Condition[] | undefined)?.find((c) => c.type === 'Ready'),
      30_000,
      'the Ready condition of the invalid policy',
    );
    expect(ready.status).toBe('False');
    expect(ready.message).toMatch(/missing/);
    expect(ready.message).not.toMatch(/\n/);
    await waitForPhase(sandbox, ns, 'checkout', 'Succeeded', 60_000);
    // No partial rollout of the refused one: its Deployment is not adopted.
    expect((await raw(sandbox, 'GET', deploymentPath(ns, 'other-primary'))).status).toBe(404);
    expect((await status(sandbox, ns, 'other')).phase).not.toBe('Progressing');
  }, 120_000);
});
