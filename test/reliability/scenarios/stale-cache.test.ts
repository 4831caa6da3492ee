import { describe, expect, it } from 'vitest';
import { prometheusTestsEnabled } from '../../metrics/prometheus-harness.js';
import { writesSince } from '../../support/faults.js';
import { actuations, expectInvariantI, verifiedChain, type ChainOwner } from '../../support/invariant.js';
import {
  apply,
  eventsAbout,
  getObject,
  kubectl,
  operatorCluster,
  policyPath,
  policyYaml,
  waitForPhase,
  workloadYaml,
} from '../../e2e/support.js';

describe.runIf(prometheusTestsEnabled())('row 8: the read-your-writes race', () => {
  const cluster = operatorCluster();

  it('kubestead run with a policy cache that never sees its own writes: re-reads, no write from a stale copy, each action once', async () => {
    const { sandbox, prom } = cluster;
    const ns = 'stale-cache';
    const path = policyPath(ns, 'checkout');
    await apply(sandbox, workloadYaml(ns, 'checkout', 'example/checkout:1'));
    await apply(sandbox, policyYaml(ns, 'checkout', prom.url));
    await cluster.operator(ns);
    await waitForPhase(sandbox, ns, 'checkout', 'Idle', 30_000);

    // The policy informer is frozen: its watch is cut and every list or watch of policies refused, so its
    // cache keeps the policy as it was before any of the operator's own writes of the release that follows.
    const since = Date.now();
    sandbox.faults.inject({
      path: /^\/apis\/kubestead\.io\/v1alpha1\/(namespaces\/[^/]+\/)?rolloutpolicies(\?|$)/,
      respond: 503,
      times: Infinity,
    });
    sandbox.faults.dropWatches({ abrupt: true });
    await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', ns);
    await waitForPhase(sandbox, ns, 'checkout', 'Succeeded', 60_000);
    sandbox.faults.clear();

    const statusWrites = writesSince(sandbox, since, `${path}/status`);
    const reads = sandbox.requests.list({ since, method: 'GET', path }).filter((r) => r.path === path);
    const refused = sandbox.requests.list({ since, path: /rolloutpolicies(\?|$)/ }).filter((r) => r.fault);
    expect(refused.length, 'lists and watches of policies refused (the cache was stale)').toBeGreaterThan(0);
    expect(statusWrites.length, 'status writes of the release').toBeGreaterThan(2);
    expect(reads.length, 'the policy re-read from the API after our own writes').toBeGreaterThanOrEqual(
      statusWrites.length - 1,
    );
    // No write from a stale copy: each status write carried the resourceVersion of our previous one.
    expect(statusWrites.filter((w) => w.code !== 200).map((w) => `${w.time - since}ms ${w.code}`)).toEqual([]);

    const head = (await getObject(sandbox, path)).status?.audit as ChainOwner['head'];
    const entries = await verifiedChain({
      kubeconfigPath: sandbox.kubeconfigPath,
      namespace: ns,
      name: 'checkout',
      head,
    });
    expectInvariantI(entries, { cluster: { sandbox, namespace: ns } });
    const release = entries.at(-1)!.revision;
    expect(actuations(entries.filter((e) => e.revision === release))).toEqual(['advance 0', 'promote 1']);
    // One analysis per step: each Event of the release once (no kill here, so not at-least-once).
    const events = await eventsAbout(sandbox, ns, 'RolloutPolicy', 'checkout');
    for (const reason of ['CanaryStarted', 'Advanced', 'Promoted'])
      expect(
        events.filter((e) => e.startsWith(`${reason}:`)),
        reason,
      ).toHaveLength(1);
  }, 120_000);
});
