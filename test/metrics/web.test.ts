import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRuntime, createProvider, type MetricsRuntime } from '../../src/adapters/providers/provider.js';
import { measureChecks } from '../../src/adapters/providers/measure.js';
import type { ProviderSpec, RolloutPolicy, WebSpec } from '../../src/pipeline/policy/schema.js';
import { loadPolicies } from '../../src/pipeline/policy/load.js';
import { staticSecretReader } from '../../src/adapters/secrets/reader.js';
import { fixtureText, policyYaml, ROOT } from '../helpers.js';
import { check, json, startServer, tickContext, type RecordedRequest, type TestServer } from './helpers.js';

/** The answers of the three APIs docs/checks.md reads, in their documented shapes. */
const GRAPHITE = [
  {
    target: 'sumSeries(apps.checkout.canary.errors.rate)',
    tags: { name: 'sumSeries(apps.checkout.canary.errors.rate)' },
    datapoints: [
      [0.004, 1764150960],
      [0.006, 1764151020],
      [null, 1764151080],
    ],
  },
];
const INFLUX = {
  results: [
    {
      statement_id: 0,
      series: [{ name: 'latency', columns: ['time', 'mean'], values: [['2026-11-26T09:58:00Z', 182.5]] }],
    },
  ],
};
const DYNATRACE = {
  totalCount: 1,
  nextPageKey: null,
  resolution: 'Inf',
  result: [
    {
      metricId: 'builtin:service.errors.total.rate:avg',
      dataPointCountRatio: 3.6e-6,
      dimensionCountRatio: 2e-5,
      data: [
        {
          dimensions: ['SERVICE-5F8B1C3A2D4E6F70'],
          dimensionMap: { 'dt.entity.service': 'SERVICE-5F8B1C3A2D4E6F70' },
          timestamps: [1764151200000],
          values: [0.42],
        },
      ],
    },
  ],
};

/** `web-apis.yaml` with every provider pointed at the local server. */
function localPolicy(url: string): RolloutPolicy {
  const text = fixtureText('policies/web-apis.yaml').replace(/url: "https?:\/\/[^/"]+/g, `url: "${url}`);
  const { policies, errors } = loadPolicies(text, 'web-apis.yaml');
  if (!policies[0]) throw new Error(errors.join('\n'));
  return policies[0].policy;
}

describe('the web provider (a local server answering as Graphite, InfluxDB, Dynatrace and a gateway)', () => {
  let server: TestServer;
  let runtime: MetricsRuntime;
  const secrets = staticSecretReader({
    'influx/authorization': 'Token influx-secret-0001',
    'dynatrace/authorization': 'Api-Token dt0c01.SECRET0002',
    'gw/token': 'Bearer gw-secret-0003',
  });
  beforeAll(async () => {
    server = await startServer((req, res) => {
      const path = req.url.pathname;
      if (path === '/render') return json(res, 200, GRAPHITE);
      if (path === '/query') return json(res, 200, INFLUX);
      if (path === '/api/v2/metrics/query') return json(res, 200, DYNATRACE);
      if (path === '/v1/query') return json(res, 200, { data: { errorRate: 0.002 } });
      return answerAs(path.slice(1), req, res);
    });
    runtime = createMetricsRuntime();
  });
  afterAll(async () => {
    await runtime.http.close();
    await server.close();
  });

  const requestTo = (path: string): RecordedRequest | undefined =>
    server.requests.findLast((r) => r.url.pathname === path);

  it('reads each documented API with the expressions of docs/checks.md', async () => {
    const policy = localPolicy(server.url);
    const m = await measureChecks(policy.spec, tickContext({}, secrets), runtime);
    expect(Object.fromEntries(Object.entries(m).map(([name, x]) => [name, x.error ?? x.value]))).toEqual({
      'graphite-errors': 0.006,
      'influx-p99': 182.5,
      'dynatrace-failure-rate': 0.42,
      'gateway-errors': 0.002,
    });
    expect(m['graphite-errors']).toMatchObject({ status: 'ok', shape: 'a list of 1' });
    expect(requestTo('/render')?.url.searchParams.get('target')).toBe('sumSeries(apps.checkout.canary.errors.rate)');
    const influx = requestTo('/query')!;
    expect(influx.url.searchParams.get('q')).toBe(
      `SELECT mean("p99") FROM "latency" WHERE "app" = 'checkout' AND "track" = 'canary' AND time > now() - 2m`,
    );
    expect(influx.headers.authorization).toBe('Token influx-secret-0001');
    const dynatrace = requestTo('/api/v2/metrics/query')!;
    expect(dynatrace.url.searchParams.get('entitySelector')).toBe('type(SERVICE),entityName.equals("checkout-canary")');
    expect(dynatrace.headers.authorization).toBe('Api-Token dt0c01.SECRET0002');
    const gateway = requestTo('/v1/query')!;
    expect(gateway.method).toBe('POST');
    expect(gateway.headers).toMatchObject({ 'content-type': 'application/json', 'x-team': 'shop' });
    expect(JSON.parse(gateway.body)).toEqual({
      service: 'checkout',
      revision: '7f9c6d',
      metric: 'error-rate',
      window: '2m',
    });
  });

  const web = (extra: Partial<WebSpec> = {}): ProviderSpec => ({
    web: {
      url: server.url,
      method: 'GET',
      timeout: '2s',
      headers: [{ name: 'Authorization', valueFrom: { secretKeyRef: { name: 'gw', key: 'token' } } }],
      ...extra,
    },
  });
  const measure = (query: string, value?: string, provider = web(), ctx = tickContext({}, secrets)) =>
    createProvider('api', provider, runtime).measure(check({ provider: 'api', query, value, max: 1 }), ctx);

  it('joins the path and query string to the url, template values percent-encoded', async () => {
    const ctx = tickContext({ rollout: { canaryRevision: 'a&b=1 #x' } }, secrets);
    const m = await measure('/number?rev={{ rollout.canaryRevision }}&svc={{ target.name }}', undefined, web(), ctx);
    expect(m).toMatchObject({ status: 'ok', value: 0.25, query: '/number?rev=a%26b%3D1%20%23x&svc=checkout' });
    expect(requestTo('/number')?.url.searchParams.get('rev')).toBe('a&b=1 #x');
    expect(requestTo('/number')?.headers.authorization).toBe('Bearer gw-secret-0003');
  });

  it('escapes template values as JSON string content in a POST body, and refuses them outside a string', async () => {
    const ctx = tickContext({ rollout: { canaryRevision: 'x"}, "admin": true, "y": "' } }, secrets);
    const post = web({ url: `${server.url}/echo`, method: 'POST' });
    const m = await measure('{"rev": "{{ rollout.canaryRevision }}"}', 'n', post, ctx);
    expect(m).toMatchObject({ status: 'ok', value: 1 });
    expect(JSON.parse(requestTo('/echo')!.body)).toEqual({ rev: 'x"}, "admin": true, "y": "' });
    const bare = await measure('{"rev": {{ rollout.canaryRevision }}}', 'n', post, ctx);
    expect(bare.error).toContain('cannot be placed outside a string in a JSON body; quote it');
  });

  it.each([
    ['a 404', '/status/404', undefined, 'web http://127.0.0.1:PORT: HTTP 404 Not Found: {"error":"no such metric"}'],
    ['a 503, retried', '/status/503', undefined, 'HTTP 503 Service Unavailable after 2 attempts'],
    [
      'a 200 HTML page',
      '/html',
      'data',
      'the answer is not JSON (HTTP 200, content-type text/html, starts with "<html><body>maintenance</body></html>")',
    ],
    [
      'an empty body (argo #4535)',
      '/empty',
      'data',
      'the answer is not JSON (HTTP 200, content-type application/json, empty body)',
    ],
    ['a 204', '/status/204', 'data', 'the answer is not JSON (HTTP 204, empty body)'],
    ['an expression matching nothing', '/object', 'data.missing', 'value expression "data.missing" matched nothing'],
    ['an expression yielding a word', '/object', 'data.state', 'value of "data.state" is "healthy", not a number'],
    ['an expression yielding null', '/object', 'data.none', 'value of "data.none" is null (no data), not a number'],
    [
      'an object without an expression',
      '/object',
      undefined,
      "the answer is an object with keys data, not a number: set the check's value",
    ],
    ['a redirect', '/redirect', undefined, 'HTTP 302 redirect to /elsewhere refused: redirects are not followed'],
  ])('%s is unavailable with the reason, never a pass', async (_, path, value, error) => {
    const m = await measure(path, value);
    expect(m.status).toBe('unavailable');
    expect(m.value).toBeNull();
    expect(m.error).toContain(error.replace('PORT', String(server.port)));
  });

  it('a number as the whole body needs no expression', async () => {
    expect(await measure('/number')).toMatchObject({ status: 'ok', value: 0.25, shape: 'a number' });
  });

  it('never shows a header read from a Secret, even when the API echoes it', async () => {
    const m = await measure('/echo-auth');
    expect(m.error).toContain('HTTP 401 Unauthorized');
    expect(m.error).not.toContain('gw-secret-0003');
    expect(m.error).toContain('[redacted]');
  });

  it('refuses a GET query that is not a path or query string', async () => {
    const m = await measure('http://elsewhere.example/steal');
    expect(m.error).toContain('the query of a GET web check is a path or query string starting with / or ?');
  });

  it('`kubestead query` reads a web check, with --provider-url replacing the url and Secrets from the environment', async () => {
    const run = (check: string) =>
      new Promise<{ code: number; stdout: string }>((done) => {
        execFile(
          process.execPath,
          [
            resolve(ROOT, 'bin/kubestead'),
            'query',
            'fixtures/policies/web-apis.yaml',
            check,
            '--provider-url',
            server.url,
          ],
          { cwd: ROOT, env: { ...process.env, KUBESTEAD_SECRET_INFLUX_AUTHORIZATION: 'Token influx-secret-0001' } },
          (error, stdout) => done({ code: error ? Number(error.code) : 0, stdout }),
        );
      });
    const influx = await run('influx-p99');
    expect(influx.code, influx.stdout).toBe(0);
    expect(influx.stdout).toContain('answer:   an object with keys results');
    expect(influx.stdout).toContain('value:    182.5');
    expect(influx.stdout).toContain('result:   PASS');
    expect(requestTo('/query')?.headers.authorization).toBe('Token influx-secret-0001');
    const dynatrace = await run('dynatrace-failure-rate');
    expect(dynatrace.code).toBe(1);
    expect(dynatrace.stdout).toContain('KUBESTEAD_SECRET_DYNATRACE_AUTHORIZATION');
  });

  it('obeys the operator allow-list like every provider', async () => {
    const fenced = createMetricsRuntime({ allowedHosts: ['metrics.example.com'] });
    const m = await createProvider('api', web(), fenced).measure(
      check({ provider: 'api', query: '/number', max: 1 }),
      tickContext({}, secrets),
    );
    await fenced.http.close();
    expect(m.error).toContain(`address refused: 127.0.0.1:${server.port} is not in the operator's allowedHosts`);
  });
});

/** Answers by name: `/status/404`, `/html`, `/empty`, `/object`, `/number`, `/echo`, `/echo-auth`, `/redirect`. */
function answerAs(name: string, req: RecordedRequest, res: Parameters<Parameters<typeof startServer>[0]>[1]): void {
  const status = /^status\/(\d+)$/.exec(name)?.[1];
  if (status === '204') return void res.writeHead(204).end();
  if (status) return json(res, Number(status), { error: 'no such metric' });
  if (name === 'html')
    return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>maintenance</body></html>');
  if (name === 'empty') return void res.writeHead(200, { 'content-type': 'application/json' }).end();
  if (name === 'object') return json(res, 200, { data: { state: 'healthy', none: null } });
  if (name === 'number') return json(res, 200, 0.25);
  if (name === 'echo') return json(res, 200, { n: 1 });
  if (name === 'echo-auth') return json(res, 401, { error: `bad credentials: ${String(req.headers.authorization)}` });
  if (name === 'redirect') return void res.writeHead(302, { location: '/elsewhere' }).end();
  json(res, 404, { error: `no ${name}` });
}

describe('validation of the web provider', () => {
  const spec = (provider: string, query: string) =>
    policyYaml(`targetRef: {kind: Deployment, name: web}
steps: [{weight: 10}]
providers: {api: {web: ${provider}}}
checks:
  - {name: errors, provider: api, query: ${JSON.stringify(query)}, value: data.rate, max: 1}`);
  it.each([
    ['{url: "http://gw:8080"}', 'api/rate', "p.yaml:9: spec.checks[0].query: a GET web check's query is a path"],
    ['{url: "http://gw:8080", method: POST}', '{"svc": {{ target.name }', "a POST web check's query is its JSON body"],
    ['{url: "http://u:p@gw:8080"}', '/rate', 'p.yaml:7: spec.providers.api.web.url: a URL may not carry credentials'],
    ['{url: "ftp://gw"}', '/rate', 'spec.providers.api.web.url'],
    ['{url: "http://gw", method: PUT}', '/rate', 'spec.providers.api.web.method'],
    ['{url: "http://gw", headers: [{name: "A b", value: x}]}', '/rate', 'expected an HTTP header name'],
    [
      '{url: "http://gw", headers: [{name: A, value: x, valueFrom: {secretKeyRef: {name: s, key: k}}}]}',
      '/rate',
      'a header has exactly one of "value" or "valueFrom"',
    ],
    ['{url: "http://gw", headers: [{name: A}]}', '/rate', 'a header has exactly one of "value" or "valueFrom"'],
  ])('%s with query %s is refused', (provider, query, message) => {
    expect(loadPolicies(spec(provider, query), 'p.yaml').errors.join('\n')).toContain(message);
  });

  it.each([
    ['{url: "http://gw:8080"}', '/v1/rate?svc={{ target.name }}'],
    ['{url: "http://gw:8080"}', '?q={{ target.name }}'],
    ['{url: "http://gw:8080", method: POST}', '{"svc": "{{ target.name }}", "n": 2}'],
  ])('%s with query %s is accepted', (provider, query) => {
    expect(loadPolicies(spec(provider, query), 'p.yaml').errors).toEqual([]);
  });
});
