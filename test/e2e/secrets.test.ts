import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '@kubestead/sandbox';
import type { OperatorProcess } from '../controller/process.js';
import { prometheusTestsEnabled } from '../metrics/prometheus-harness.js';
import {
  apply,
  deploymentPath,
  eventsAbout,
  getObject,
  kubectl,
  operatorCluster,
  policyPath,
  policyYaml,
  waitForPhase,
  workloadYaml,
} from './support.js';
import { mintSecret } from '../support/secrets.js';

/** The planted values: each must reach the copies and the pods' Secrets, and nothing the run writes. */
const VALUES = { old: mintSecret('token-old'), new: mintSecret('token-new'), bad: mintSecret('token-bad') };
const b64 = (value: string): string => Buffer.from(value).toString('base64');

/** checkout reading the Secret `checkout-token` through a volume and env.valueFrom.secretKeyRef. */
function secretWorkload(ns: string, value: string): string {
  const container = 'containers: [{name: app, image: "example/checkout:1", ports: [{containerPort: 8080}]}]';
  const workload = workloadYaml(ns, 'checkout', 'example/checkout:1').replace(
    container,
    `volumes: [{name: token, secret: {secretName: checkout-token}}]
      containers:
        - name: app
          image: "example/checkout:1"
          ports: [{containerPort: 8080}]
          env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: checkout-token, key: token}}}]`,
  );
  expect(workload).not.toBe(workloadYaml(ns, 'checkout', 'example/checkout:1'));
  return `${workload}---
apiVersion: v1
kind: Secret
metadata: {name: checkout-token, namespace: ${ns}}
type: Opaque
data: {token: ${b64(value)}}
`;
}

async function tokenOf(sandbox: Sandbox, ns: string, name: string): Promise<string> {
  const secret = await getObject(sandbox, `/api/v1/namespaces/${ns}/secrets/${name}`);
  return Buffer.from(String(secret.data.token), 'base64').toString();
}

/** Everything a run wrote that people or other systems read: its log, Events, status, audit (chain and file). */
async function written(sandbox: Sandbox, ns: string, proc: OperatorProcess, auditFile: string): Promise<string> {
  const parts = [
    proc.raw.join('\n'),
    JSON.stringify(await getObject(sandbox, `/api/v1/namespaces/${ns}/events`)),
    JSON.stringify(await getObject(sandbox, `/apis/events.k8s.io/v1/namespaces/${ns}/events`)),
    JSON.stringify(await getObject(sandbox, policyPath(ns, 'checkout'))),
    JSON.stringify(await getObject(sandbox, `/api/v1/namespaces/${ns}/configmaps`)),
    await readFile(auditFile, 'utf8'),
  ];
  return parts.join('\n');
}

/** No planted value, as written or base64 as the API holds it, in what the run wrote; and the scan saw the run. */
function expectNoValues(text: string): void {
  expect(text).toMatch(/"action":"(promote|rollback)"/);
  for (const value of Object.values(VALUES)) {
    expect(text).not.toContain(value);
    expect(text).not.toContain(b64(value));
  }
}

describe.runIf(prometheusTestsEnabled())(
  'Secret changes canaried in the sandbox (configTracking: {secrets: true}), with kubestead run',
  () => {
    const cluster = operatorCluster();

    async function adopted(ns: string): Promise<{ stable: string; proc: OperatorProcess; auditFile: string }> {
      const { sandbox, prom } = cluster;
      await apply(sandbox, secretWorkload(ns, VALUES.old));
      const auditFile = join(await mkdtemp(join(tmpdir(), 'kubestead-secrets-')), 'audit.jsonl');
      const proc = await cluster.operator(ns, ['--log-level', 'debug', '--audit-file', auditFile]);
      await apply(sandbox, policyYaml(ns, 'checkout', prom.url, '  configTracking: {secrets: true}\n'));
      const idle = await waitForPhase(sandbox, ns, 'checkout', 'Idle', 30_000);
      const copy = await getObject(sandbox, `/api/v1/namespaces/${ns}/secrets/checkout-token-primary`);
      expect(copy.metadata.labels).toMatchObject({ 'kubestead.io/copy-of': 'checkout-token' });
      expect(copy.type).toBe('Opaque');
      expect(await tokenOf(sandbox, ns, 'checkout-token-primary')).toBe(VALUES.old);
      const spec = (await getObject(sandbox, deploymentPath(ns, 'checkout-primary'))).spec.template.spec;
      expect(spec.volumes[0].secret.secretName).toBe('checkout-token-primary');
      expect(spec.containers[0].env[0].valueFrom.secretKeyRef.name).toBe('checkout-token-primary');
      return { stable: idle.stableRevision as string, proc, auditFile };
    }

    const edit = (ns: string, value: string) =>
      kubectl(
        cluster.sandbox,
        'patch',
        'secret',
        'checkout-token',
        '-n',
        ns,
        '-p',
        `{"data":{"token":"${b64(value)}"}}`,
      );

    it("a Secret edit is canaried, then promoted: primary's copy old during the canary, new after", async () => {
      const { sandbox } = cluster;
      const { stable, proc, auditFile } = await adopted('secret-edited');
      await edit('secret-edited', VALUES.new);
      const progressing = await waitForPhase(sandbox, 'secret-edited', 'checkout', 'Progressing', 30_000);
      expect(progressing.canaryRevision).not.toBe(stable);
      expect(await tokenOf(sandbox, 'secret-edited', 'checkout-token-primary')).toBe(VALUES.old);
      const done = await waitForPhase(sandbox, 'secret-edited', 'checkout', 'Succeeded', 60_000);
      expect(done.stableRevision).toBe(progressing.canaryRevision);
      expect(await tokenOf(sandbox, 'secret-edited', 'checkout-token-primary')).toBe(VALUES.new);
      const events = await eventsAbout(sandbox, 'secret-edited', 'RolloutPolicy', 'checkout');
      expect(events.some((e) => e.includes('config changed: Secret checkout-token;'))).toBe(true);
      expectNoValues(await written(sandbox, 'secret-edited', proc, auditFile));
    }, 150_000);

    it("a breaching Secret change is rolled back, and primary's copy keeps the old data", async () => {
      const { sandbox, prom } = cluster;
      const { proc, auditFile } = await adopted('secret-breached');
      await edit('secret-breached', VALUES.bad);
      await waitForPhase(sandbox, 'secret-breached', 'checkout', 'Progressing', 30_000);
      prom.exporter.canaryErrors = 40;
      try {
        const rolledBack = await waitForPhase(sandbox, 'secret-breached', 'checkout', 'RolledBack', 60_000);
        expect(rolledBack.lastDecision).toMatchObject({ action: 'rollback' });
        expect(await tokenOf(sandbox, 'secret-breached', 'checkout-token-primary')).toBe(VALUES.old);
        expect(await tokenOf(sandbox, 'secret-breached', 'checkout-token')).toBe(VALUES.bad);
      } finally {
        prom.exporter.canaryErrors = 1;
      }
      expectNoValues(await written(sandbox, 'secret-breached', proc, auditFile));
    }, 150_000);
  },
);
