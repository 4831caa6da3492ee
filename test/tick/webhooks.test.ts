import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { json, startServer, type TestServer } from '../metrics/helpers.js';
import { scenario } from './scenario.js';
import type { TickFixture } from './support.js';
import { mintWebhookSecret } from '../support/secrets.js';

const env = scenario();

/** A local webhook receiver whose answers the test controls: `answers[path]` (200 when unset), every call recorded. */
let receiver: TestServer;
const answers = new Map<string, number>();
beforeAll(async () => {
  receiver = await startServer((req, res) =>
    json(res, answers.get(req.url.pathname) ?? 200, { path: req.url.pathname }),
  );
});
afterAll(() => receiver.close());

const calls = (path: string) => receiver.requests.filter((r) => r.url.pathname === path);
const hook = (name: string, type: string) => ({ name, type, url: `${receiver.url}/${name}`, timeout: '2s' });

/** One interval later: a tick. */
async function tick(f: TickFixture) {
  await f.clock.advance(10_000);
  await f.tick();
  return f.status();
}

describe('webhooks asked by the controller (the sandbox, a local receiver)', () => {
  it('a failing preRollout rolls back before the canary gets any traffic', async () => {
    answers.set('/acceptance', 412);
    const f = await env.fixture();
    const status = await f.startCanary(env.spec({ webhooks: [hook('acceptance', 'preRollout')] }));
    const after = status.phase === 'RolledBack' ? status : await tick(f);
    expect(after.phase).toBe('RolledBack');
    expect(after.lastDecision?.reasons[0]).toEqual({
      rule: 'webhook-failed',
      message:
        'preRollout webhook acceptance failed (HTTP 412 Precondition Failed): rolling back before any traffic moves',
    });
    expect(calls('/acceptance').length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(calls('/acceptance')[0]!.body)).toMatchObject({
      policy: 'app',
      namespace: f.namespace,
      step: 0,
      webhook: { name: 'acceptance', type: 'preRollout', metadata: {} },
    });
    expect((await f.deployment('app')).spec?.replicas).toBe(0);
  });

  it('load webhooks are called every interval; a passed preRollout is not asked again', async () => {
    answers.delete('/acceptance');
    const f = await env.fixture();
    const before = { load: calls('/load').length, acceptance: calls('/acceptance').length };
    await f.startCanary(env.spec({ webhooks: [hook('acceptance', 'preRollout'), hook('load', 'rollout')] }));
    await f.settle();
    for (let i = 0; i < 3; i++) expect((await tick(f)).phase).toBe('Progressing');
    expect(calls('/load').length - before.load).toBeGreaterThanOrEqual(3);
    expect(calls('/acceptance').length - before.acceptance).toBe(1);
  });

  it('a confirmPromotion gate holds the last step until it answers 2xx; a breach while it holds rolls back', async () => {
    answers.set('/release-gate', 423);
    const f = await env.fixture();
    await f.startCanary(env.spec({ webhooks: [hook('release-gate', 'confirmPromotion')] }));
    let status = await f.tickUntil((s) => s.waitingFor !== undefined, 10_000);
    expect(status).toMatchObject({
      phase: 'Progressing',
      currentStep: 1,
      waitingFor: 'waiting for gate release-gate (confirmPromotion: HTTP 423 Locked) at step 2/2',
    });
    const asked = calls('/release-gate').length;
    status = await tick(f);
    expect(status).toMatchObject({ phase: 'Progressing', currentStep: 1 });
    expect(calls('/release-gate').length).toBe(asked + 1); // asked every interval while it holds
    env.prom.set(0.2);
    try {
      status = await tick(f);
    } finally {
      env.prom.set(0.001);
    }
    expect(status.phase).toBe('RolledBack');
    expect(status.lastDecision?.reasons[0]?.rule).toBe('check-breach');
  });

  it('a gate that opens resumes where the rollout stood: the last step promotes', async () => {
    answers.set('/release-gate', 423);
    const f = await env.fixture();
    await f.startCanary(env.spec({ webhooks: [hook('release-gate', 'confirmPromotion')] }));
    await f.tickUntil((s) => s.waitingFor !== undefined, 10_000);
    answers.set('/release-gate', 200);
    const status = await f.tickUntil((s) => s.phase === 'Succeeded' || s.phase === 'Promoting', 10_000, 10);
    expect(['Succeeded', 'Promoting']).toContain(status.phase);
    expect(status.lastDecision?.action).toBe('promote');
    expect(status.waitingFor).toBeUndefined();
  });

  it('a rollback webhook answering 2xx rolls back', async () => {
    answers.set('/stop', 404);
    const f = await env.fixture();
    await f.startCanary(env.spec({ webhooks: [hook('stop', 'rollback'), hook('done', 'postRollout')] }));
    await f.settle();
    expect((await tick(f)).phase).toBe('Progressing');
    answers.set('/stop', 200);
    const status = await tick(f);
    expect(status.phase).toBe('RolledBack');
    expect(status.lastDecision?.reasons[0]).toEqual({
      rule: 'webhook-rollback',
      message: 'rollback webhook stop answered HTTP 200: rolling back',
    });
    // postRollout: asked once, on the tick that ended the rollout, and never before it.
    expect(calls('/done').map((r) => JSON.parse(r.body) as unknown)).toEqual([
      expect.objectContaining({ phase: 'RolledBack', webhook: { name: 'done', type: 'postRollout', metadata: {} } }),
    ]);
    expect((await tick(f)).phase).toBe('RolledBack');
    expect(calls('/done')).toHaveLength(1);
  });

  it('signed calls verify with the Standard Webhooks library; the key never leaves', async () => {
    const key = mintWebhookSecret('webhook-signing');
    answers.delete('/load');
    const f = await env.fixture();
    await f.core.createNamespacedSecret({
      namespace: f.namespace,
      body: { metadata: { name: 'hooks' }, stringData: { signing: key } },
    });
    const before = calls('/load').length;
    const signed = { ...hook('load', 'rollout'), secretRef: { name: 'hooks', key: 'signing' } };
    await f.startCanary(env.spec({ webhooks: [signed] }));
    await f.settle();
    expect((await tick(f)).phase).toBe('Progressing');
    const mine = calls('/load').slice(before);
    expect(mine.length).toBeGreaterThanOrEqual(1);
    for (const call of mine) {
      const h = call.headers as Record<string, string>;
      // The tick's clock is the test's ManualClock: sign again at its timestamp (verify() would reject its age).
      const at = new Date(Number(h['webhook-timestamp']) * 1000);
      const expected = new Webhook(key).sign(h['webhook-id']!, at, call.body);
      expect(h['webhook-signature']).toBe(expected);
      expect(
        new Webhook('whsec_' + Buffer.from('another key').toString('base64')).sign(h['webhook-id']!, at, call.body),
      ).not.toBe(h['webhook-signature']);
    }
    const shown = JSON.stringify([await f.policy(), await f.events('RolloutPolicy'), await f.events('Deployment')]);
    expect(shown).not.toContain(key);
    expect(shown).not.toContain(key.slice('whsec_'.length));
  });
});
