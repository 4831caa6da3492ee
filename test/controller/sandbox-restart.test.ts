import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import type { Body } from '../support/sandbox.js';
import { SandboxProcess } from '../support/sandbox-process.js';
import { waitFor } from '../support/wait.js';
import { OperatorProcess } from './process.js';

const exec = promisify(execFile);

const WORKLOAD = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: "example/web:1", ports: [{containerPort: 8080}]}]
`;

/** A canary that stops at a pause step, so that the restart is certain to fall mid-rollout. */
const POLICY = `apiVersion: kubestead.io/v1alpha1
kind: RolloutPolicy
metadata: {name: web, namespace: shop}
spec:
  targetRef: {kind: Deployment, name: web}
  interval: 1s
  steps:
    - {weight: 25, soak: 1s}
    - {pause: {}}
    - {weight: 50, soak: 1s}
`;

let dir: string;
let kubeconfig: string;
const running: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubestead-restart-'));
  kubeconfig = join(dir, 'sandbox.kubeconfig');
});
afterAll(async () => {
  for (const p of running.splice(0)) await p.close();
  await rm(dir, { recursive: true, force: true });
});

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await exec('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig }, cwd: ROOT });
  return stdout;
}

async function applyYaml(name: string, yaml: string): Promise<void> {
  const file = join(dir, name);
  await writeFile(file, yaml);
  await kubectl('apply', '-f', file);
}

async function policyStatus(): Promise<Body> {
  return JSON.parse(await kubectl('get', 'rolloutpolicy', 'web', '-n', 'shop', '-o', 'json')).status ?? {};
}

async function waitForPhase(phase: string, timeoutMs = 60_000): Promise<Body> {
  let last: Body;
  return waitFor(
    async () => {
      const status: Record<string, unknown> = await policyStatus();
      last = status;
      return status.phase === phase ? status : undefined;
    },
    timeoutMs,
    () => `phase ${phase} of shop/web (last status: ${JSON.stringify(last)})`,
  );
}

async function sandbox(state: string): Promise<SandboxProcess> {
  const proc = await SandboxProcess.start(['--state', state, '--kubeconfig', kubeconfig, '--ready-delay', '50'], dir);
  running.push(proc);
  return proc;
}

describe('a sandbox restarted from --state under a running kubestead run', () => {
  it('is the same server to the operator: it reconnects and finishes the rollout', async () => {
    const state = join(dir, 'state.json');
    const first = await sandbox(state);
    await kubectl('apply', '-f', resolve(ROOT, 'crds/rolloutpolicies.kubestead.io.yaml'));
    await applyYaml('workload.yaml', WORKLOAD);
    const operator = await OperatorProcess.start({ kubeconfigPath: kubeconfig }, ['-n', 'shop']);
    running.push(operator);
    await applyYaml('policy.yaml', POLICY);
    await waitForPhase('Idle', 30_000);
    await kubectl('set', 'image', 'deployment/web', 'app=example/web:2', '-n', 'shop');
    const paused = await waitForPhase('Paused', 30_000);
    expect(paused.canaryWeight).toBe(25);

    // the sandbox goes down mid-rollout: its state file says so
    expect(await first.stop()).toBe(0);
    const saved = JSON.parse(await readFile(state, 'utf8'));
    const policy = (saved.objects as Body[]).find((e) => e.object.kind === 'RolloutPolicy')?.object;
    expect(policy?.status?.phase).toBe('Paused');

    // restarted from the same state: the same port (kept), CA and token; the operator never restarts
    const second = await sandbox(state);
    expect(second.url).toBe(first.url);
    const { stdout } = await exec(
      process.execPath,
      [resolve(ROOT, 'bin/kubestead'), 'resume', 'web', '-n', 'shop', '--kubeconfig', kubeconfig],
      { cwd: ROOT },
    );
    expect(stdout).toContain('resume requested on RolloutPolicy shop/web');
    const done = await waitForPhase('Succeeded');
    expect(done.lastDecision?.action).toBe('promote');
    const primary = JSON.parse(await kubectl('get', 'deployment', 'web-primary', '-n', 'shop', '-o', 'json'));
    expect(primary.spec.template.spec.containers[0].image).toBe('example/web:2');
    expect(operator.pid).toBeGreaterThan(0);
    const exitedEarly = await Promise.race([operator.exited.then(() => true), Promise.resolve(false)]);
    expect(exitedEarly).toBe(false);
    expect(operator.raw.join('\n')).not.toMatch(/certificate signature failure|self[- ]signed/i);
  }, 180_000);
});
