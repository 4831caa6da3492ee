import { PassThrough } from 'node:stream';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { Sandbox } from '@kubestead/sandbox';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_RESOURCE } from '../../src/adapters/kube/names.js';
import { systemClock } from '../../src/lib/clock/clock.js';
import { createLogger, silentLogger } from '../../src/lib/log/logger.js';
import { AuditRecorder } from '../../src/pipeline/record/audit/index.js';
import { NotificationMetrics } from '../../src/pipeline/record/notify/metrics.js';
import type { DecisionRecord, PolicyRef } from '../../src/pipeline/record/recorder.js';
import { auditSandbox } from '../audit/cluster.js';
import { recordOf } from '../audit/records.js';
import { waitFor } from '../support/wait.js';
import { Receiver } from './receiver.js';
import { mintWebhookSecret } from '../support/secrets.js';

const NS = 'shop';
const SIGNING = mintWebhookSecret('notify-signing');
const FAST = { baseBackoffMs: 20, maxBackoffMs: 100, minIntervalMs: 0, timeoutMs: 2000 };

async function createPolicy(sandbox: Sandbox, name: string, notifications: unknown[]): Promise<PolicyRef> {
  const body = {
    apiVersion: 'kubestead.io/v1alpha1',
    kind: 'RolloutPolicy',
    metadata: { name, namespace: NS },
    spec: {
      targetRef: { kind: 'Deployment', name },
      steps: [{ weight: 5 }, { weight: 25 }, { weight: 50 }, { weight: 75 }],
      notifications,
    },
  };
  const created = (await sandbox
    .client(CustomObjectsApi)
    .createNamespacedCustomObject({ ...POLICY_RESOURCE, namespace: NS, body })) as {
    metadata: { uid: string; generation: number };
  };
  return { namespace: NS, name, uid: created.metadata.uid, generation: created.metadata.generation };
}

const started = (policy: PolicyRef, revision: string, minute: number): DecisionRecord => ({
  ...recordOf('hold', 0, minute, { policy, revision }),
  kind: 'event',
  decision: {
    action: 'hold',
    step: 0,
    nextStep: null,
    reasons: [{ rule: 'canary-started', message: `canary ${revision} started at step 1/4` }],
  },
  message: `canary ${revision} started at step 1/4`,
});

const goodRelease = (policy: PolicyRef): DecisionRecord[] => [
  started(policy, 'rev-a', 0),
  recordOf('advance', 0, 5, { policy, revision: 'rev-a' }),
  recordOf('advance', 1, 10, { policy, revision: 'rev-a' }),
  recordOf('advance', 2, 15, { policy, revision: 'rev-a' }),
  recordOf('promote', 3, 20, { policy, revision: 'rev-a' }),
];

const badRelease = (policy: PolicyRef): DecisionRecord[] => [
  started(policy, 'rev-b', 30),
  recordOf('rollback', 0, 32, { policy, revision: 'rev-b' }),
];

const ids = (receiver: Receiver, path: string) =>
  receiver.received.filter((r) => r.path.split('?')[0] === path).map((r) => r.headers['webhook-id']);

describe('notifications', { timeout: 120_000 }, () => {
  let sandbox: Sandbox;
  let receiver: Receiver;

  beforeAll(async () => {
    sandbox = await auditSandbox();
    receiver = await new Receiver().start();
    const core = sandbox.client(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: 'hooks' },
        stringData: {
          slack: `${receiver.url}/slack?token=SLACK-TOKEN-0001`,
          teams: `${receiver.url}/teams?sig=TEAMS-TOKEN-0002`,
          generic: `${receiver.url}/generic`,
          retried: `${receiver.url}/retried`,
          hanging: `${receiver.url}/hanging`,
          down: `${receiver.url}/down?sig=DOWN-TOKEN-0003`,
          signing: SIGNING,
        },
      },
    });
  });
  afterAll(async () => {
    await receiver?.close();
    await sandbox?.close();
  });

  it('a good and a bad release: one message per event per destination, with values and bounds', async () => {
    const policy = await createPolicy(sandbox, 'checkout', [
      { name: 'team-chat', slack: { urlSecretRef: { name: 'hooks', key: 'slack' } } },
      { name: 'teams', teams: { urlSecretRef: { name: 'hooks', key: 'teams' } }, on: ['promoted', 'rolledBack'] },
      {
        name: 'pager',
        webhook: { urlSecretRef: { name: 'hooks', key: 'generic' }, secretRef: { name: 'hooks', key: 'signing' } },
      },
    ]);
    const recorder = new AuditRecorder(sandbox.kubeConfig(), systemClock, silentLogger, { notifications: FAST });
    try {
      for (const record of [...goodRelease(policy), ...badRelease(policy)]) await recorder.record(record);
      // A record repeated after a crash is the same action: no second message.
      await recorder.record(recordOf('rollback', 0, 32, { policy, revision: 'rev-b' }));
      const counts = () =>
        ['/generic', '/teams', '/slack'].map((p) => `${p} ${receiver.accepted(p).length}`).join(', ') +
        ` ${JSON.stringify(receiver.accepted('/generic').map((m) => m.json.type))}`;
      await waitFor(
        () => receiver.accepted('/generic').length === 7 && receiver.accepted('/teams').length === 2,
        8000,
        counts,
      );
      await waitFor(() => receiver.accepted('/slack').length === 7);
      await recorder.deliveriesIdle();
    } finally {
      await recorder.stop();
    }
    const events = receiver.accepted('/generic').map((m) => m.json);
    expect(events.map((e) => e.type)).toEqual([
      'kubestead.rollout.started',
      'kubestead.rollout.advanced',
      'kubestead.rollout.advanced',
      'kubestead.rollout.advanced',
      'kubestead.rollout.promoted',
      'kubestead.rollout.started',
      'kubestead.rollout.rolledBack',
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(7);
    const rollback = events.at(-1)!;
    expect(rollback).toMatchObject({
      version: 1,
      policy: { namespace: NS, name: 'checkout' },
      revision: 'rev-b',
      step: 0,
      stepLabel: '1/4',
      weight: 5,
      reasons: [{ rule: 'check-breach', check: 'error-rate', message: 'error-rate = 0.034 is above max 0.01' }],
      checks: { 'error-rate': { status: 'ok', value: 0.034, min: null, max: 0.01 }, apdex: { min: 0.9 } },
    });
    // Standard Webhooks: webhook-id is the action id, and the signature verifies with the policy's secret.
    for (const { headers, json } of receiver.accepted('/generic')) {
      expect(headers['webhook-id']).toBe(json.id);
      const raw = receiver.received.find((r) => r.path === '/generic' && r.headers['webhook-id'] === json.id)!.body;
      expect(() => new Webhook(SIGNING).verify(raw, headers as Record<string, string>)).not.toThrow();
    }
    const slack = receiver.accepted('/slack').at(-1)!.json as { text: string; blocks: { type: string }[] };
    expect(slack.text).toMatch(/^shop\/checkout rolled back at step 1\/4 \(weight 5%\)/);
    expect(slack.text).toContain('error-rate 0.034 (max 0.01)');
    expect(slack.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'section', 'context']);
    expect(JSON.stringify(slack.blocks)).toContain('✗ error-rate: 0.034 (max 0.01)');
    const teams = receiver.accepted('/teams').map((m) => m.json) as {
      type: string;
      attachments: { contentType: string; content: { type: string; body: { text?: string }[] } }[];
    }[];
    expect(teams.map((t) => t.attachments[0]!.content.body[0]!.text)).toEqual([
      'shop/checkout promoted',
      'shop/checkout rolled back',
    ]);
    expect(teams[0]).toMatchObject({
      type: 'message',
      attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard' } }],
    });
  });

  it('a receiver answering 500 twice then 200 gets the message, the same webhook-id each time', async () => {
    receiver.answer('/retried', 500, 500);
    const policy = await createPolicy(sandbox, 'retried', [
      {
        name: 'pager',
        webhook: { urlSecretRef: { name: 'hooks', key: 'retried' }, secretRef: { name: 'hooks', key: 'signing' } },
      },
    ]);
    const metrics = new NotificationMetrics();
    const recorder = new AuditRecorder(sandbox.kubeConfig(), systemClock, silentLogger, {
      notifications: { ...FAST, observe: metrics.observe },
    });
    try {
      const record = recordOf('advance', 0, 5, { policy, revision: 'rev-a' });
      // The decision is stored (and so may be applied) at once: delivery is behind it, in the background.
      await recorder.record(record);
      await waitFor(() => receiver.accepted('/retried').length === 1);
      await recorder.deliveriesIdle();
    } finally {
      await recorder.stop();
    }
    const tries = receiver.received.filter((r) => r.path === '/retried');
    expect(tries.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(new Set(ids(receiver, '/retried')).size).toBe(1);
    // One attempt holds the HTTP client's own retry: the two 500s are one failed attempt, then one retried attempt.
    const text = await metrics.registry.metrics();
    expect(text).toContain('kubestead_notifications_total{kind="webhook",outcome="sent"} 1');
    expect(text).toContain('kubestead_notifications_total{kind="webhook",outcome="failed"} 1');
    expect(text).toContain('kubestead_notifications_total{kind="webhook",outcome="retried"} 1');
  });

  it('a controller stopped mid-send: the next one resends the same id, once', async () => {
    receiver.hang('/hanging');
    const policy = await createPolicy(sandbox, 'restarted', [
      {
        name: 'pager',
        webhook: { urlSecretRef: { name: 'hooks', key: 'hanging' }, secretRef: { name: 'hooks', key: 'signing' } },
      },
    ]);
    const first = new AuditRecorder(sandbox.kubeConfig(), systemClock, silentLogger, { notifications: FAST });
    await first.record(recordOf('advance', 0, 5, { policy, revision: 'rev-a' }));
    await waitFor(() => receiver.received.some((r) => r.path === '/hanging'));
    await first.stop();
    receiver.hang('/hanging', false);
    const second = new AuditRecorder(sandbox.kubeConfig(), systemClock, silentLogger, { notifications: FAST });
    try {
      await second.deliverPending(policy);
      await waitFor(() => receiver.accepted('/hanging').length === 1);
      await second.deliveriesIdle();
      // A third leader finds the cursor past it: nothing is sent again.
      await second.deliverPending(policy);
      await second.deliveriesIdle();
    } finally {
      await second.stop();
    }
    const sent = ids(receiver, '/hanging');
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(new Set(sent).size).toBe(1);
    expect(receiver.accepted('/hanging')).toHaveLength(1);
  });

  it('a template gives the text that reaches the receiver; a failing one falls back to the default text, with a warning', async () => {
    const policy = await createPolicy(sandbox, 'templated', [
      {
        name: 'team-chat',
        slack: { urlSecretRef: { name: 'hooks', key: 'slack' } },
        template: `"Deploy of " & policy.name & " " & $substringAfter(type, "kubestead.rollout.") & " at " & stepLabel`,
      },
      { name: 'broken', teams: { urlSecretRef: { name: 'hooks', key: 'teams' } }, template: '$error("no such field")' },
    ]);
    const out = new PassThrough();
    let logged = '';
    out.on('data', (c: Buffer) => (logged += c.toString()));
    const recorder = new AuditRecorder(sandbox.kubeConfig(), systemClock, createLogger({ stream: out }), {
      notifications: FAST,
    });
    const slackBefore = receiver.accepted('/slack').length;
    const teamsBefore = receiver.accepted('/teams').length;
    try {
      await recorder.record(recordOf('promote', 3, 20, { policy, revision: 'rev-t' }));
      await waitFor(
        () => receiver.accepted('/slack').length > slackBefore && receiver.accepted('/teams').length > teamsBefore,
      );
      await recorder.deliveriesIdle();
    } finally {
      await recorder.stop();
    }
    const slack = receiver.accepted('/slack').slice(slackBefore);
    expect(slack).toHaveLength(1);
    expect(slack[0]!.json.text).toBe('Deploy of templated promoted at 4/4');
    expect(JSON.stringify(slack[0]!.json.blocks)).toContain('Deploy of templated promoted at 4/4');
    const teams = receiver.accepted('/teams').slice(teamsBefore) as unknown as {
      json: { attachments: { content: { body: { text?: string }[] } }[] };
    }[];
    expect(teams).toHaveLength(1);
    expect(teams[0]!.json.attachments[0]!.content.body[1]!.text).toMatch(/^shop\/templated promoted at step 4\/4/);
    const warnings = logged.split('\n').filter((l) => l.includes('notification template not used'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"destination":"broken"');
    expect(warnings[0]).toContain('no such field');
    expect(logged).not.toContain('TOKEN');
    expect(logged).not.toContain(receiver.url);
  });

  it('operator-wide destinations notify every policy without its own notifications, and only those', async () => {
    const bare = await createPolicy(sandbox, 'bare', []);
    const own = await createPolicy(sandbox, 'own', [
      { name: 'team-chat', teams: { urlSecretRef: { name: 'hooks', key: 'teams' } } },
    ]);
    const defaults = [
      {
        name: 'default-webhook',
        kind: 'webhook' as const,
        url: { secretRef: { namespace: NS, name: 'hooks', key: 'generic' } },
        signingSecretRef: { namespace: NS, name: 'hooks', key: 'signing' },
        on: ['promoted' as const],
      },
    ];
    const recorder = new AuditRecorder(sandbox.kubeConfig(), systemClock, silentLogger, {
      notifications: { ...FAST, defaults },
    });
    const fromPolicy = (name: string) =>
      receiver.accepted('/generic').filter((m) => (m.json.policy as { name: string }).name === name);
    const teamsBefore = receiver.accepted('/teams').length;
    try {
      for (const policy of [bare, own]) {
        await recorder.record(recordOf('advance', 0, 5, { policy, revision: 'rev-d' }));
        await recorder.record(recordOf('promote', 1, 10, { policy, revision: 'rev-d' }));
      }
      await waitFor(() => fromPolicy('bare').length === 1 && receiver.accepted('/teams').length === teamsBefore + 2);
      await recorder.deliveriesIdle();
    } finally {
      await recorder.stop();
    }
    expect(fromPolicy('bare').map((m) => m.json.type)).toEqual(['kubestead.rollout.promoted']);
    expect(fromPolicy('own')).toEqual([]);
  });

  it('a missing Secret key or a failing destination: degraded, and no URL or token in any output', async () => {
    receiver.answer('/down', ...Array<number>(1000).fill(500));
    const policy = await createPolicy(sandbox, 'unreachable', [
      { name: 'team-chat', slack: { urlSecretRef: { name: 'hooks', key: 'nope' } } },
      { name: 'teams', teams: { urlSecretRef: { name: 'hooks', key: 'down' } } },
    ]);
    const out = new PassThrough();
    let logged = '';
    out.on('data', (c: Buffer) => (logged += c.toString()));
    const recorder = new AuditRecorder(sandbox.kubeConfig(), systemClock, createLogger({ stream: out }), {
      notifications: FAST,
    });
    try {
      const receipt = await recorder.record(recordOf('rollback', 0, 5, { policy, revision: 'rev-a' }));
      expect(receipt.seq).toBe(0);
      const health = await waitFor(() => {
        const h = recorder.notificationHealth(policy);
        return h.message.includes('team-chat') && h.message.includes('teams') && h;
      });
      expect(health).toMatchObject({ degraded: true, reason: 'NotificationsFailing' });
      expect(health.message).toContain('secret shop/hooks key "nope"');
      expect(health.message).toContain('answered 500');
      for (const text of [health.message, logged]) {
        expect(text).not.toContain('TOKEN');
        expect(text).not.toContain(receiver.url);
      }
      expect(logged).toContain('notification not delivered, will retry');
    } finally {
      await recorder.stop();
    }
  });
});
