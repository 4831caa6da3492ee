import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '@kubestead/sandbox';
import { rolloutEventOf } from '../../src/pipeline/record/notify/events.js';
import type { OperatorProcess } from '../controller/process.js';
import { prometheusTestsEnabled, type PrometheusHarness } from '../metrics/prometheus-harness.js';
import { CLEAN, deliveryReport } from '../notify/deliveries.js';
import { Receiver } from '../notify/receiver.js';
import { verifiedChain, type ChainOwner } from '../support/invariant.js';
import { waitFor } from '../support/wait.js';
import {
  apply,
  eventsAbout,
  getObject,
  kubectl,
  operatorCluster,
  policyPath,
  policyYaml,
  status,
  waitForPhase,
  workloadYaml,
} from './support.js';

const enabled = prometheusTestsEnabled();
const NS = 'notify-defaults';
const APPS = ['checkout', 'cart'];
const SIGNING = `whsec_${randomBytes(32).toString('base64')}`;
const TOKEN = `PLATFORMTOKEN${randomBytes(8).toString('hex')}`;

type Condition = { type: string; status: string; reason: string; message: string };
const degradedOf = async (sandbox: Sandbox, name: string): Promise<Condition | undefined> =>
  ((await status(sandbox, NS, name)).conditions as Condition[] | undefined)?.find(
    (c) => c.type === 'NotificationsDegraded',
  );

describe.runIf(enabled)('the operator-wide default destination keeps failing, then recovers', () => {
  const cluster = operatorCluster();
  let sandbox: Sandbox;
  let prom: PrometheusHarness;
  let receiver: Receiver;
  beforeAll(async () => {
    ({ sandbox, prom } = cluster);
    receiver = await new Receiver().start();
  });
  afterAll(async () => receiver?.close());
  afterEach(() => cluster.closeProcesses());

  it('NotificationsDegraded, an Event and the failed metric on each policy it defers; cleared, nothing lost, once it answers', async () => {
    for (const app of APPS) await apply(sandbox, workloadYaml(NS, app, `example/${app}:1`));
    await apply(
      sandbox,
      `apiVersion: v1
kind: Secret
metadata: {name: platform-hooks, namespace: ${NS}}
stringData:
  generic: "${receiver.url}/platform?token=${TOKEN}"
  signing: "${SIGNING}"
`,
    );
    // Policies without spec.notifications: only the operator-wide default reaches anyone.
    for (const app of APPS) await apply(sandbox, policyYaml(NS, app, prom.url));
    receiver.answer('/platform', ...Array<number>(10_000).fill(500));
    const proc = (await cluster.operator(NS, [
      '--notify-webhook',
      `${NS}/platform-hooks/generic`,
      '--notify-webhook-signing',
      `${NS}/platform-hooks/signing`,
    ])) as OperatorProcess & { metricsPort: number };
    for (const app of APPS) await waitForPhase(sandbox, NS, app, 'Idle', 30_000);
    for (const app of APPS)
      await kubectl(sandbox, 'set', 'image', `deployment/${app}`, `app=example/${app}:2`, '-n', NS);

    for (const app of APPS) {
      const degraded = await waitFor(
        async () => {
          const c = await degradedOf(sandbox, app);
          return c?.status === 'True' && c;
        },
        60_000,
        `${app}: NotificationsDegraded True`,
      );
      expect(degraded).toMatchObject({ reason: 'NotificationsFailing' });
      expect(degraded.message).toMatch(/^default-webhook: .*500/);
      const events = await eventsAbout(sandbox, NS, 'RolloutPolicy', app);
      expect(events.some((e) => e.includes('notifications failing: default-webhook'))).toBe(true);
    }
    const metrics = await (await fetch(`http://127.0.0.1:${proc.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/kubestead_notifications_total\{kind="webhook",outcome="failed"\} [1-9]/);
    expect(metrics).not.toMatch(/kubestead_notifications_total\{kind="webhook",outcome="sent"\}/);
    expect(receiver.accepted('/platform')).toEqual([]);

    // The receiver recovers as soon as both show it: the notifiers' backoff doubles with each failure, so waiting
    // longer (e.g. for the rollouts to finish first) would make the recovery's delay depend on the machine's speed.
    receiver.answer('/platform');
    // A failing destination holds no rollout back: both finish; their messages were deferred, not dropped.
    for (const app of APPS) await waitForPhase(sandbox, NS, app, 'Succeeded', 90_000);
    for (const app of APPS) {
      const cleared = await waitFor(
        async () => {
          const c = await degradedOf(sandbox, app);
          return c?.status === 'False' && c;
        },
        90_000,
        `${app}: NotificationsDegraded False`,
      );
      expect(cleared).toMatchObject({ reason: 'NotificationsDelivered' });
      const events = await eventsAbout(sandbox, NS, 'RolloutPolicy', app);
      expect(events.some((e) => e.includes('notifications delivered again'))).toBe(true);
    }

    // Deferred, not dropped: every event of each chain reaches the default destination once, in order.
    const outputs: string[] = [...proc.raw];
    for (const app of APPS) {
      const head = (await getObject(sandbox, policyPath(NS, app))).status?.audit as ChainOwner['head'];
      const entries = await verifiedChain({ kubeconfigPath: sandbox.kubeconfigPath, namespace: NS, name: app, head });
      const expected = entries.flatMap((e) => rolloutEventOf(e)?.id ?? []);
      expect(expected.length).toBeGreaterThanOrEqual(3);
      const mine = () =>
        receiver.received.filter(
          (r) =>
            r.path.startsWith('/platform') && (JSON.parse(r.body) as { policy: { name: string } }).policy.name === app,
        );
      await waitFor(
        () => mine().some((r) => r.status === 200 && r.headers['webhook-id'] === expected.at(-1)),
        60_000,
        `${app}: its promotion delivered`,
      );
      expect(deliveryReport(expected, mine(), 0)).toEqual(CLEAN);
      outputs.push(
        JSON.stringify(await getObject(sandbox, policyPath(NS, app))),
        JSON.stringify(await eventsAbout(sandbox, NS, 'RolloutPolicy', app)),
        JSON.stringify(entries),
      );
    }
    outputs.push(await (await fetch(`http://127.0.0.1:${proc.metricsPort}/metrics`)).text());
    for (const secret of [TOKEN, SIGNING, SIGNING.slice('whsec_'.length), receiver.url])
      expect(outputs.join('\n')).not.toContain(secret);
  }, 300_000);
});
