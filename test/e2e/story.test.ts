import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '@kubestead/sandbox';
import { prometheusTestsEnabled, startPrometheus, type PrometheusHarness } from '../metrics/prometheus-harness.js';
import { testSandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { OperatorProcess } from '../controller/process.js';
import {
  apply,
  CRD_FILE,
  deploymentPath,
  eventsAbout,
  getObject,
  imageOf,
  kubectl,
  policyYaml,
  waitForPhase,
  workloadYaml,
} from './support.js';

const enabled = prometheusTestsEnabled();
const TOKEN = 'kubestead-canary-token-7f3a9c';

/**
 * `kubectl logs` of the controller: each action of the two releases once, at info, with the
 * policy, step, reasons and the values that decided; no tick that changed nothing; no secret.
 */
function expectActionsLogged(operator: OperatorProcess): void {
  const actions = operator.lines.filter((l) => l.record !== undefined);
  expect(actions.every((l) => l.level === 30 && l.namespace === 'shop' && l.policy === 'checkout')).toBe(true);
  expect(actions.map((l) => l.action)).toEqual([
    'adopted',
    'canary-started',
    'advance',
    'promote',
    'succeeded', // the good release
    'canary-started',
    'rollback',
    'rollback', // the bad one: its first breach, then the rollback decision
  ]);
  expect(actions.map((l) => l.record)).toEqual([
    'event',
    'event',
    'decision',
    'decision',
    'event',
    'event',
    'breach',
    'decision',
  ]);
  const advance = actions.find((l) => l.action === 'advance')!;
  expect(advance).toMatchObject({
    step: '1/2',
    reasons: ['advance'],
    values: { errors: { status: 'ok', max: 0.2, min: null } },
  });
  expect((advance.values as Record<string, { value: number }>).errors!.value).toBeLessThanOrEqual(0.2);
  expect(advance.msg).toMatch(
    /^advanced to step 2\/2 \(weight 50%\): step 1\/2 soaked [\d.]+s of 3s with every check in bounds$/,
  );
  const rollback = actions[actions.length - 1]!;
  expect(rollback).toMatchObject({
    step: '1/2',
    reasons: expect.arrayContaining(['check-breach [errors]']) as unknown,
  });
  const errors = (rollback.values as Record<string, { value: number; max: number; status: string }>).errors!;
  expect(errors).toMatchObject({ status: 'ok', max: 0.2 });
  expect(errors.value).toBeGreaterThan(0.2);
  expect(rollback.msg).toContain(`rolled back: errors = ${Number(errors.value.toPrecision(6))} is above max 0.2`);
  expect(operator.raw.join('\n')).not.toContain(TOKEN);
}

/** The canary's error ratio as Prometheus answers it now. */
async function canaryErrorRatio(prom: PrometheusHarness): Promise<number> {
  const query = encodeURIComponent(
    'sum(rate(http_requests_total{app="checkout",track="canary",code="500"}[5s])) / sum(rate(http_requests_total{app="checkout",track="canary"}[5s]))',
  );
  const body = (await (await fetch(`${prom.url}/api/v1/query?query=${query}`)).json()) as {
    data: { result: Array<{ value: [number, string] }> };
  };
  return Number(body.data.result[0]?.value[1]);
}

describe.runIf(enabled)('the story as a user types it: sandbox, kubectl, kubestead run, real Prometheus', () => {
  let sandbox: Sandbox;
  let prom: PrometheusHarness;
  let operator: OperatorProcess | undefined;

  beforeAll(async () => {
    [sandbox, prom] = await Promise.all([testSandbox(), startPrometheus()]);
  });
  afterAll(async () => {
    await operator?.close();
    await prom?.stop();
    await sandbox?.close();
  });

  it('a good release walks every step to Succeeded; with the canary failing, the next release rolls back', async () => {
    expect(await kubectl(sandbox, 'apply', '-f', CRD_FILE)).toContain('rolloutpolicies.kubestead.io created');
    await apply(sandbox, workloadYaml('shop', 'checkout', 'example/checkout:1'));
    // The provider reads a bearer token from a Secret (Prometheus ignores it): the log must never show it.
    await apply(
      sandbox,
      `apiVersion: v1\nkind: Secret\nmetadata: {name: prom-auth, namespace: shop}\nstringData: {token: ${TOKEN}}\n`,
    );
    operator = await OperatorProcess.start(sandbox, ['-n', 'shop']);
    await apply(
      sandbox,
      policyYaml('shop', 'checkout', prom.url).replace(
        `address: "${prom.url}"`,
        `address: "${prom.url}", bearerTokenSecretRef: {name: prom-auth, key: token}`,
      ),
    );
    const idle = await waitForPhase(sandbox, 'shop', 'checkout', 'Idle', 30_000);
    expect(idle.stableRevision).toBeTruthy();
    const primary = await getObject(sandbox, deploymentPath('shop', 'checkout-primary'));
    expect(imageOf(primary)).toBe('example/checkout:1');

    // a good release
    await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', 'shop');
    const weights = new Set<number>();
    const succeeded = await waitFor(
      async () => {
        const s = (await getObject(sandbox, '/apis/kubestead.io/v1alpha1/namespaces/shop/rolloutpolicies/checkout'))
          .status as Record<string, unknown> | undefined;
        if (s?.phase === 'Progressing') weights.add(Number(s.canaryWeight));
        return s?.phase === 'Succeeded' ? s : undefined;
      },
      90_000,
      'the release to succeed',
    );
    expect((succeeded.lastDecision as { action?: string }).action).toBe('promote');
    expect([...weights].sort((a, b) => a - b)).toEqual([25, 50]);
    expect(imageOf(await getObject(sandbox, deploymentPath('shop', 'checkout-primary')))).toBe('example/checkout:2');
    expect((await getObject(sandbox, deploymentPath('shop', 'checkout'))).spec.replicas).toBe(0);
    const good = await eventsAbout(sandbox, 'shop', 'RolloutPolicy', 'checkout');
    expect(good.filter((e) => e.startsWith('Advanced'))).toHaveLength(1);
    expect(good.some((e) => e.startsWith('Promoted'))).toBe(true);

    // the canary's error rate goes up in the exporter Prometheus scrapes; the next release rolls back
    prom.exporter.canaryErrors = 40;
    await waitFor(async () => (await canaryErrorRatio(prom)) > 0.2, 30_000, 'the breach visible in Prometheus');
    await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:3', '-n', 'shop');
    const rolledBack = await waitForPhase(sandbox, 'shop', 'checkout', 'RolledBack', 60_000);
    expect(rolledBack.lastDecision?.action).toBe('rollback');
    expect(rolledBack.canaryWeight).toBe(0);
    expect((await getObject(sandbox, deploymentPath('shop', 'checkout'))).spec.replicas).toBe(0);
    expect(imageOf(await getObject(sandbox, deploymentPath('shop', 'checkout-primary')))).toBe('example/checkout:2');
    const bad = await eventsAbout(sandbox, 'shop', 'RolloutPolicy', 'checkout');
    expect(bad.find((e) => e.startsWith('RolledBack'))).toMatch(/errors = [\d.]+ is above max 0\.2/);
    const onDeployment = await eventsAbout(sandbox, 'shop', 'Deployment', 'checkout');
    expect(onDeployment.find((e) => e.startsWith('RolledBack'))).toMatch(/errors = [\d.]+ is above max 0\.2/);

    const metrics = await (
      await fetch(`http://127.0.0.1:${(operator as OperatorProcess & { metricsPort: number }).metricsPort}/metrics`)
    ).text();
    expect(metrics).toMatch(/kubestead_decisions_total\{action="rollback",mode="active"\} [1-9]/);
    expect(metrics).toMatch(/kubestead_decisions_total\{action="promote",mode="active"\} 1/);
    expect(metrics).toContain('kubestead_rollouts{phase="RolledBack"} 1');
    expect(metrics).toMatch(/kubestead_measurement_duration_seconds_count\{provider="prom",status="ok"\} [1-9]/);
    expect(metrics).toMatch(/kubestead_api_requests_total\{verb="patch",code="200"\} [1-9]/);
    operator.kill('SIGTERM');
    expect((await operator.exited).code).toBe(0);
    expectActionsLogged(operator);
  }, 240_000);
});
