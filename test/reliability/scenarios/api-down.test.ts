import { describe, expect, it } from 'vitest';
import { prometheusTestsEnabled } from '../../metrics/prometheus-harness.js';
import { apiOutage, recordsIn } from '../../support/faults.js';
import { actuations, expectInvariantI, verifiedChain, type ChainOwner } from '../../support/invariant.js';
import {
  apply,
  kubectl,
  operatorCluster,
  policyPath,
  getObject,
  waitForPhase,
  policyYaml,
  workloadYaml,
} from '../../e2e/support.js';

/** How long the API server stays down: long enough for five doublings of the 1 s backoff. */
const OUTAGE_MS = 25_000;

describe.runIf(prometheusTestsEnabled())('row 9: the API server down mid-rollout', () => {
  const cluster = operatorCluster();

  it('kubestead run records api-unavailable, backs off (capped), acts on nothing, survives, and resumes the rollout once it is back', async () => {
    const { sandbox, prom } = cluster;
    const ns = 'api-down';
    await apply(sandbox, workloadYaml(ns, 'checkout', 'example/checkout:1'));
    await apply(sandbox, policyYaml(ns, 'checkout', prom.url));
    const proc = await cluster.operator(ns);
    await waitForPhase(sandbox, ns, 'checkout', 'Idle', 30_000);
    await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', ns);
    await waitForPhase(sandbox, ns, 'checkout', 'Progressing', 30_000);

    const outage = apiOutage(sandbox);
    const seenBefore = proc.lines.length;
    // The outage lasts a fixed time: that is the fault injected, not a wait for a condition.
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    const during = outage.end();

    // Nothing was served, so nothing was actuated; no crash loop: the process is the same one.
    expect(during.filter((r) => !r.fault)).toEqual([]);
    expect(await Promise.race([proc.exited, Promise.resolve('running')])).toBe('running');
    // The operator's own record of it, one line each, with a backoff that doubles up to its cap.
    const records = recordsIn(proc.lines.slice(seenBefore), 'api-unavailable');
    expect(records.length).toBeGreaterThan(0);
    for (const r of records)
      expect(r).toMatchObject({
        namespace: ns,
        policy: 'checkout',
        err: 'HTTP 503: The server is currently unable to handle the request (injected fault)',
      });
    const delays = records.map((r) => Number(r.retryInMs));
    expect(
      delays.every((d, i) => d <= 60_000 && (i === 0 || d >= delays[i - 1]!)),
      String(delays),
    ).toBe(true);
    expect(delays.at(-1)).toBeGreaterThanOrEqual(8000);
    // Capped backoff, not a hot loop: five informers and one policy, a few dozen requests in 25 s.
    expect(during.length, 'requests during the outage').toBeLessThan(100);
    expect(proc.raw.join('\n')).not.toMatch(/HTTP-Code|Headers:/);

    await waitForPhase(sandbox, ns, 'checkout', 'Succeeded', 90_000);
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
    expect(
      entries.filter((e) => {
        const at = Date.parse(e.recordedAt);
        return at > outage.since + 1000 && at < outage.since + OUTAGE_MS - 1000;
      }),
      'entries recorded while the API server was down',
    ).toEqual([]);
    expect(await Promise.race([proc.exited, Promise.resolve('running')])).toBe('running');
  }, 180_000);
});
