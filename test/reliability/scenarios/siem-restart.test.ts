import { describe, expect, it } from 'vitest';
import { newSecret, TestReceiver } from '../../audit/receiver.js';
import { prometheusTestsEnabled } from '../../metrics/prometheus-harness.js';
import { expectInvariantI, verifiedChain, type ChainOwner } from '../../support/invariant.js';
import { deliveredEntries, siemSecretYaml } from '../../support/siem.js';
import { waitFor } from '../../support/wait.js';
import { apply, kubectl, operatorCluster, policyYaml, status, waitForPhase, workloadYaml } from '../../e2e/support.js';

describe.runIf(prometheusTestsEnabled())('row 34: a restart with a SIEM request in flight', () => {
  const cluster = operatorCluster();

  it('SIGKILL while the SIEM holds an ingested batch unanswered: the next process resends it with the same webhook-id, nothing lost', async () => {
    const { sandbox, prom } = cluster;
    const ns = 'siem-restart';
    const secret = newSecret();
    const receiver = new TestReceiver();
    const url = await receiver.start();
    // The SIEM stores the first batch sent once the rollout runs, and never answers it.
    let hangFrom = Infinity;
    receiver.behaviour = (_, index) => (index === hangFrom ? 'hang-after-ingest' : { status: 204 });
    const flags = ['--audit-webhook', url, '--audit-webhook-secret', `${ns}/siem/hmac`];
    try {
      await apply(sandbox, workloadYaml(ns, 'checkout', 'example/checkout:1'));
      await apply(sandbox, siemSecretYaml(ns, secret));
      await apply(sandbox, policyYaml(ns, 'checkout', prom.url));
      const first = await cluster.operator(ns, flags);
      await waitForPhase(sandbox, ns, 'checkout', 'Idle', 30_000);
      await waitFor(
        () => receiver.requests.length > 0 && receiver.ingested.length === receiver.requests.length,
        30_000,
        'the first entries delivered',
      );

      hangFrom = receiver.requests.length;
      await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', ns);
      const inFlight = await waitFor(() => receiver.requests[hangFrom], 30_000, 'a batch in flight');
      const id = String(inFlight.headers['webhook-id']);
      first.kill('SIGKILL');
      expect(await first.exited).toMatchObject({ signal: 'SIGKILL' });

      await cluster.operator(ns, flags);
      await waitFor(
        () => receiver.requests.slice(hangFrom + 1).find((r) => r.headers['webhook-id'] === id),
        30_000,
        `webhook-id ${id} redelivered`,
      );
      await waitForPhase(sandbox, ns, 'checkout', 'Succeeded', 60_000);
      const head = (await status(sandbox, ns, 'checkout')).audit as ChainOwner['head'];
      await waitFor(() => receiver.entries().length > head.seq, 30_000, `the SIEM holding seq 0..${head.seq}`);
      const entries = await verifiedChain({
        kubeconfigPath: sandbox.kubeconfigPath,
        namespace: ns,
        name: 'checkout',
        head,
      });
      // deliveredEntries: a webhook-id sent twice carried the same body both times.
      const received = deliveredEntries(receiver, secret);
      expectInvariantI(entries, { cluster: { sandbox, namespace: ns }, siem: { received } });
      // Duplicates only under the same id: no entry reached the SIEM in two different batches.
      const idsOf = new Map<string, Set<string>>();
      for (const r of receiver.ingested)
        for (const e of (JSON.parse(r.body) as { entries: Array<{ hash: string }> }).entries)
          idsOf.set(e.hash, (idsOf.get(e.hash) ?? new Set()).add(String(r.headers['webhook-id'])));
      expect(
        [...idsOf].filter(([, ids]) => ids.size > 1).map(([hash]) => hash),
        'entries sent under two ids',
      ).toEqual([]);
      expect(receiver.ingested.filter((r) => r.headers['webhook-id'] === id).length, 'the batch in flight, twice').toBe(
        2,
      );
    } finally {
      await receiver.close();
    }
  }, 180_000);
});
