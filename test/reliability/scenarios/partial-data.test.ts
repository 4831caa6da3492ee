import { describe, expect, it } from 'vitest';
import { json, startServer, type TestServer } from '../../metrics/helpers.js';
import { expectInvariantI, verifiedChain, type ChainOwner } from '../../support/invariant.js';
import { apply, kubectl, operatorCluster, policyYaml, status, waitForPhase, workloadYaml } from '../../e2e/support.js';
import { prometheusTestsEnabled } from '../../metrics/prometheus-harness.js';

const WARNING = 'PromQL info: metric might not be a counter, consider renaming it';

describe.runIf(prometheusTestsEnabled())('row 20: partial data', () => {
  const cluster = operatorCluster();

  it('a Prometheus answer with warnings: kubestead run uses the value and keeps the warning on the check in every decision entry', async () => {
    const { sandbox } = cluster;
    const ns = 'partial-data';
    // A Prometheus stand-in: `success` with the value and a warning (a real one answers so when a
    // shard is missing or a function is applied to a non-counter).
    const server: TestServer = await startServer((_req, res) =>
      json(res, 200, {
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, '0.01'] }] },
        warnings: [WARNING],
      }),
    );
    try {
      await apply(sandbox, workloadYaml(ns, 'checkout', 'example/checkout:1'));
      await apply(sandbox, policyYaml(ns, 'checkout', server.url));
      await cluster.operator(ns);
      await waitForPhase(sandbox, ns, 'checkout', 'Idle', 30_000);
      await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', ns);
      await waitForPhase(sandbox, ns, 'checkout', 'Succeeded', 60_000);
      expect(server.requests.length, 'queries answered with a warning').toBeGreaterThan(0);

      const head = (await status(sandbox, ns, 'checkout')).audit as ChainOwner['head'];
      const entries = await verifiedChain({
        kubeconfigPath: sandbox.kubeconfigPath,
        namespace: ns,
        name: 'checkout',
        head,
      });
      expectInvariantI(entries);
      const judged = entries.filter((e) => e.kind === 'decision' && e.snapshot?.checks.errors);
      expect(judged.map((e) => e.decision?.action)).toEqual(expect.arrayContaining(['advance', 'promote']));
      for (const e of judged)
        expect(e.snapshot!.checks.errors, `seq ${e.seq}`).toMatchObject({
          status: 'ok',
          value: 0.01,
          warnings: [WARNING],
        });
    } finally {
      await server.close();
    }
  }, 120_000);
});
