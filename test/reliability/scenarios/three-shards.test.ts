import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '@kubestead/sandbox';
import { waitFor } from '../../support/wait.js';
import { verifiedChain } from '../../support/invariant.js';
import { OperatorProcess } from '../../controller/process.js';
import { sandboxWithCrd } from '../../controller/support.js';
import { shardCap } from '../../../src/runtime/controller/shard-assignment.js';

const exec = promisify(execFile);
const N = 30;
const NAMES = Array.from({ length: N }, (_, i) => `web-${i}`);

const deployments = (image: string): string =>
  NAMES.map(
    (name) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: shop, labels: {app: ${name}}}
spec:
  replicas: 2
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: app, image: "example/web:${image}"}]
`,
  ).join('---\n');

const policies = NAMES.map(
  (name) => `apiVersion: kubestead.io/v1alpha1
kind: RolloutPolicy
metadata: {name: ${name}, namespace: shop}
spec:
  targetRef: {kind: Deployment, name: ${name}}
  interval: 1s
  steps:
    - {weight: 25, soak: 15s}
    - {weight: 50, soak: 15s}
`,
).join('---\n');

let sandbox: Sandbox;
let dir: string;
const running: OperatorProcess[] = [];
beforeAll(async () => {
  sandbox = await sandboxWithCrd();
  dir = await mkdtemp(join(tmpdir(), 'kubestead-shards-'));
});
afterAll(async () => {
  for (const p of running.splice(0)) await p.close();
  await sandbox?.close();
  await rm(dir, { recursive: true, force: true });
});

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await exec('kubectl', args, { env: { ...process.env, KUBECONFIG: sandbox.kubeconfigPath } });
  return stdout;
}

async function apply(name: string, yaml: string): Promise<void> {
  await writeFile(join(dir, name), yaml);
  await kubectl('apply', '-f', join(dir, name));
}

type Status = { phase?: string; audit?: { head: string; seq: number } };
async function statuses(): Promise<Map<string, Status>> {
  const list = JSON.parse(await kubectl('get', 'rolloutpolicies', '-n', 'shop', '-o', 'json')) as {
    items: { metadata: { name: string }; status?: Status }[];
  };
  return new Map(list.items.map((p) => [p.metadata.name, p.status ?? {}]));
}

async function allIn(phase: string, timeoutMs: number): Promise<Map<string, Status>> {
  let last = '';
  return waitFor(
    async () => {
      const s = await statuses();
      last = JSON.stringify([...s].map(([n, v]) => `${n}:${v.phase}`));
      return s.size === N && [...s.values()].every((v) => v.phase === phase) ? s : undefined;
    },
    timeoutMs,
    () => `every policy ${phase} (last: ${last})`,
  );
}

async function gauge(proc: OperatorProcess & { metricsPort: number }, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${proc.metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? NaN);
}

const start = async () => {
  const proc = await OperatorProcess.start(sandbox, ['--shards', 'auto', '--lease-namespace', 'default', '-n', 'shop']);
  running.push(proc);
  return proc;
};

describe('three kubestead run --shards auto processes, 30 rollouts in progress', () => {
  it('kill -9 one, add one, stop one: every rollout completes, each action once, the gauges sum to the count', async () => {
    await apply(
      'deployments.yaml',
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n${deployments('1')}`,
    );
    const [a, b, c] = [await start(), await start(), await start()];
    await apply('policies.yaml', policies);
    await allIn('Idle', 60_000);
    await apply('deployments-2.yaml', deployments('2'));
    await waitFor(
      async () => [...(await statuses()).values()].every((s) => s.phase === 'Progressing'),
      60_000,
      'every rollout progressing',
    );
    a.kill('SIGKILL');
    await a.exited;
    const d = await start();
    b.kill('SIGTERM');
    expect(await b.exited).toEqual({ code: 0, signal: null });
    const done = await allIn('Succeeded', 90_000);

    const live = [c, d];
    const owned = await Promise.all(live.map((p) => gauge(p, 'kubestead_owned_policies')));
    expect(owned.reduce((x, y) => x + y)).toBe(N);
    for (const o of owned) expect(o).toBeLessThanOrEqual(shardCap(N, live.length));
    for (const p of live) expect(await gauge(p, 'kubestead_multi_owned_policies')).toBe(0);

    for (const name of NAMES) {
      const entries = await verifiedChain({
        kubeconfigPath: sandbox.kubeconfigPath,
        namespace: 'shop',
        name,
        head: done.get(name)!.audit!,
      });
      const byAction = new Map<string, Set<string>>();
      for (const e of entries.filter((x) => x.kind === 'decision' && x.actionId))
        byAction.set(e.actionId, new Set([...(byAction.get(e.actionId) ?? []), e.controller]));
      for (const [id, controllers] of byAction) expect([name, id, controllers.size]).toEqual([name, id, 1]);
      const actions = entries.filter((e) => e.kind === 'decision').map((e) => e.decision?.action);
      expect(actions.filter((x) => x === 'promote').length, name).toBe(1);
    }
  }, 240_000);
});
