import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import type { Sandbox } from '@kubestead/sandbox';
import { OperatorProcess } from '../controller/process.js';
import { ROOT } from '../helpers.js';
import { startPrometheus, type PrometheusHarness } from '../metrics/prometheus-harness.js';
import { raw, testSandbox, type Body } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

const exec = promisify(execFile);

/** The real kubectl against the sandbox. */
export async function kubectl(sandbox: Sandbox, ...args: string[]): Promise<string> {
  const { stdout } = await exec('kubectl', args, {
    env: { ...process.env, KUBECONFIG: sandbox.kubeconfigPath },
    cwd: ROOT,
  });
  return stdout;
}

/** Writes YAML to a temporary file and `kubectl apply`s it. */
export async function apply(sandbox: Sandbox, yaml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kubestead-e2e-'));
  const file = join(dir, 'manifest.yaml');
  await writeFile(file, yaml);
  return kubectl(sandbox, 'apply', '-f', file);
}

export const CRD_FILE = resolve(ROOT, 'crds/rolloutpolicies.kubestead.io.yaml');

export function workloadYaml(namespace: string, name: string, image: string, replicas = 4): string {
  return `apiVersion: v1
kind: Namespace
metadata: {name: ${namespace}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}, labels: {app: ${name}}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: app, image: "${image}", ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  selector: {app: ${name}}
  ports: [{port: 80, targetPort: 8080}]
`;
}

export function policyYaml(namespace: string, name: string, prometheus: string, extra = ''): string {
  return `apiVersion: kubestead.io/v1alpha1
kind: RolloutPolicy
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  targetRef: {kind: Deployment, name: ${name}}
  interval: 1s
  steps:
    - {weight: 25, soak: 3s}
    - {weight: 50, soak: 3s}
  providers:
    prom: {prometheus: {address: "${prometheus}"}}
  checks:
    - name: errors
      provider: prom
      query: 'sum(rate(http_requests_total{app="checkout",track="canary",code="500"}[5s])) / sum(rate(http_requests_total{app="checkout",track="canary"}[5s]))'
      max: 0.2
${extra}`;
}

export async function getObject(sandbox: Sandbox, path: string): Promise<Body> {
  const res = await raw(sandbox, 'GET', path);
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
  return res.body;
}

export const policyPath = (ns: string, name: string): string =>
  `/apis/kubestead.io/v1alpha1/namespaces/${ns}/rolloutpolicies/${name}`;
export const deploymentPath = (ns: string, name: string): string =>
  `/apis/apps/v1/namespaces/${ns}/deployments/${name}`;

export async function status(sandbox: Sandbox, ns: string, name: string): Promise<Body> {
  return (await getObject(sandbox, policyPath(ns, name))).status ?? {};
}

export async function waitForPhase(
  sandbox: Sandbox,
  ns: string,
  name: string,
  phase: string,
  timeoutMs = 60_000,
): Promise<Body> {
  return waitFor(
    async () => {
      const s: Record<string, unknown> = await status(sandbox, ns, name);
      return s.phase === phase ? s : undefined;
    },
    timeoutMs,
    `phase ${phase} of ${ns}/${name}`,
  );
}

export const imageOf = (deployment: Body): string => deployment.spec.template.spec.containers[0].image as string;

/** Events of the namespace about an object, oldest first: `Reason: message`. */
export async function eventsAbout(sandbox: Sandbox, ns: string, kind: string, name: string): Promise<string[]> {
  const list = await getObject(sandbox, `/api/v1/namespaces/${ns}/events`);
  return (list.items as Body[])
    .filter((e) => e.involvedObject?.kind === kind && e.involvedObject?.name === name)
    .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
    .map((e) => `${e.reason as string}: ${e.message as string}`);
}

/**
 * The sandbox (CRD applied) and the real Prometheus for one test file, with `kubestead run`
 * processes it starts and kills at the end (SIGKILL).
 */
export function operatorCluster(): {
  readonly sandbox: Sandbox;
  readonly prom: PrometheusHarness;
  /** `crashAt`: `POINT[:NTH]`, the process exits 137 at that tick boundary (test/support/crashing-run.mjs). */
  operator(namespace: string, extra?: string[], crashAt?: string): Promise<OperatorProcess>;
  closeProcesses(): Promise<void>;
} {
  let sandbox: Sandbox | undefined;
  let prom: PrometheusHarness | undefined;
  const processes: OperatorProcess[] = [];
  const closeProcesses = async (): Promise<void> => {
    for (const p of processes.splice(0)) await p.close();
  };
  beforeAll(async () => {
    [sandbox, prom] = await Promise.all([testSandbox(), startPrometheus()]);
    await kubectl(sandbox, 'apply', '-f', CRD_FILE);
  });
  afterAll(async () => {
    await closeProcesses();
    await prom?.stop();
    await sandbox?.close();
  });
  return {
    get sandbox() {
      if (!sandbox) throw new Error('used outside its tests');
      return sandbox;
    },
    get prom() {
      if (!prom) throw new Error('used outside its tests');
      return prom;
    },
    async operator(namespace, extra = [], crashAt) {
      const proc = await OperatorProcess.start(sandbox!, ['-n', namespace, ...extra], {}, crashAt);
      processes.push(proc);
      return proc;
    },
    closeProcesses,
  };
}
