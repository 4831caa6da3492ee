import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { callWebhook, EXCERPT_CHARS, type WebhookContext } from '../../src/adapters/webhooks/call.js';
import { HttpClient } from '../../src/adapters/providers/http.js';
import { staticSecretReader } from '../../src/adapters/secrets/reader.js';
import { systemClock } from '../../src/lib/clock/clock.js';
import { snapshotSchema } from '../../src/pipeline/facts/snapshot.js';
import type { WebhookSpec } from '../../src/pipeline/policy/webhooks.js';
import { json, startServer, type TestServer } from '../metrics/helpers.js';
import { mintWebhookSecret } from '../support/secrets.js';

const SIGNING = mintWebhookSecret('webhook-signing');
const ROTATING = mintWebhookSecret('webhook-rotating');
const CTX: WebhookContext = {
  policy: 'checkout',
  namespace: 'shop',
  phase: 'Progressing',
  step: 1,
  weight: 50,
  canaryRevision: '7f9c6d',
  stableRevision: '5b8d4e',
};

/** A local receiver whose answers the test controls: `/status/N` answers N, `/slow` never answers in time. */
describe('calling a webhook (a local receiver whose answers the test controls)', () => {
  let server: TestServer;
  let http: HttpClient;
  const secrets = staticSecretReader({ 'hooks/signing': SIGNING, 'hooks/rotating': `${SIGNING} ${ROTATING}` });
  beforeAll(async () => {
    server = await startServer(async (req, res) => {
      const path = req.url.pathname;
      const code = /^\/status\/(\d+)$/.exec(path)?.[1];
      if (code === '204') return void res.writeHead(204).end();
      if (code) return json(res, Number(code), { reason: code === '200' ? 'go' : 'release freeze', echo: req.headers });
      if (path === '/long') return json(res, 200, { text: 'x'.repeat(5000) });
      if (path === '/slow') await new Promise((done) => setTimeout(done, 1500));
      json(res, 200, {});
    });
    http = new HttpClient({ random: () => 0 });
  });
  afterAll(async () => {
    await http.close();
    await server.close();
  });

  const hook = (path: string, extra: Partial<WebhookSpec> = {}): WebhookSpec => ({
    name: 'release-gate',
    type: 'confirmPromotion',
    url: `${server.url}${path}`,
    timeout: '2s',
    metadata: { suite: 'smoke' },
    ...extra,
  });
  const call = (h: WebhookSpec, newId = () => 'msg_1') =>
    callWebhook(h, CTX, { http, secrets, clock: systemClock, newId });
  const last = () => server.requests.at(-1)!;

  it('POSTs the JSON body: policy, namespace, phase, step, weight, revisions, the webhook and a delivery id', async () => {
    const answer = await call(hook('/status/200'));
    expect(answer).toMatchObject({ type: 'confirmPromotion', ok: true, code: 200, deliveryId: 'msg_1' });
    expect(answer.latencyMs).toBeGreaterThanOrEqual(0);
    expect(last().method).toBe('POST');
    expect(last().headers['content-type']).toBe('application/json');
    expect(JSON.parse(last().body)).toEqual({
      deliveryId: 'msg_1',
      ...CTX,
      webhook: { name: 'release-gate', type: 'confirmPromotion', metadata: { suite: 'smoke' } },
    });
    expect(last().headers['webhook-signature']).toBeUndefined();
  });

  it('signs with secretRef: the Standard Webhooks library verifies the call, with either secret while rotating', async () => {
    await call(hook('/status/200', { secretRef: { name: 'hooks', key: 'signing' } }), () => 'msg_signed');
    const { body, headers } = last();
    const verified = new Webhook(SIGNING).verify(body, headers as Record<string, string>);
    expect(verified).toMatchObject({ deliveryId: 'msg_signed', policy: 'checkout' });
    expect(headers['webhook-id']).toBe('msg_signed');
    expect(() => new Webhook(ROTATING).verify(body, headers as Record<string, string>)).toThrow();

    await call(hook('/status/200', { secretRef: { name: 'hooks', key: 'rotating' } }));
    for (const secret of [SIGNING, ROTATING])
      expect(new Webhook(secret).verify(last().body, last().headers as Record<string, string>)).toBeTruthy();
  });

  it.each([
    ['a 423', '/status/423', { ok: false, code: 423, error: 'HTTP 423 Locked' }],
    ['a 503, retried once', '/status/503', { ok: false, code: 503, error: 'HTTP 503 Service Unavailable' }],
    ['a 204', '/status/204', { ok: true, code: 204 }],
    ['a 202', '/status/202', { ok: true, code: 202 }],
  ])('%s is a fact with its code', async (_, path, expected) => {
    const answer = await call(hook(path));
    expect(answer).toMatchObject(expected);
    expect(snapshotSchema.shape.webhooks.unwrap().valueType.safeParse(answer).success).toBe(true);
  });

  it('keeps a bounded excerpt of the body', async () => {
    const denied = await call(hook('/status/423'));
    expect(denied.excerpt).toContain('"reason":"release freeze"');
    const long = await call(hook('/long'));
    expect(long.excerpt).toHaveLength(EXCERPT_CHARS);
    expect(long.excerpt?.endsWith('…')).toBe(true);
  });

  it('a timeout, a refused host and a missing Secret are failed calls with the reason, never thrown', async () => {
    expect(await call(hook('/slow', { timeout: '1s' }))).toMatchObject({
      ok: false,
      code: null,
      error: 'timeout after 1s',
    });
    const fenced = new HttpClient({ allowedHosts: ['hooks.example.com'] });
    const refused = await callWebhook(hook('/status/200'), CTX, { http: fenced, secrets, clock: systemClock });
    await fenced.close();
    expect(refused).toMatchObject({ ok: false, code: null });
    expect(refused.error).toContain("is not in the operator's allowedHosts");
    const missing = await call(hook('/status/200', { secretRef: { name: 'nope', key: 'k' } }));
    expect(missing).toMatchObject({ ok: false, code: null });
    expect(missing.error).toContain('nope');
  });

  it('never lets the signing key into the answer, even when the receiver echoes it', async () => {
    const leaky = await startServer((req, res) => json(res, 401, { key: SIGNING, got: req.body }));
    const answer = await callWebhook(
      { ...hook(''), url: leaky.url, secretRef: { name: 'hooks', key: 'signing' } },
      CTX,
      { http, secrets, clock: systemClock },
    );
    await leaky.close();
    expect(JSON.stringify(answer)).not.toContain(SIGNING);
    expect(answer.excerpt).toMatch(/^\{"key":"\[redacted\]"/);
  });
});
