import { describe, expect, it } from 'vitest';
import { json, startServer, type TestServer } from '../../metrics/helpers.js';
import { prometheusTestsEnabled } from '../../metrics/prometheus-harness.js';
import { expectInvariantI, verifiedChain, type ChainOwner } from '../../support/invariant.js';
import { raw } from '../../support/sandbox.js';
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

describe.runIf(prometheusTestsEnabled())('row 29: a provider Secret rotated, mistyped, deleted', () => {
  const cluster = operatorCluster();

  it('kubestead run queries with the rotated token; a mistyped or deleted Secret is a check error naming the Secret and key, never a value', async () => {
    const { sandbox } = cluster;
    const ns = 'secret-rotation';
    const [v1, v2, v3] = [mintSecret('prom-token-v1'), mintSecret('prom-token-v2'), mintSecret('prom-token-v3')];
    // A Prometheus stand-in that keeps the bearer token of every query.
    const server: TestServer = await startServer((_req, res) =>
      json(res, 200, {
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, '0.01'] }] },
      }),
    );
    const tokens = (): string[] => server.requests.map((r) => r.headers.authorization ?? '');
    const secret = (method: 'POST' | 'PUT' | 'DELETE', data: Record<string, string> = {}) =>
      raw(sandbox, method, `/api/v1/namespaces/${ns}/secrets${method === 'POST' ? '' : '/prom-token'}`, {
        contentType: 'application/json',
        ...(method === 'DELETE'
          ? {}
          : {
              body: JSON.stringify({
                apiVersion: 'v1',
                kind: 'Secret',
                metadata: { name: 'prom-token', namespace: ns },
                data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
              }),
            }),
      });
    const checkError = (pattern: string) =>
      waitFor(
        async () => {
          const reading = ((await status(sandbox, ns, 'checkout')).checks as Record<string, CheckReading> | undefined)
            ?.errors;
          return reading?.error?.includes(pattern) ? reading : undefined;
        },
        20_000,
        `status.checks.errors.error with ${pattern}`,
      );
    try {
      await apply(sandbox, workloadYaml(ns, 'checkout', 'example/checkout:1'));
      expect((await secret('POST', { token: v1 })).status).toBe(201);
      const policy = policyYaml(ns, 'checkout', server.url, '  onMetricUnavailable: pause\n')
        .replace(/soak: 3s/g, 'soak: 10m')
        .replace(
          `address: "${server.url}"}`,
          `address: "${server.url}", bearerTokenSecretRef: {name: prom-token, key: token}}`,
        );
      await apply(sandbox, policy);
      const proc = await cluster.operator(ns, ['--secret-ttl', '1s', '--log-level', 'debug']);
      await waitForPhase(sandbox, ns, 'checkout', 'Idle', 30_000);
      await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', ns);
      await waitFor(() => tokens().includes(`Bearer ${v1}`), 20_000, 'a query with the first token');

      // Rotated: the new value is used within --secret-ttl, and the old one never again.
      expect((await secret('PUT', { token: v2 })).status).toBe(200);
      await waitFor(() => tokens().includes(`Bearer ${v2}`), 20_000, 'a query with the rotated token');
      const rotated = tokens().indexOf(`Bearer ${v2}`);

      // Mistyped (the key misspelt) after first use, then deleted: the check is unavailable, named.
      expect((await secret('PUT', { tokne: v2 })).status).toBe(200);
      const mistyped = await checkError(`secret ${ns}/prom-token key "token": no such key in the Secret`);
      expect(mistyped.status).toBe('unavailable');
      expect((await secret('DELETE')).status).toBe(200);
      const deleted = await checkError(`secret ${ns}/prom-token key "token": Secret not found`);
      expect(deleted.status).toBe('unavailable');
      expect(
        tokens()
          .slice(rotated)
          .every((t) => t === `Bearer ${v2}`),
      ).toBe(true);

      // Back: the rollout goes on with the new value.
      expect((await secret('POST', { token: v3 })).status).toBe(201);
      await waitFor(() => tokens().includes(`Bearer ${v3}`), 20_000, 'a query with the restored token');
      await waitForPhase(sandbox, ns, 'checkout', 'Progressing', 20_000);

      // No value anywhere the product wrote: status, Events, the chain, the (debug) log.
      const head = (await status(sandbox, ns, 'checkout')).audit as ChainOwner['head'];
      const entries = await verifiedChain({
        kubeconfigPath: sandbox.kubeconfigPath,
        namespace: ns,
        name: 'checkout',
        head,
      });
      expectInvariantI(entries, { cluster: { sandbox, namespace: ns } });
      const written = [
        JSON.stringify(await status(sandbox, ns, 'checkout')),
        (await eventsAbout(sandbox, ns, 'RolloutPolicy', 'checkout')).join('\n'),
        JSON.stringify(entries),
        proc.raw.join('\n'),
      ].join('\n');
      expect(written).toContain(`prom-token key "token"`);
      for (const value of [v1, v2, v3]) expect(written).not.toContain(value);
    } finally {
      await server.close();
    }
  }, 90_000);
});
