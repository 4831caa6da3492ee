import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '@kubestead/sandbox';
import type { AuditEntry } from '../../src/pipeline/record/audit/entry.js';
import { rolloutEventOf } from '../../src/pipeline/record/notify/events.js';
import { prometheusTestsEnabled, type PrometheusHarness } from '../metrics/prometheus-harness.js';
import { CLEAN, deliveryReport } from '../notify/deliveries.js';
import { Receiver } from '../notify/receiver.js';
import { verifiedChain, type ChainOwner } from '../support/invariant.js';
import { raw } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
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
} from './support.js';

const enabled = prometheusTestsEnabled();
const SIGNING = `whsec_${randomBytes(32).toString('base64')}`;
const SLACK_TOKEN = `SLACKTOKEN${randomBytes(8).toString('hex')}`;
const GENERIC_TOKEN = `GENERICTOKEN${randomBytes(8).toString('hex')}`;

const NOTIFICATIONS = `  notifications:
    - name: team-chat
      slack: {urlSecretRef: {name: hooks, key: slack}}
    - name: pager
      webhook: {urlSecretRef: {name: hooks, key: generic}, secretRef: {name: hooks, key: signing}}
`;

function hooksYaml(namespace: string, receiver: Receiver): string {
  return `apiVersion: v1
kind: Secret
metadata: {name: hooks, namespace: ${namespace}}
stringData:
  slack: "${receiver.url}/slack?token=${SLACK_TOKEN}"
  generic: "${receiver.url}/generic?key=${GENERIC_TOKEN}"
  signing: "${SIGNING}"
`;
}

/** The action ids of the chain's entries that are notification events, in chain order. */
const eventIds = (entries: AuditEntry[]): string[] => entries.flatMap((e) => rolloutEventOf(e)?.id ?? []);

const leasePath = (ns: string) => `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/kubestead-controller`;
const holder = async (sandbox: Sandbox, ns: string): Promise<unknown> =>
  (await raw(sandbox, 'GET', leasePath(ns))).body?.spec?.holderIdentity;

describe.runIf(enabled)('notifications from two kubestead run replicas, the leader SIGKILLed mid-send', () => {
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

  it('every action of the rollout reaches Slack and the webhook: one message per action id, none missing', async () => {
    const ns = 'notify-failover';
    await apply(sandbox, workloadYaml(ns, 'checkout', 'example/checkout:1'));
    await apply(sandbox, hooksYaml(ns, receiver));
    await apply(sandbox, policyYaml(ns, 'checkout', prom.url, NOTIFICATIONS));
    const leaseArgs = ['--leader-elect', '--lease-namespace', ns];
    const a = await cluster.operator(ns, leaseArgs);
    await waitFor(async () => (await holder(sandbox, ns)) === a.lines[0]!.identity, 20_000, 'a to lead');
    await waitForPhase(sandbox, ns, 'checkout', 'Idle', 30_000);
    const b = await cluster.operator(ns, leaseArgs);
    // The generic endpoint holds the leader's first message unanswered: the leader dies mid-send.
    receiver.hang('/generic');
    await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', ns);
    const hung = await waitFor(
      () => receiver.received.find((r) => r.path.startsWith('/generic')),
      30_000,
      'the leader to send to the webhook',
    );
    a.kill('SIGKILL');
    await a.exited;
    receiver.hang('/generic', false);
    await waitFor(async () => (await holder(sandbox, ns)) === b.lines[0]!.identity, 40_000, 'b to take over');
    await waitForPhase(sandbox, ns, 'checkout', 'Succeeded', 90_000);

    const head = (await getObject(sandbox, policyPath(ns, 'checkout'))).status?.audit as ChainOwner['head'];
    const entries = await verifiedChain({
      kubeconfigPath: sandbox.kubeconfigPath,
      namespace: ns,
      name: 'checkout',
      head,
    });
    const expected = eventIds(entries);
    const types = entries.flatMap((e) => rolloutEventOf(e)?.type ?? []);
    // A kill just after the canary started can add a `resumed` (the successor finds the start applied, status behind).
    expect(types[0]).toBe('kubestead.rollout.started');
    expect(types.at(-1)).toBe('kubestead.rollout.promoted');
    expect(types).toContain('kubestead.rollout.advanced');
    expect(new Set(types)).toEqual(new Set(types.filter((t) => /\.(started|resumed|advanced|promoted)$/.test(t))));
    // The message in flight at the kill is the first one, and it was never answered.
    expect(hung.headers['webhook-id']).toBe(expected[0]);
    expect(hung.status).toBeNull();
    const of = (path: string) => receiver.received.filter((r) => r.path.split('?')[0] === path);
    // Delivery runs behind the chain: wait for the last action's message, then judge everything received.
    await waitFor(
      () =>
        ['/generic', '/slack'].every((p) =>
          of(p).some((r) => r.status === 200 && r.headers['webhook-id'] === expected.at(-1)),
        ),
      30_000,
      'the promotion to be delivered to both',
    );
    expect(deliveryReport(expected, of('/generic'))).toEqual(CLEAN);
    expect(deliveryReport(expected, of('/slack'))).toEqual(CLEAN);
    // The resent message is the same signed event: the same id, the same body type.
    const generic = of('/generic').filter((r) => r.status === 200);
    expect(generic.map((r) => (JSON.parse(r.body) as { id: string }).id)).toEqual(
      generic.map((r) => r.headers['webhook-id']),
    );

    // No secret in any output: either process's log, the policy's status and Events, the audit chain.
    const outputs = [
      ...a.raw,
      ...b.raw,
      JSON.stringify(await getObject(sandbox, policyPath(ns, 'checkout'))),
      JSON.stringify(await eventsAbout(sandbox, ns, 'RolloutPolicy', 'checkout')),
      JSON.stringify(entries),
    ].join('\n');
    for (const secret of [SLACK_TOKEN, GENERIC_TOKEN, SIGNING, SIGNING.slice('whsec_'.length), receiver.url])
      expect(outputs).not.toContain(secret);
  }, 240_000);
});
