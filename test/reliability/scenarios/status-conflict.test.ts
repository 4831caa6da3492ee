import { describe, expect, it } from 'vitest';
import { prometheusTestsEnabled } from '../../metrics/prometheus-harness.js';
import { editEvery, writesSince } from '../../support/faults.js';
import { actuations, expectInvariantI, verifiedChain, type ChainOwner } from '../../support/invariant.js';
import {
  apply,
  getObject,
  kubectl,
  operatorCluster,
  policyPath,
  policyYaml,
  waitForPhase,
  workloadYaml,
} from '../../e2e/support.js';

/** How long the other client edits the policy every 100 ms: the fault injected. */
const STORM_MS = 20_000;
const ANNOTATION = 'example.com/other-client';

describe.runIf(prometheusTestsEnabled())('row 5: a status conflict every 100 ms', () => {
  const cluster = operatorCluster();

  it('kubestead run meets 409s, re-reads and retries at most 10 status writes a minute; the other client’s edits survive', async () => {
    const { sandbox, prom } = cluster;
    const ns = 'status-conflict';
    const path = policyPath(ns, 'checkout');
    await apply(sandbox, workloadYaml(ns, 'checkout', 'example/checkout:1'));
    await apply(sandbox, policyYaml(ns, 'checkout', prom.url));
    await cluster.operator(ns);
    await waitForPhase(sandbox, ns, 'checkout', 'Idle', 30_000);
    await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', ns);
    await waitForPhase(sandbox, ns, 'checkout', 'Progressing', 30_000);

    const since = Date.now();
    const storm = editEvery(sandbox, path, 100, ANNOTATION);
    // An edit every 100 ms meets a status write only by chance (the operator reads just before it writes, and the
    // sandbox's interleave hook lands an edit only after the write it follows): the next status write is also
    // answered 409 as the API server answers a stale resourceVersion, so the retry this row is about runs every time.
    const faultsBefore = sandbox.faults.fired;
    sandbox.faults.inject({ method: 'PUT', path: `${path}/status`, respond: 409, times: 1 });
    // The storm lasts a fixed time: that is the fault injected, not a wait for a condition.
    await new Promise((resolve) => setTimeout(resolve, STORM_MS));
    const edits = await storm.stop();
    const until = Date.now();

    const statusWrites = writesSince(sandbox, since, `${path}/status`).filter((r) => r.time <= until);
    const conflicts = statusWrites.filter((r) => r.code === 409);
    expect(edits, 'the other client’s edits').toBeGreaterThan(STORM_MS / 100 / 2);
    expect(sandbox.faults.fired - faultsBefore, 'the status write answered 409').toBe(1);
    expect(conflicts.length, 'status writes answered 409').toBeGreaterThan(0);
    // At most 10 writes a minute: every 60 s window of the storm holds at most 10 status writes.
    const perMinute = Math.max(
      ...statusWrites.map((w) => statusWrites.filter((o) => o.time >= w.time && o.time < w.time + 60_000).length),
    );
    expect(
      perMinute,
      `status writes: ${statusWrites.map((w) => `${w.time - since}ms ${w.code}`).join(', ')}`,
    ).toBeLessThanOrEqual(10);

    // Re-read and retried: the rollout finishes once the other client stops, and its field survived.
    await waitForPhase(sandbox, ns, 'checkout', 'Succeeded', 90_000);
    const policy = await getObject(sandbox, path);
    expect(policy.metadata.annotations?.[ANNOTATION]).toBe(String(edits));
    const head = policy.status?.audit as ChainOwner['head'];
    const entries = await verifiedChain({
      kubeconfigPath: sandbox.kubeconfigPath,
      namespace: ns,
      name: 'checkout',
      head,
    });
    expectInvariantI(entries, { cluster: { sandbox, namespace: ns } });
    const release = entries.at(-1)!.revision;
    expect(actuations(entries.filter((e) => e.revision === release))).toEqual(['advance 0', 'promote 1']);
  }, 180_000);
});
