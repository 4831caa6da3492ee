import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTickReconciler } from '../../src/runtime/tick/index.js';
import { json, startServer, type TestServer } from '../metrics/helpers.js';
import { waitFor } from '../support/wait.js';
import { checkedSpec, scenario } from './scenario.js';

const env = scenario();

describe('one clock: the metrics client of the tick runs on the operator clock', () => {
  let prom: TestServer;
  let limited = false;
  beforeAll(async () => {
    prom = await startServer((_req, res) => {
      if (limited) {
        limited = false;
        json(res, 429, { status: 'error', errorType: 'too_many_requests', error: 'slow down' }, { 'retry-after': '2' });
        return;
      }
      json(res, 200, {
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, '0.001'] }] },
      });
    });
  });
  afterAll(async () => prom.close());

  it('a Retry-After is waited out on the ManualClock: the tick finishes when the test moves it, not before', async () => {
    const f = await env.fixture();
    // The reconciler as `kubestead run` builds it: its own metrics runtime, on the operator's (here the test's) clock.
    f.reconciler = createTickReconciler(f.deps, { crash: () => undefined });
    await f.startCanary(checkedSpec(prom.url, { steps: [{ weight: 20, soak: '10m' }] }));
    await f.settle();
    limited = true;
    const before = prom.requests.length;
    await f.clock.advance(10_000);
    let finished = false;
    const tick = f.tick().finally(() => {
      finished = true;
    });
    await waitFor(
      () => prom.requests.length === before + 1 && f.clock.waiting === 1,
      10_000,
      'the client to wait out Retry-After on the clock',
    );
    await f.clock.advance(1_999);
    expect({ finished, requests: prom.requests.length - before, waiting: f.clock.waiting }).toEqual({
      finished: false,
      requests: 1,
      waiting: 1,
    });
    await f.clock.advance(1);
    await tick;
    expect(prom.requests.length - before).toBe(2);
    expect((await f.status()).checks?.errors).toMatchObject({ status: 'ok', value: 0.001 });
  });
});
