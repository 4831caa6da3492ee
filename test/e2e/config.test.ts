import { describe, expect, it } from 'vitest';
import type { Sandbox } from '@kubestead/sandbox';
import { prometheusTestsEnabled } from '../metrics/prometheus-harness.js';
import {
  apply,
  deploymentPath,
  eventsAbout,
  getObject,
  kubectl,
  operatorCluster,
  policyYaml,
  status,
  waitForPhase,
  workloadYaml,
} from './support.js';

/** checkout reading the ConfigMap `checkout-settings` through a volume and envFrom. */
function configuredWorkload(ns: string, mode: string): string {
  const container = 'containers: [{name: app, image: "example/checkout:1", ports: [{containerPort: 8080}]}]';
  const workload = workloadYaml(ns, 'checkout', 'example/checkout:1').replace(
    container,
    `volumes: [{name: settings, configMap: {name: checkout-settings}}]
      containers:
        - name: app
          image: "example/checkout:1"
          ports: [{containerPort: 8080}]
          envFrom: [{configMapRef: {name: checkout-settings}}]`,
  );
  expect(workload).not.toBe(workloadYaml(ns, 'checkout', 'example/checkout:1'));
  return `${workload}---
apiVersion: v1
kind: ConfigMap
metadata: {name: checkout-settings, namespace: ${ns}}
data: {mode: ${mode}}
`;
}

const dataOf = async (sandbox: Sandbox, ns: string, name: string): Promise<unknown> =>
  (await getObject(sandbox, `/api/v1/namespaces/${ns}/configmaps/${name}`)).data;

describe.runIf(prometheusTestsEnabled())(
  'config changes canaried in the sandbox, with kubestead run and real Prometheus',
  () => {
    const cluster = operatorCluster();

    async function adopted(ns: string): Promise<string> {
      const { sandbox, prom } = cluster;
      await apply(sandbox, configuredWorkload(ns, 'old'));
      await cluster.operator(ns);
      await apply(sandbox, policyYaml(ns, 'checkout', prom.url));
      const idle = await waitForPhase(sandbox, ns, 'checkout', 'Idle', 30_000);
      expect(await dataOf(sandbox, ns, 'checkout-settings-primary')).toEqual({ mode: 'old' });
      const primary = await getObject(sandbox, deploymentPath(ns, 'checkout-primary'));
      expect(primary.spec.template.spec.volumes[0].configMap.name).toBe('checkout-settings-primary');
      return idle.stableRevision as string;
    }

    const edit = (ns: string, mode: string) =>
      kubectl(
        cluster.sandbox,
        'patch',
        'configmap',
        'checkout-settings',
        '-n',
        ns,
        '-p',
        `{"data":{"mode":"${mode}"}}`,
      );

    it("a ConfigMap edit is canaried, then promoted: primary's copy old during the canary, new after", async () => {
      const { sandbox } = cluster;
      const stable = await adopted('edited');
      await edit('edited', 'new');
      const progressing = await waitForPhase(sandbox, 'edited', 'checkout', 'Progressing', 30_000);
      expect(progressing.canaryRevision).not.toBe(stable);
      expect(await dataOf(sandbox, 'edited', 'checkout-settings-primary')).toEqual({ mode: 'old' });
      const done = await waitForPhase(sandbox, 'edited', 'checkout', 'Succeeded', 60_000);
      expect(done.stableRevision).toBe(progressing.canaryRevision);
      expect(await dataOf(sandbox, 'edited', 'checkout-settings-primary')).toEqual({ mode: 'new' });
      const events = await eventsAbout(sandbox, 'edited', 'RolloutPolicy', 'checkout');
      expect(events.filter((e) => /canary starts at step 1\/2/.test(e))).toHaveLength(1);
    }, 150_000);

    it("a breaching config change is rolled back, and primary's copy keeps the old data", async () => {
      const { sandbox, prom } = cluster;
      await adopted('breached');
      await edit('breached', 'bad');
      await waitForPhase(sandbox, 'breached', 'checkout', 'Progressing', 30_000);
      prom.exporter.canaryErrors = 40;
      try {
        const rolledBack = await waitForPhase(sandbox, 'breached', 'checkout', 'RolledBack', 60_000);
        expect(rolledBack.lastDecision).toMatchObject({ action: 'rollback' });
        expect(await dataOf(sandbox, 'breached', 'checkout-settings-primary')).toEqual({ mode: 'old' });
        expect(await dataOf(sandbox, 'breached', 'checkout-settings')).toEqual({ mode: 'bad' });
        expect((await status(sandbox, 'breached', 'checkout')).phase).toBe('RolledBack');
      } finally {
        prom.exporter.canaryErrors = 1;
      }
    }, 150_000);
  },
);
