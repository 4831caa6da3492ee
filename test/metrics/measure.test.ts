import { PROVIDER_KINDS } from '../../src/pipeline/policy/schema.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureChecks, measureContext } from '../../src/adapters/providers/measure.js';
import { createMetricsRuntime, createProvider } from '../../src/adapters/providers/provider.js';
import { ProviderConfigError } from '../../src/adapters/providers/types.js';
import type { ProviderSpec } from '../../src/pipeline/policy/schema.js';
import { staticSecretReader } from '../../src/adapters/secrets/reader.js';
import { check, json, policySpec, startServer, TICK, tickContext, type TestServer } from './helpers.js';

/** A Prometheus-shaped server whose answer is the number in the query (`vector(3)` → 3), after a short delay. */
describe('measureChecks and the per-tick query cache', () => {
  let server: TestServer;
  let inFlight = 0;
  let maxInFlight = 0;
  beforeAll(async () => {
    server = await startServer(async (req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlight--;
      if (req.url.pathname.startsWith('/down')) return json(res, 503, 'down');
      const query = new URLSearchParams(req.body).get('query') ?? '';
      const value = /vector\((\d+)\)/.exec(query)?.[1] ?? 'NaN';
      json(res, 200, {
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: {}, value: [TICK.getTime() / 1000, value] }] },
      });
    });
  });
  afterAll(async () => server.close());

  const prom = (path = ''): ProviderSpec => ({ prometheus: { address: `${server.url}${path}`, timeout: '2s' } });

  it('sends identical queries of many policies in one tick once', async () => {
    const runtime = createMetricsRuntime();
    const before = server.requests.length;
    const specs = Array.from({ length: 100 }, (_, p) =>
      policySpec(
        { prom: prom() },
        [0, 1, 2].map((c) => check({ name: `c${c}`, provider: 'prom', query: `vector(${(p + c) % 10})` })),
      ),
    );
    const results = await Promise.all(
      specs.map((spec, p) =>
        measureChecks(spec, tickContext({ policy: { name: `p${p}`, namespace: 'shop' } }), runtime),
      ),
    );
    expect(server.requests.length - before).toBe(10);
    expect(runtime.cache.loads).toBe(10);
    expect(runtime.cache.hits).toBe(290);
    expect(results[7]).toMatchObject({
      c0: { status: 'ok', value: 7 },
      c1: { status: 'ok', value: 8 },
      c2: { status: 'ok', value: 9 },
    });
    await measureChecks(specs[0]!, tickContext({ time: new Date(TICK.getTime() + 30_000) }), runtime);
    expect(server.requests.length - before).toBe(13); // a new tick asks again
    await runtime.http.close();
  });

  it('shares an answer across policies ticking at different moments of one interval, and asks again in the next', async () => {
    const runtime = createMetricsRuntime();
    const before = server.requests.length;
    const spec = policySpec({ prom: prom() }, [check({ provider: 'prom', query: 'vector(5)' })]);
    const at = (ms: number) =>
      tickContext({
        time: new Date(TICK.getTime() + ms),
        intervalSeconds: 10,
        policy: { name: `p${ms}`, namespace: 'shop' },
      });
    // TICK is a multiple of 10 s: 0 … 9.999 s is one window, 10 s starts the next.
    const first = await Promise.all([0, 1_500, 4_000, 9_999].map((ms) => measureChecks(spec, at(ms), runtime)));
    expect(server.requests.length - before).toBe(1);
    for (const r of first) expect(r['error-rate']).toMatchObject({ status: 'ok', value: 5 });
    await measureChecks(spec, at(10_000), runtime);
    expect(server.requests.length - before).toBe(2);
    // A policy with another interval evaluates in windows of its own.
    await measureChecks(spec, tickContext({ time: TICK, intervalSeconds: 30 }), runtime);
    expect(server.requests.length - before).toBe(3);
    await runtime.http.close();
  });

  it('shares a failure too: a down backend gets one request and one retry, not one per policy', async () => {
    const runtime = createMetricsRuntime();
    const before = server.requests.length;
    const spec = policySpec({ prom: prom('/down') }, [check({ provider: 'prom', query: 'vector(1)' })]);
    const results = await Promise.all(Array.from({ length: 50 }, () => measureChecks(spec, tickContext(), runtime)));
    expect(server.requests.length - before).toBe(2);
    for (const r of results)
      expect(r['error-rate']).toMatchObject({
        status: 'unavailable',
        error: `prometheus ${server.url}/down: HTTP 503 Service Unavailable after 2 attempts`,
      });
    await runtime.http.close();
  });

  it('keeps providers with secrets apart per namespace, and different addresses apart', async () => {
    const runtime = createMetricsRuntime();
    const before = server.requests.length;
    const secrets = staticSecretReader({ 'prom/token': 't' });
    const withToken: ProviderSpec = {
      prometheus: { address: server.url, timeout: '2s', bearerTokenSecretRef: { name: 'prom', key: 'token' } },
    };
    const spec = policySpec({ a: withToken, b: prom('/other') }, [
      check({ name: 'a', provider: 'a', query: 'vector(1)' }),
      check({ name: 'b', provider: 'b', query: 'vector(1)' }),
    ]);
    await measureChecks(spec, tickContext({ policy: { name: 'x', namespace: 'one' } }, secrets), runtime);
    await measureChecks(spec, tickContext({ policy: { name: 'x', namespace: 'two' } }, secrets), runtime);
    expect(server.requests.length - before).toBe(3); // a in one, a in two, b once
    await runtime.http.close();
  });

  it('reads one answer with several value expressions', async () => {
    const runtime = createMetricsRuntime();
    const before = server.requests.length;
    const spec = policySpec({ prom: prom() }, [
      check({ name: 'plain', provider: 'prom', query: 'vector(4)' }),
      check({ name: 'doubled', provider: 'prom', query: 'vector(4)', value: '$number(result[0].value[1]) * 2' }),
    ]);
    expect(await measureChecks(spec, tickContext(), runtime)).toMatchObject({
      plain: { value: 4 },
      doubled: { value: 8 },
    });
    expect(server.requests.length - before).toBe(1);
    await runtime.http.close();
  });

  it("bounds the concurrency of a policy's checks", async () => {
    const runtime = createMetricsRuntime({ concurrency: 2 });
    maxInFlight = 0;
    const spec = policySpec(
      { prom: prom() },
      Array.from({ length: 8 }, (_, i) => check({ name: `c${i}`, provider: 'prom', query: `vector(${i}) + 0 * ${i}` })),
    );
    const results = await measureChecks(spec, tickContext(), runtime);
    expect(Object.keys(results)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']);
    expect(maxInFlight).toBe(2);
    await runtime.http.close();
  });

  it('turns a missing provider and a provider of no known kind into unavailable policy errors', async () => {
    const runtime = createMetricsRuntime();
    const spec = policySpec(
      {
        empty: {},
        both: {
          ...prom(),
          datadog: {
            site: 'datadoghq.com',
            apiKeySecretRef: { name: 'a', key: 'b' },
            appKeySecretRef: { name: 'a', key: 'c' },
            timeout: '5s',
          },
        },
      },
      [
        check({ name: 'a', provider: 'empty' }),
        check({ name: 'b', provider: 'both' }),
        check({ name: 'c', provider: 'nowhere', min: 1, max: undefined }),
      ],
    );
    const results = await measureChecks(spec, tickContext(), runtime);
    expect(results.a).toMatchObject({
      status: 'unavailable',
      value: null,
      provider: 'empty',
      error: `policy error: provider "empty": a provider has exactly one kind of ${PROVIDER_KINDS.join(', ')}; got none`,
    });
    expect(results.b).toMatchObject({
      status: 'unavailable',
      error: `policy error: provider "both": a provider has exactly one kind of ${PROVIDER_KINDS.join(', ')}; got prometheus and datadog`,
    });
    expect(results.c).toEqual({
      status: 'unavailable',
      value: null,
      min: 1,
      max: null,
      provider: 'nowhere',
      query: '',
      error: 'policy error: unknown provider "nowhere"',
      latencyMs: 0,
    });
    expect(() => createProvider('x', {}, runtime)).toThrow(ProviderConfigError);
  });

  it('a hung provider of one policy does not hold up the others', async () => {
    const hung = await startServer(() => undefined);
    const runtime = createMetricsRuntime();
    const slowSpec = policySpec({ prom: { prometheus: { address: hung.url, timeout: '1s' } } }, [
      check({ provider: 'prom', query: 'vector(1)' }),
    ]);
    const fastSpec = policySpec({ prom: prom() }, [check({ provider: 'prom', query: 'vector(2)' })]);
    const finished: string[] = [];
    const [slow, fast] = await Promise.all([
      measureChecks(slowSpec, tickContext(), runtime).then((r) => {
        finished.push('slow');
        return r;
      }),
      measureChecks(fastSpec, tickContext(), runtime).then((r) => {
        finished.push('fast');
        return r;
      }),
    ]);
    await runtime.http.close();
    await hung.close();
    expect(fast['error-rate']).toMatchObject({ status: 'ok', value: 2 });
    expect(slow['error-rate']).toMatchObject({
      status: 'unavailable',
      error: `prometheus ${hung.url}: timeout after 1s`,
    });
    expect(finished).toEqual(['fast', 'slow']);
  });

  it('builds a tick context from a policy', () => {
    const spec = { ...policySpec({}, []), interval: '1m30s' };
    const secrets = staticSecretReader({});
    expect(
      measureContext(
        { metadata: { name: 'checkout', namespace: 'shop' }, spec },
        { time: TICK, canaryRevision: 'abc', secrets },
      ),
    ).toEqual({
      time: TICK,
      target: { name: 'checkout', namespace: 'shop' },
      policy: { name: 'checkout', namespace: 'shop' },
      rollout: { canaryRevision: 'abc' },
      intervalSeconds: 90,
      secrets,
    });
  });

  it('measures nothing for a policy without checks', async () => {
    expect(await measureChecks(policySpec({}, []), tickContext(), createMetricsRuntime())).toEqual({});
  });
});
