import { createServer as createHttpsServer } from 'node:https';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRuntime, createProvider, type MetricsRuntime } from '../../src/adapters/providers/provider.js';
import type { PrometheusSpec } from '../../src/pipeline/policy/schema.js';
import { staticSecretReader } from '../../src/adapters/secrets/reader.js';
import { check, json, startServer, TICK, tickContext, type Handler, type TestServer } from './helpers.js';

// Answers in the shape of the Prometheus HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/),
// for what a real Prometheus 2.42 does not readily produce: warnings, proxies' HTML pages, broken bodies.
const vector = (value: string) => ({
  status: 'success',
  data: { resultType: 'vector', result: [{ metric: {}, value: [TICK.getTime() / 1000, value] }] },
});
const routes: Record<string, Handler> = {
  '/warn': (_req, res) =>
    json(res, 200, { ...vector('0.25'), warnings: ['PromQL info: metric might not be a counter'] }),
  '/html': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html><body>Sign in to continue</body></html>');
  },
  '/broken': (_req, res) => json(res, 200, '{"status":"success","data":{'),
  '/empty': (_req, res) => {
    res.writeHead(200);
    res.end();
  },
  '/exec-error': (_req, res) =>
    json(res, 422, {
      status: 'error',
      errorType: 'execution',
      error: 'query processing would load too many samples into memory',
    }),
  '/unavailable': (_req, res) => json(res, 503, 'upstream connect error'),
  '/not-prometheus': (_req, res) => json(res, 200, { hello: 'world' }),
  '/long-error': (_req, res) => json(res, 400, { status: 'error', errorType: 'bad_data', error: 'x'.repeat(100_000) }),
  '/native-histogram': (_req, res) =>
    json(res, 200, {
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: {}, histogram: [1, { count: '3', sum: '1.5', buckets: [] }] }] },
    }),
  '/null-sample': (_req, res) =>
    json(res, 200, { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, null] }] } }),
  '/auth': (req, res) =>
    json(
      res,
      200,
      vector(req.headers.authorization === 'Bearer tok-123' && req.headers['x-scope-orgid'] === 'tenant-1' ? '1' : '0'),
    ),
  '/basic': (req, res) =>
    json(
      res,
      200,
      vector(req.headers.authorization === `Basic ${Buffer.from('kube:pw-456').toString('base64')}` ? '1' : '0'),
    ),
};

describe('Prometheus API answers', () => {
  let server: TestServer;
  let runtime: MetricsRuntime;
  beforeAll(async () => {
    server = await startServer(async (req, res) =>
      routes[req.url.pathname.replace(/\/api\/v1\/query$/, '')]?.(req, res),
    );
    runtime = createMetricsRuntime();
  });
  afterAll(async () => {
    await runtime.http.close();
    await server.close();
  });

  const secrets = staticSecretReader({
    'shop/prom/token': 'tok-123',
    'shop/prom/tenant': 'tenant-1',
    'prom/password': 'pw-456',
  });
  const measure = (path: string, extra: Partial<PrometheusSpec> = {}) =>
    createProvider(
      'prom',
      { prometheus: { address: `${server.url}${path}`, timeout: '2s', ...extra } },
      runtime,
    ).measure(check({ provider: 'prom', query: 'up' }), tickContext({}, secrets));

  it('POSTs the query as a form at the tick time', async () => {
    const m = await measure('/warn');
    const sent = server.requests.at(-1)!;
    expect(sent.method).toBe('POST');
    expect(sent.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(sent.body))).toEqual({
      query: 'up',
      time: String(TICK.getTime() / 1000) + '.000',
      timeout: '2',
    });
    expect(m).toMatchObject({ status: 'ok', value: 0.25, raw: '0.25', observedAt: TICK.toISOString() });
  });

  it('keeps warnings on the measurement and uses the value', async () => {
    expect(await measure('/warn')).toMatchObject({
      status: 'ok',
      value: 0.25,
      warnings: ['PromQL info: metric might not be a counter'],
    });
  });

  it.each([
    [
      '/html',
      'the answer is not JSON (HTTP 200, content-type text/html, starts with "<html><body>Sign in to continue</body></")',
    ],
    [
      '/broken',
      'the answer is not JSON (HTTP 200, content-type application/json, starts with "{\\"status\\":\\"success\\",\\"data\\":{")',
    ],
    ['/empty', 'the answer is not JSON (HTTP 200, empty body)'],
    [
      '/exec-error',
      'HTTP 422 Unprocessable Entity: error (execution): query processing would load too many samples into memory',
    ],
    ['/unavailable', 'HTTP 503 Service Unavailable after 2 attempts'],
    ['/not-prometheus', 'the answer is not a Prometheus API response (no "status")'],
    ['/null-sample', 'the sample is null (no data), not a number'],
    [
      '/native-histogram',
      'a native histogram sample was returned where a number was expected (use histogram_quantile, histogram_count, …)',
    ],
  ])('%s is unavailable: %s', async (path, error) => {
    expect(await measure(path)).toMatchObject({
      status: 'unavailable',
      value: null,
      error: `prometheus ${server.url}${path}: ${error}`,
    });
  });

  it('keeps a long backend message short', async () => {
    const m = await measure('/long-error');
    expect(m.error).toMatch(/^prometheus .*: HTTP 400 Bad Request: error \(bad_data\): x+…$/);
    expect(m.error!.length).toBeLessThan(600);
  });

  it('sends a bearer token and custom headers read from Secret refs', async () => {
    const m = await measure('/auth', {
      bearerTokenSecretRef: { name: 'prom', key: 'token' },
      headers: [{ name: 'X-Scope-OrgID', valueSecretRef: { name: 'prom', key: 'tenant' } }],
    });
    expect(m).toMatchObject({ status: 'ok', value: 1 });
  });

  it('sends basic auth', async () => {
    expect(
      await measure('/basic', {
        basicAuth: { username: 'kube', passwordSecretRef: { name: 'prom', key: 'password' } },
      }),
    ).toMatchObject({ status: 'ok', value: 1 });
  });

  it('names a missing Secret without any value', async () => {
    const m = await measure('/auth', { bearerTokenSecretRef: { name: 'prom', key: 'nope' } });
    expect(m).toMatchObject({
      status: 'unavailable',
      error: `prometheus ${server.url}/auth: SecretUnavailableError: secret shop/prom key "nope": not found`,
    });
  });
});

describe('Prometheus over TLS with a CA bundle from a Secret', () => {
  let server: TestServer;
  let ca: string;
  beforeAll(async () => {
    const pems = await generate([{ name: 'commonName', value: 'prometheus.test' }], {
      algorithm: 'sha256',
      keyType: 'ec',
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
      ],
    });
    ca = pems.cert;
    server = await startServer(
      (_req, res) => json(res, 200, vector('3')),
      createHttpsServer({ key: pems.private, cert: pems.cert }),
    );
  });
  afterAll(async () => server.close());

  it('trusts the bundle, and fails closed without it', async () => {
    const runtime = createMetricsRuntime();
    const secrets = staticSecretReader({ 'prom-ca/ca.crt': ca });
    const spec = (withCa: boolean) => ({
      prometheus: {
        address: server.url,
        timeout: '2s',
        ...(withCa ? { caSecretRef: { name: 'prom-ca', key: 'ca.crt' } } : {}),
      },
    });
    const trusted = await createProvider('prom', spec(true), runtime).measure(
      check({ provider: 'prom' }),
      tickContext({}, secrets),
    );
    const untrusted = await createProvider('prom', spec(false), runtime).measure(
      check({ provider: 'prom' }),
      tickContext({}, secrets),
    );
    await runtime.http.close();
    expect(trusted).toMatchObject({ status: 'ok', value: 3 });
    expect(untrusted.status).toBe('unavailable');
    expect(untrusted.error).toMatch(
      /^prometheus https:\/\/127\.0\.0\.1:\d+: network error: self[- ]signed certificate/,
    );
  });
});
