import { createServer } from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubestead } from '../../audit/run-cli.js';
import { json, startServer, type TestServer } from '../../metrics/helpers.js';
import { prometheusTestsEnabled } from '../../metrics/prometheus-harness.js';
import { mintSecret } from '../../support/secrets.js';
import { waitFor } from '../../support/wait.js';
import {
  apply,
  eventsAbout,
  kubectl,
  operatorCluster,
  policyYaml,
  status,
  waitForPhase,
  workloadYaml,
} from '../../e2e/support.js';

type CheckReading = { status: string; error?: string };
type Condition = { type: string; status: string; reason: string; message: string };

const METADATA = 'http://169.254.169.254/latest/meta-data';

/**
 * The one provider the operator may query, on 127.0.0.2 (loopback, so listed by address): a Prometheus
 * stand-in answering 0.01, and under /redirect a 302 to the cloud metadata endpoint.
 */
async function allowedProvider(): Promise<TestServer> {
  return startServer(
    (req, res) => {
      if (req.url.pathname.startsWith('/redirect')) {
        res.writeHead(302, { location: METADATA }).end();
        return;
      }
      json(res, 200, {
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, '0.01'] }] },
      });
    },
    createServer(),
    '127.0.0.2',
  );
}

const readingOf = async (
  cluster: ReturnType<typeof operatorCluster>,
  ns: string,
  name: string,
): Promise<CheckReading | undefined> =>
  ((await status(cluster.sandbox, ns, name)).checks as Record<string, CheckReading> | undefined)?.errors;

describe.runIf(prometheusTestsEnabled())('rows 28 and 39: provider addresses through kubestead run', () => {
  const cluster = operatorCluster();

  it('kubestead run --allowed-hosts refuses link-local, loopback, the API server, a redirect and a name resolving to loopback before connecting; another rollout advances', async () => {
    const { sandbox } = cluster;
    const ns = 'ssrf';
    const ok = await allowedProvider();
    // An internal service on loopback the operator must never reach: by address, or by a listed name.
    const internal = await startServer((_req, res) => json(res, 200, {}));
    const okUrl = ok.url;
    const refused: Record<string, [string, RegExp]> = {
      metadata: [
        'http://169.254.169.254/latest',
        /: address refused: 169\.254\.169\.254 is not in the operator's allowedHosts/,
      ],
      apiserver: [
        sandbox.url,
        new RegExp(`: address refused: ${new URL(sandbox.url).host} is not in the operator's allowedHosts`),
      ],
      loopback: [
        internal.url,
        new RegExp(`: address refused: 127\\.0\\.0\\.1:${internal.port} is not in the operator's allowedHosts`),
      ],
      rebind: [
        `http://localhost:${internal.port}`,
        /: address refused: localhost resolves to (127\.0\.0\.1|::1), a loopback, unspecified or multicast address not explicitly allowed/,
      ],
      redirect: [
        `${okUrl}/redirect`,
        new RegExp(`: HTTP 302 redirect to ${METADATA} refused: redirects are not followed`),
      ],
    };
    try {
      for (const [name, address] of [['healthy', okUrl], ...Object.entries(refused).map(([n, [a]]) => [n, a])]) {
        await apply(sandbox, workloadYaml(ns, name!, `example/${name}:1`, 2));
        await apply(
          sandbox,
          policyYaml(ns, name!, address!, '  onMetricUnavailable: pause\n').replace(/soak: 3s/g, 'soak: 1s'),
        );
      }
      await cluster.operator(ns, ['--allowed-hosts', `127.0.0.2:${ok.port},localhost:${internal.port}`]);
      for (const name of ['healthy', ...Object.keys(refused)]) {
        await waitForPhase(sandbox, ns, name, 'Idle', 30_000);
        await kubectl(sandbox, 'set', 'image', `deployment/${name}`, `app=example/${name}:2`, '-n', ns);
      }
      for (const [name, [, error]] of Object.entries(refused)) {
        const reading = await waitFor(
          async () => {
            const r = await readingOf(cluster, ns, name);
            return r?.error ? r : undefined;
          },
          20_000,
          `the refusal in ${name}'s status`,
        );
        expect(reading.status, name).toBe('unavailable');
        expect(reading.error, name).toMatch(error);
        expect((await status(sandbox, ns, name)).phase, name).toBe('Paused');
      }
      await waitForPhase(sandbox, ns, 'healthy', 'Succeeded', 30_000);
      // Nothing left the operator towards a refused address: the internal service and the API server
      // got no query, the allowed provider no request but the healthy policy's and the redirect.
      expect(internal.requests).toEqual([]);
      expect(sandbox.requests.list({ path: /\/api\/v1\/query/ })).toEqual([]);
      expect(new Set(ok.requests.map((r) => r.url.pathname))).toEqual(
        new Set(['/api/v1/query', '/redirect/api/v1/query']),
      );
      const events = await eventsAbout(sandbox, ns, 'RolloutPolicy', 'rebind');
      expect(events.join('\n')).toMatch(/address refused: localhost resolves to/);
    } finally {
      await ok.close();
      await internal.close();
    }
  }, 90_000);

  it('a provider URL with a password is refused at validation; the password is found in no status, Event, log or CLI output', async () => {
    const { sandbox } = cluster;
    const ns = 'credentials';
    const ok = await allowedProvider();
    const password = mintSecret('url-password');
    const withCredentials = ok.url.replace('http://', `http://kubestead:${password}@`);
    try {
      await apply(sandbox, workloadYaml(ns, 'checkout', 'example/checkout:1', 2));
      const policy = policyYaml(ns, 'checkout', withCredentials);
      await apply(sandbox, policy);
      const proc = await cluster.operator(ns, ['--allowed-hosts', `127.0.0.2:${ok.port}`, '--log-level', 'debug']);
      const ready = await waitFor(
        async () =>
          ((await status(sandbox, ns, 'checkout')).conditions as Condition[] | undefined)?.find(
            (c) => c.type === 'Ready' && c.status === 'False',
          ),
        30_000,
        'Ready=False on the policy with credentials in a URL',
      );
      expect(ready.reason).toBe('InvalidPolicy');
      expect(ready.message).toMatch(/spec\.providers\.prom\.prometheus\.address: a URL may not carry credentials/);

      const dir = await mkdtemp(join(tmpdir(), 'kubestead-creds-'));
      await writeFile(join(dir, 'policy.yaml'), policy);
      const validated = await kubestead(['validate', join(dir, 'policy.yaml')]);
      expect(validated.code).toBe(2);
      expect(validated.stdout + validated.stderr).toMatch(/may not carry credentials/);

      expect(ok.requests, 'no query with the credentials').toEqual([]);
      const written = [
        JSON.stringify(await status(sandbox, ns, 'checkout')),
        (await eventsAbout(sandbox, ns, 'RolloutPolicy', 'checkout')).join('\n'),
        proc.raw.join('\n'),
        validated.stdout,
        validated.stderr,
      ].join('\n');
      expect(written).toContain('may not carry credentials');
      expect(written).not.toContain(password);
      // The one place the password stays is the policy the test wrote (its spec and kubectl's last-applied
      // annotation): removed, so that the end-of-suite scan of every object left looks at what the product wrote.
      await kubectl(sandbox, 'delete', 'rolloutpolicy', 'checkout', '-n', ns);
    } finally {
      await ok.close();
    }
  }, 60_000);
});
