import { describe, expect, it } from 'vitest';
import type { OperatorProcess } from '../../controller/process.js';
import { newSecret, TestReceiver } from '../../audit/receiver.js';
import { prometheusTestsEnabled } from '../../metrics/prometheus-harness.js';
import { expectInvariantI, verifiedChain, type ChainOwner } from '../../support/invariant.js';
import { waitFor } from '../../support/wait.js';
import {
  apply,
  eventsAbout,
  kubectl,
  operatorCluster,
  policyYaml,
  status,
  waitForPhase,
  workloadYaml,
} from '../../e2e/support.js';
import { deliveredEntries, siemSecretYaml } from '../../support/siem.js';

/** The cap of the SIEM backlog in this run (`--audit-backlog-limit`): small, so one rollout reaches it. */
const LIMIT = 2;

/** Four steps, so the rollout meets the cap before it ends. */
const fourSteps = (yaml: string): string =>
  yaml.replace(
    '    - {weight: 50, soak: 3s}\n',
    '    - {weight: 50, soak: 3s}\n    - {weight: 60, soak: 1s}\n    - {weight: 75, soak: 1s}\n',
  );

type Condition = { type: string; status: string; reason: string; message: string };
type PolicyStatus = { phase?: string; currentStep?: number; conditions?: Condition[] };
const conditionOf = (s: PolicyStatus, type: string): Condition | undefined =>
  s.conditions?.find((c) => c.type === type);

describe.runIf(prometheusTestsEnabled())('row 33: the SIEM down for a long stretch', () => {
  const cluster = operatorCluster();

  it('kubestead run keeps the backlog in the chain up to --audit-backlog-limit, refuses advances at the cap, and drains in order once the SIEM is back', async () => {
    const { sandbox, prom } = cluster;
    const ns = 'siem-down';
    const secret = newSecret();
    const receiver = new TestReceiver();
    const url = await receiver.start();
    let down = false;
    receiver.behaviour = () => (down ? { status: 503 } : { status: 204 });
    try {
      await apply(sandbox, workloadYaml(ns, 'checkout', 'example/checkout:1'));
      await apply(sandbox, siemSecretYaml(ns, secret));
      await apply(sandbox, fourSteps(policyYaml(ns, 'checkout', prom.url)));
      const proc = (await cluster.operator(ns, [
        '--audit-webhook',
        url,
        '--audit-webhook-secret',
        `${ns}/siem/hmac`,
        '--audit-backlog-limit',
        String(LIMIT),
      ])) as OperatorProcess & { metricsPort: number };
      await waitForPhase(sandbox, ns, 'checkout', 'Idle', 30_000);

      down = true;
      const sentBefore = receiver.requests.length;
      await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', ns);
      // The backlog grows with the rollout's entries until it passes the cap: then advances stop.
      const full = await waitFor(
        async () => {
          const s = (await status(sandbox, ns, 'checkout')) as PolicyStatus;
          return conditionOf(s, 'AuditHealthy')?.reason === 'AuditBacklogFull' ? s : undefined;
        },
        60_000,
        'AuditHealthy=False, AuditBacklogFull',
      );
      expect(conditionOf(full, 'AuditHealthy')).toMatchObject({
        status: 'False',
        message: expect.stringMatching(
          new RegExp(`^${LIMIT + 1} audit entries not delivered to the SIEM \\(limit ${LIMIT}\\): .* answered 503$`),
        ),
      });
      // At the cap: several more ticks refuse the advance, the step does not move, and nothing is
      // dropped — the chain keeps growing only by what must be recorded (no advance is).
      const refusedBefore = proc.lines.filter((l) => /^(advance|promote) not applied: /.test(String(l.msg))).length;
      await waitFor(
        () =>
          proc.lines.filter((l) => /^(advance|promote) not applied: /.test(String(l.msg))).length >= refusedBefore + 3,
        30_000,
        'three more ticks refusing to advance',
      );
      const held = (await status(sandbox, ns, 'checkout')) as PolicyStatus;
      expect(held).toMatchObject({ phase: 'Progressing', currentStep: full.currentStep });
      expect(conditionOf(held, 'AuditHealthy')?.reason).toBe('AuditBacklogFull');
      expect(receiver.ingested.length, 'nothing ingested while down').toBe(sentBefore);
      expect(receiver.requests.length - sentBefore, 'deliveries retried while down').toBeGreaterThan(1);
      expect(await eventsAbout(sandbox, ns, 'RolloutPolicy', 'checkout')).toContainEqual(
        expect.stringMatching(/^AuditBacklogFull: /),
      );
      // The high-water alert: the metrics an alert rule reads.
      const metrics = await (await fetch(`http://127.0.0.1:${proc.metricsPort}/metrics`)).text();
      expect(metrics).toMatch(/^kubestead_audit_unhealthy_policies\{reason="AuditBacklogFull"\} 1$/m);
      expect(Number(/^kubestead_audit_backlog_entries (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(LIMIT);

      down = false;
      await waitForPhase(sandbox, ns, 'checkout', 'Succeeded', 60_000);
      const head = (await status(sandbox, ns, 'checkout')).audit as ChainOwner['head'];
      await waitFor(() => receiver.entries().length > head.seq, 30_000, `the SIEM holding seq 0..${head.seq}`);
      const entries = await verifiedChain({
        kubeconfigPath: sandbox.kubeconfigPath,
        namespace: ns,
        name: 'checkout',
        head,
      });
      const received = deliveredEntries(receiver, secret);
      expectInvariantI(entries, { cluster: { sandbox, namespace: ns }, siem: { received } });
      // In order: every ingested batch continues where the previous one ended (a redelivery repeats it whole).
      expect(received.map((e) => e.seq)).toEqual([...received.keys()]);
      expect(conditionOf((await status(sandbox, ns, 'checkout')) as PolicyStatus, 'AuditHealthy')).toMatchObject({
        status: 'True',
      });
      expect(await eventsAbout(sandbox, ns, 'RolloutPolicy', 'checkout')).toContainEqual(
        expect.stringMatching(/^AuditRecovered: /),
      );
      expect(await Promise.race([proc.exited, Promise.resolve('running')])).toBe('running');
    } finally {
      await receiver.close();
    }
  }, 180_000);
});
