import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMetricsRuntime, createProvider, type MetricsRuntime } from '../../src/adapters/providers/provider.js';
import type { CheckSpec, CloudWatchSpec, ProviderSpec } from '../../src/pipeline/policy/schema.js';
import { staticSecretReader } from '../../src/adapters/secrets/reader.js';
import { ROOT } from '../helpers.js';
import { check, droppingServer, TICK, tickContext } from './helpers.js';
import { motoTestsEnabled, REGION, startMoto, type Moto } from './moto-harness.js';

const MINUTE = 60_000;
const at = (minutesBeforeTick: number) => new Date(TICK.getTime() - minutesBeforeTick * MINUTE);

/** A MetricDataQuery of `name` in namespace Shop, by service dimension (the target's name, a template value). */
const stat = (id: string, name: string, extra: object = {}) => ({
  Id: id,
  MetricStat: {
    Metric: { Namespace: 'Shop', MetricName: name, Dimensions: [{ Name: 'Service', Value: '{{ target.name }}' }] },
    Period: 60,
    Stat: 'Average',
  },
  ...extra,
});

describe.runIf(motoTestsEnabled())('the CloudWatch provider against moto (a local AWS API stand-in)', () => {
  let moto: Moto;
  let runtime: MetricsRuntime;
  const secrets = () =>
    staticSecretReader({
      'aws/access-key-id': moto.credentials.accessKeyId,
      'aws/secret-access-key': moto.credentials.secretAccessKey,
      'aws-wrong-secret/access-key-id': moto.credentials.accessKeyId,
      'aws-wrong-secret/secret-access-key': 'Wrong0000SecretKeyValue',
      'aws-unknown-key/access-key-id': 'AKIAUNKNOWNKEY000000',
      'aws-unknown-key/secret-access-key': 'Unknown0000SecretKeyValue',
    });
  const cloudWatch = (extra: Partial<CloudWatchSpec> = {}, secret = 'aws'): ProviderSpec => ({
    cloudWatch: {
      region: REGION,
      endpoint: moto.url,
      accessKeyIdSecretRef: { name: secret, key: 'access-key-id' },
      secretAccessKeySecretRef: { name: secret, key: 'secret-access-key' },
      lookback: '5m',
      timeout: '5s',
      ...extra,
    },
  });
  const measure = (queries: unknown[], overrides: Partial<CheckSpec> = {}, provider = cloudWatch()) =>
    createProvider('cw', provider, runtime).measure(
      check({ provider: 'cw', query: JSON.stringify(queries), max: 0.05, ...overrides }),
      tickContext({}, secrets()),
    );

  beforeAll(async () => {
    moto = await startMoto();
    const service = [{ Name: 'Service', Value: 'checkout' }];
    await moto.put(
      'Shop',
      'ErrorRate',
      [
        { value: 0.5, at: at(4) },
        { value: 0.02, at: at(1) },
        { value: 0.9, at: at(-1) }, // after the tick: never read by it
      ],
      service,
    );
    await moto.put('Shop', 'Requests', [{ value: 120, at: at(2) }], service);
    await moto.put('Shop', 'Stale', [{ value: 7, at: at(30) }], service);
  }, 120_000);
  afterAll(async () => moto?.stop());
  beforeEach(() => {
    runtime = createMetricsRuntime();
  });
  afterEach(async () => runtime.http.close());

  it('reads the newest datapoint of the lookback, with the Secret access key, the target templated in', async () => {
    const m = await measure([stat('errors', 'ErrorRate')]);
    expect(m).toMatchObject({
      status: 'ok',
      value: 0.02,
      observedAt: at(1).toISOString(),
      shape: '1 result: errors (2 points)',
    });
    expect(JSON.parse(m.query)[0].MetricStat.Metric.Dimensions[0].Value).toBe('checkout');
  });

  it('the check names the query Id that is the value when several return data', async () => {
    const both = [stat('errors', 'ErrorRate'), stat('requests', 'Requests')];
    expect(await measure(both, { value: 'requests', max: 1000 })).toMatchObject({ status: 'ok', value: 120 });
    expect(await measure(both, { value: 'errors' })).toMatchObject({ status: 'ok', value: 0.02 });
    const ambiguous = await measure(both);
    expect(ambiguous.status).toBe('unavailable');
    expect(ambiguous.error).toContain("2 query results (set the check's value to the Id of the one to read");
    const onlyErrors = [stat('errors', 'ErrorRate'), stat('requests', 'Requests', { ReturnData: false })];
    expect(await measure(onlyErrors)).toMatchObject({ status: 'ok', value: 0.02 });
  });

  const cases: [string, () => Promise<Awaited<ReturnType<typeof measure>>>, string][] = [
    [
      'a metric with no datapoint in the lookback (empty is not a pass)',
      () => measure([stat('stale', 'Stale')]),
      'empty result: stale (Stale Average) has no datapoint in the last 300s',
    ],
    ['a metric that does not exist', () => measure([stat('none', 'NoSuchMetric')]), 'empty result: none'],
    [
      'a named Id without data',
      () => measure([stat('none', 'NoSuchMetric'), stat('errors', 'ErrorRate')], { value: 'none' }),
      'value of "none" is null (no data), not a number',
    ],
    [
      'a wrong secret access key',
      () => measure([stat('errors', 'ErrorRate')], {}, cloudWatch({}, 'aws-wrong-secret')),
      'HTTP 403: SignatureDoesNotMatch',
    ],
    [
      'an unknown access key id',
      () => measure([stat('errors', 'ErrorRate')], {}, cloudWatch({}, 'aws-unknown-key')),
      'HTTP 403: InvalidClientTokenId',
    ],
    ['a missing Secret', () => measure([stat('errors', 'ErrorRate')], {}, cloudWatch({}, 'aws-absent')), 'aws-absent'],
    ['a query that is not JSON', () => measure(['x']), 'MetricDataQueries[0] is not an object with an Id'],
  ];
  it.each(cases)('%s is unavailable with the reason', async (_, run, error) => {
    const m = await run();
    expect(m.status).toBe('unavailable');
    expect(m.value).toBeNull();
    expect(m.error).toContain(error);
    expect(m.error).toMatch(/^cloudWatch us-east-1 http:\/\/127\.0\.0\.1:\d+: /);
    expect(m.error).not.toContain(moto.credentials.secretAccessKey);
    expect(m.error).not.toContain('Wrong0000SecretKeyValue');
  });

  it('an unreachable endpoint is unavailable, after the one retry', async () => {
    const dropping = await droppingServer();
    try {
      const m = await measure([stat('errors', 'ErrorRate')], {}, cloudWatch({ endpoint: dropping.url }));
      expect(m.status).toBe('unavailable');
      expect(m.error).toContain('network error');
      expect(m.error).toContain('after 2 attempts');
    } finally {
      await dropping.close();
    }
  });

  it("the endpoint obeys the operator's allowedHosts (the SDK sends through the provider HTTP client)", async () => {
    await runtime.http.close();
    runtime = createMetricsRuntime({ allowedHosts: ['monitoring.us-east-1.amazonaws.com'] });
    const m = await measure([stat('errors', 'ErrorRate')]);
    expect(m.error).toContain('address refused: 127.0.0.1:');
    expect(m.error).toContain("is not in the operator's allowedHosts");
    expect(runtime.http.sent).toBe(0);
  });

  it("without a Secret, credentials come from the SDK's default chain (here: the environment)", async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, key: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = moto.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = moto.credentials.secretAccessKey;
    try {
      const chain: ProviderSpec = { cloudWatch: { region: REGION, endpoint: moto.url, lookback: '5m', timeout: '5s' } };
      expect(await measure([stat('errors', 'ErrorRate')], {}, chain)).toMatchObject({ status: 'ok', value: 0.02 });
    } finally {
      for (const [name, value] of [
        ['AWS_ACCESS_KEY_ID', saved.id],
        ['AWS_SECRET_ACCESS_KEY', saved.key],
      ] as const)
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
    }
  });

  it('a backtest reads the range in one request and answers each tick as a live read would have', async () => {
    const provider = createProvider('cw', cloudWatch(), runtime);
    const before = runtime.http.sent;
    const ticks = { startMs: at(6).getTime(), endMs: TICK.getTime(), stepMs: 3 * MINUTE };
    const history = await provider.history(
      check({ provider: 'cw', query: JSON.stringify([stat('errors', 'ErrorRate')]), max: 0.05 }),
      tickContext({}, secrets()),
      ticks,
    );
    expect(runtime.http.sent - before).toBe(1);
    const [six, three, now] = await Promise.all([6, 3, 0].map((m) => history.at(at(m).getTime())));
    expect(six!.status).toBe('unavailable');
    expect(six!.error).toContain('has no datapoint in the last 300s');
    expect(three).toMatchObject({ status: 'ok', value: 0.5, observedAt: at(4).toISOString() });
    expect(now).toMatchObject({ status: 'ok', value: 0.02, observedAt: at(1).toISOString() });
  });

  it('`kubestead query` reads a CloudWatch check of the fixture, --provider-url as its endpoint, Secrets from the environment', async () => {
    const canary = [
      { Name: 'Service', Value: 'checkout' },
      { Name: 'Track', Value: 'canary' },
    ];
    const now = Date.now();
    await moto.put('Shop', 'ErrorRate', [{ value: 0.01, at: new Date(now - MINUTE) }], canary);
    await moto.put('Shop', 'Requests', [{ value: 300, at: new Date(now - MINUTE) }], canary);
    const run = (name: string) =>
      new Promise<{ code: number; stdout: string }>((done) => {
        const args = ['query', 'fixtures/policies/cloudwatch.yaml', name, '--provider-url', moto.url];
        const env = {
          ...process.env,
          KUBESTEAD_SECRET_CLOUDWATCH_ACCESS_KEY_ID: moto.credentials.accessKeyId,
          KUBESTEAD_SECRET_CLOUDWATCH_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey,
        };
        execFile(process.execPath, [resolve(ROOT, 'bin/kubestead'), ...args], { cwd: ROOT, env }, (error, stdout) =>
          done({ code: error ? Number(error.code) : 0, stdout }),
        );
      });
    const errors = await run('error-rate');
    expect(errors.code, errors.stdout).toBe(0);
    expect(errors.stdout).toContain('answer:   2 results: errors (1 point), requests (1 point)');
    expect(errors.stdout).toContain('value:    0.01');
    expect(errors.stdout).toContain('result:   PASS');
    expect(errors.stdout).not.toContain(moto.credentials.secretAccessKey);
    const latency = await run('p99-latency');
    expect(latency.code).toBe(1);
    expect(latency.stdout).toContain('empty result: p99 (');
  });
});
