import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prometheusTestsEnabled } from '../metrics/prometheus-harness.js';
import { ROOT } from '../helpers.js';
import { waitFor } from '../support/wait.js';
import {
  apply,
  deploymentPath,
  eventsAbout,
  getObject,
  imageOf,
  kubectl,
  operatorCluster,
  policyYaml,
  status,
  waitForPhase,
  workloadYaml,
} from './support.js';

/** A deny window that is always open: one starts every minute and lasts ten. */
const ALWAYS_FROZEN = `  windows:\n    - deny: {schedule: "* * * * *", duration: 10m, timeZone: Europe/Berlin}\n`;

type Condition = { type: string; status: string; reason: string; message: string };
const frozenOf = (s: unknown): Condition | undefined =>
  (s as { conditions?: Condition[] }).conditions?.find((c) => c.type === 'Frozen');

describe.runIf(prometheusTestsEnabled())(
  'freeze windows in the sandbox, with kubestead run and real Prometheus',
  () => {
    const cluster = operatorCluster();

    function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
      return new Promise((done) => {
        execFile(
          process.execPath,
          [resolve(ROOT, 'bin/kubestead'), ...args],
          { env: { PATH: process.env.PATH ?? '', KUBECONFIG: cluster.sandbox.kubeconfigPath } },
          (error, stdout, stderr) =>
            done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
        );
      });
    }

    /** checkout adopted in its own namespace, with its own `kubestead run`; `windows` given or not. */
    async function adopted(ns: string, windows = ''): Promise<void> {
      const { sandbox, prom } = cluster;
      await apply(sandbox, workloadYaml(ns, 'checkout', 'example/checkout:1'));
      await cluster.operator(ns);
      await apply(sandbox, policyYaml(ns, 'checkout', prom.url, windows));
      await waitForPhase(sandbox, ns, 'checkout', 'Idle', 30_000);
    }

    /** A release started before the freeze, then the freeze applied and holding the canary at its first step. */
    async function frozenMidRelease(ns: string): Promise<void> {
      const { sandbox, prom } = cluster;
      await adopted(ns);
      // A soak long enough that the release cannot finish before the freeze is applied.
      const slow = policyYaml(ns, 'checkout', prom.url).replace('{weight: 25, soak: 3s}', '{weight: 25, soak: 20s}');
      await apply(sandbox, slow);
      await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', ns);
      await waitForPhase(sandbox, ns, 'checkout', 'Progressing', 30_000);
      // The freeze and a soak of 1s together: from the tick that sees them, the window alone holds step 1/2
      // (status keeps no hold, so the Frozen condition tells that tick; the decisions below name the window).
      await apply(sandbox, `${slow.replace('soak: 20s', 'soak: 1s')}${ALWAYS_FROZEN}`);
      const held = await waitFor(
        async () => {
          const s = (await status(sandbox, ns, 'checkout')) as Record<string, unknown>;
          return frozenOf(s)?.reason === 'Window' ? s : undefined;
        },
        30_000,
        'the window to freeze the release',
      );
      expect(held).toMatchObject({ phase: 'Progressing', currentStep: 0, canaryWeight: 25 });
      expect(frozenOf(held)?.status).toBe('True');
    }

    it('a template change inside a deny window starts no canary until the window is lifted', async () => {
      const { sandbox, prom } = cluster;
      await adopted('held', ALWAYS_FROZEN);
      expect(frozenOf(await status(sandbox, 'held', 'checkout'))).toMatchObject({ status: 'True', reason: 'Window' });
      await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', 'held');
      const held = await waitFor(
        async () => {
          const s = (await status(sandbox, 'held', 'checkout')) as Record<string, unknown>;
          return frozenOf(s)?.reason === 'StartHeld' ? s : undefined;
        },
        30_000,
        'the start to be held',
      );
      expect(frozenOf(held)?.message).toMatch(
        /^new template \(revision \S+\) waits: frozen inside the deny window "\* \* \* \* \*" \(Europe\/Berlin, 10m\); opens at /,
      );
      expect(held.phase).toBe('Idle');
      expect((await getObject(sandbox, deploymentPath('held', 'checkout'))).spec.replicas).toBe(0);
      const shown = await cli('status', 'checkout', '-n', 'held');
      expect(shown.stdout).toContain('waits: frozen inside the deny window');
      const events = await eventsAbout(sandbox, 'held', 'RolloutPolicy', 'checkout');
      expect(events.filter((e) => e.includes('waits: frozen'))).toHaveLength(1);
      expect(events.some((e) => /canary starts/.test(e))).toBe(false);

      await apply(sandbox, policyYaml('held', 'checkout', prom.url)); // the window lifted
      const done = await waitForPhase(sandbox, 'held', 'checkout', 'Succeeded', 60_000);
      expect(frozenOf(done)).toBeUndefined();
      const after = await eventsAbout(sandbox, 'held', 'RolloutPolicy', 'checkout');
      expect(after.filter((e) => /canary starts at step 1\/2/.test(e))).toHaveLength(1);
      expect(imageOf(await getObject(sandbox, deploymentPath('held', 'checkout-primary')))).toBe('example/checkout:2');
    }, 150_000);

    it('kubestead promote during a freeze promotes, and the audit log records who', async () => {
      const { sandbox } = cluster;
      await frozenMidRelease('promoted');
      const promoted = await cli('promote', 'checkout', '-n', 'promoted');
      expect(promoted.code).toBe(0);
      const done = await waitForPhase(sandbox, 'promoted', 'checkout', 'Succeeded', 60_000);
      expect(done.lastOverride).toMatchObject({ action: 'promote' });
      const actor = (done.lastOverride as { actor: string }).actor;
      expect(actor).toBeTruthy();
      expect(imageOf(await getObject(sandbox, deploymentPath('promoted', 'checkout-primary')))).toBe(
        'example/checkout:2',
      );
      const exported = await cli('audit', 'export', 'checkout', '-n', 'promoted');
      const entries = exported.stdout
        .trim()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as {
              kind?: string;
              actor?: string | null;
              decision: { action: string; reasons: { rule: string }[] };
            },
        );
      const decision = entries.find((e) => e.decision.action === 'promote');
      // Every reason that applied is listed: the person's promote first, the freeze it went past after it.
      const rules = decision?.decision.reasons.map((r) => r.rule);
      expect(rules?.[0]).toBe('override-promote');
      expect(rules).toContain('window');
      expect(entries.some((e) => e.actor === actor)).toBe(true);
    }, 150_000);

    it('a breach during a freeze rolls back', async () => {
      const { sandbox, prom } = cluster;
      await frozenMidRelease('breach');
      prom.exporter.canaryErrors = 40;
      try {
        const rolledBack = await waitForPhase(sandbox, 'breach', 'checkout', 'RolledBack', 60_000);
        expect(rolledBack.lastDecision).toMatchObject({ action: 'rollback' });
        const rules = (rolledBack.lastDecision as { reasons: { rule: string }[] }).reasons.map((r) => r.rule);
        expect(rules[0]).toBe('check-breach');
        expect(rules).toContain('window');
        expect(imageOf(await getObject(sandbox, deploymentPath('breach', 'checkout-primary')))).toBe(
          'example/checkout:1',
        );
      } finally {
        prom.exporter.canaryErrors = 1;
      }
    }, 150_000);
  },
);
