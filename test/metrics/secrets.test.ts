import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/log/logger.js';
import { measureChecks } from '../../src/adapters/providers/measure.js';
import { createMetricsRuntime } from '../../src/adapters/providers/provider.js';
import { envSecretReader, secretEnvName } from '../../src/adapters/secrets/env.js';
import { staticSecretReader } from '../../src/adapters/secrets/reader.js';
import { check, droppingServer, json, policySpec, startServer, tickContext, type TestServer } from './helpers.js';

const CANARY = 'kst-CANARY-7d1f3a9b2c';

describe('secrets never leave', () => {
  let server: TestServer;
  beforeAll(async () => {
    // A hostile or careless backend that echoes the credentials it got into every kind of answer.
    server = await startServer((req, res) => {
      const echoed =
        `${String(req.headers.authorization ?? '')} ${String(req.headers['dd-api-key'] ?? '')} ${String(req.headers['api-key'] ?? '')}`.trim();
      switch (req.url.pathname.split('/')[1]) {
        case 'prom-warn':
          return json(res, 200, {
            status: 'success',
            warnings: [`token ${echoed} is deprecated`],
            data: { resultType: 'scalar', result: [1, '1'] },
          });
        case 'prom-error':
          return json(res, 400, { status: 'error', errorType: 'bad_data', error: `bad credentials: ${echoed}` });
        case 'prom-html':
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end(`${echoed}<html>`);
          return;
        case 'dd':
          return json(res, 403, { errors: [`invalid key ${echoed}`] });
        case 'nr':
          return json(res, 200, { errors: [{ message: `key ${echoed} has no access` }] });
        default:
          return json(res, 404, {});
      }
    });
  });
  afterAll(async () => server.close());

  it('appears in no log line, error or measurement', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'trace', stream });
    const secrets = staticSecretReader({
      'creds/token': CANARY,
      'creds/password': CANARY,
      'creds/api': CANARY,
      'creds/app': CANARY,
    });
    const token = { name: 'creds', key: 'token' };
    const dead = await droppingServer();
    const spec = policySpec(
      {
        warn: { prometheus: { address: `${server.url}/prom-warn`, timeout: '2s', bearerTokenSecretRef: token } },
        error: {
          prometheus: {
            address: `${server.url}/prom-error`,
            timeout: '2s',
            headers: [{ name: 'Authorization', valueSecretRef: token }],
          },
        },
        html: {
          prometheus: {
            address: `${server.url}/prom-html`,
            timeout: '2s',
            basicAuth: { username: 'u', passwordSecretRef: { name: 'creds', key: 'password' } },
          },
        },
        refused: { prometheus: { address: dead.url, timeout: '1s', bearerTokenSecretRef: token } },
        dd: {
          datadog: {
            site: 'datadoghq.com',
            address: `${server.url}/dd`,
            apiKeySecretRef: { name: 'creds', key: 'api' },
            appKeySecretRef: { name: 'creds', key: 'app' },
            timeout: '2s',
          },
        },
        nr: {
          newRelic: {
            accountId: 1,
            region: 'US',
            address: `${server.url}/nr`,
            apiKeySecretRef: { name: 'creds', key: 'api' },
            timeout: '2s',
          },
        },
        missing: {
          prometheus: {
            address: server.url,
            timeout: '2s',
            bearerTokenSecretRef: { name: 'creds', key: 'rotated-away' },
          },
        },
      },
      ['warn', 'error', 'html', 'refused', 'dd', 'nr', 'missing'].map((p) =>
        check({ name: p, provider: p, query: 'up' }),
      ),
    );
    const runtime = createMetricsRuntime();
    const results = await measureChecks(spec, tickContext({ logger }, secrets), runtime);
    await runtime.http.close();
    await dead.close();
    logger.flush();

    expect(server.requests.some((r) => JSON.stringify(r.headers).includes(CANARY))).toBe(true); // it was really sent
    expect(results.warn).toMatchObject({ status: 'ok', warnings: ['token Bearer [redacted] is deprecated'] });
    expect(results.error!.error).toContain('bad credentials: [redacted]');
    expect(results.html!.error).toContain('the answer is not JSON');
    expect(results.refused!.error).toMatch(/network error: /);
    expect(results.dd!.error).toContain('invalid key [redacted]');
    expect(results.nr!.error).toContain('NerdGraph error: key [redacted] has no access');
    expect(results.missing!.error).toContain('secret shop/creds key "rotated-away": not found');
    expect(lines.length).toBeGreaterThan(0);
    const everything = JSON.stringify(results) + lines.join('');
    expect(everything).not.toContain(CANARY);
    expect(everything).not.toContain(Buffer.from(`u:${CANARY}`).toString('base64'));
  });

  it('a password in a provider address (refused by validate) is scrubbed from the measurement all the same', async () => {
    const dropping = await droppingServer();
    const withUser = dropping.url.replace('http://', 'http://user:secretpw@');
    const spec = policySpec({ prom: { prometheus: { address: withUser, timeout: '1s' } } }, [
      check({ provider: 'prom', query: 'up' }),
    ]);
    const runtime = createMetricsRuntime();
    const results = await measureChecks(spec, tickContext(), runtime);
    await runtime.http.close();
    await dropping.close();
    expect(results['error-rate']).toMatchObject({
      status: 'unavailable',
      error: expect.stringMatching(new RegExp(`^prometheus ${dropping.url}: network error`)) as unknown,
    });
    expect(JSON.stringify(results)).not.toContain('secretpw');
  });

  it('the env reader names the variable and the Secret, never a value', async () => {
    const ref = { name: 'datadog', key: 'api-key' };
    expect(secretEnvName(ref)).toBe('KUBESTEAD_SECRET_DATADOG_API_KEY');
    expect(secretEnvName({ name: 'my.secret', key: 'ca.crt' })).toBe('KUBESTEAD_SECRET_MY_SECRET_CA_CRT');
    await expect(envSecretReader({ KUBESTEAD_SECRET_DATADOG_API_KEY: CANARY }).read('shop', ref)).resolves.toBe(CANARY);
    await expect(envSecretReader({}).read('shop', ref)).rejects.toThrow(
      'secret shop/datadog key "api-key": not set (environment variable KUBESTEAD_SECRET_DATADOG_API_KEY)',
    );
  });

  it('the static reader prefers the namespaced entry', async () => {
    const reader = staticSecretReader({ 'a/k': 'any', 'shop/a/k': 'shop-only' });
    await expect(reader.read('shop', { name: 'a', key: 'k' })).resolves.toBe('shop-only');
    await expect(reader.read('other', { name: 'a', key: 'k' })).resolves.toBe('any');
  });
});
