import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '@kubestead/sandbox';
import { waitFor } from '../../support/wait.js';
import { verifiedChain } from '../../support/invariant.js';
import type { AuditEntry } from '../../../src/pipeline/record/audit/entry.js';
import { readChainLines } from '../../../src/pipeline/record/audit/export.js';
import { parseChainText } from '../../../src/pipeline/record/audit/parse.js';
import { verifyChain, verifySummary } from '../../../src/pipeline/record/audit/verify.js';
import { kubeClients } from '../../../src/adapters/kube/clients.js';
import { OperatorProcess } from '../../controller/process.js';
import { sandboxWithCrd } from '../../controller/support.js';
import { moveBound, shardCap } from '../../../src/runtime/controller/shard-assignment.js';

const exec = promisify(execFile);
const N = 30;
const NAMES = Array.from({ length: N }, (_, i) => `web-${i}`);
/** Short Lease times (the flags of docs/sharding.md), so that a kill -9 moves in seconds, not in 15 s. */
const LEASE_MS = 2000;
const TIMING = ['--lease-duration', '2s', '--renew-deadline', '1500ms', '--retry-period', '500ms'];
/** The policies' interval: no policy may go without a live owner for longer than LEASE_MS + INTERVAL_MS. */
const INTERVAL_MS = 3000;

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
  interval: ${INTERVAL_MS / 1000}s
  steps:
    - {weight: 25, soak: 9s}
    - {weight: 50, soak: 9s}
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

type Replica = OperatorProcess & { metricsPort: number };

async function gauge(proc: Replica, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${proc.metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? NaN);
}

const start = async (): Promise<Replica> => {
  const proc = await OperatorProcess.start(sandbox, [
    '--shards',
    'auto',
    '--lease-namespace',
    'default',
    '-n',
    'shop',
    ...TIMING,
  ]);
  running.push(proc);
  return proc;
};

/**
 * Samples, every 100 ms until stopped, the owned gauges of the replicas the test holds live: the
 * stretches in which they sum to less than N are the times some policy had no live owner able to act
 * on it. A stretch runs from the last sample that summed to N (conservative: the real gap may start
 * later) to the next one that does. A replica leaves `live` the moment the test kills or stops it.
 */
class OwnershipSampler {
  readonly live: Set<Replica>;
  readonly stretches: { from: number; to: number }[] = [];
  private lastOwned = Date.now();
  /** When the last sample that summed to N started (0: none since the last gap opened). */
  private ownedAt = 0;
  private open: number | null = null;
  private running = true;
  private readonly loop: Promise<void>;

  constructor(live: Replica[]) {
    this.live = new Set(live);
    this.loop = this.run();
  }

  /** Every policy owned by a live replica, in a sample that started at or after `since`. */
  settledSince(since: number): boolean {
    return this.open === null && this.ownedAt >= since;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const at = Date.now();
      const counts = await Promise.all(
        [...this.live].map((p) => gauge(p, 'kubestead_owned_policies').catch(() => Number.NaN)),
      );
      this.note(
        at,
        counts.reduce((x, y) => x + y, 0),
      );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private note(at: number, owned: number): void {
    if (owned !== N) {
      this.open ??= this.lastOwned;
      this.ownedAt = 0;
      return;
    }
    if (this.open !== null) this.stretches.push({ from: this.open, to: at });
    this.open = null;
    this.lastOwned = at;
    this.ownedAt = at;
  }
}

/**
 * Waits until every policy is owned again after a move made at `since`; returns the gaps (ms) since
 * stretch number `from` (the count of stretches before the move).
 */
async function settled(sampler: OwnershipSampler, since: number, from: number, what: string): Promise<number[]> {
  await waitFor(() => sampler.settledSince(since), 30_000, `every policy owned by a live replica after ${what}`);
  return sampler.stretches.slice(from).map((s) => s.to - s.from);
}

/** The `moved` of each `shard view changed` line a replica logged from line `from` on. */
const movesLogged = (proc: Replica, from: number): number[] =>
  proc.lines
    .slice(from)
    .filter((l) => l.msg === 'shard view changed')
    .map((l) => Number(l.moved));

/**
 * Each policy's audit chain, verified against its status.audit head: three with the real CLI
 * (`kubestead audit export` and `verify`, test/support/invariant.ts), the others in-process with the
 * same functions, so that 30 chains cost no 60 processes.
 */
async function chains(done: Map<string, Status>): Promise<Map<string, AuditEntry[]>> {
  const out = new Map<string, AuditEntry[]>();
  const clients = kubeClients(sandbox.kubeConfig());
  for (const name of NAMES) {
    const head = done.get(name)!.audit!;
    if (NAMES.indexOf(name) < 3) {
      out.set(name, await verifiedChain({ kubeconfigPath: sandbox.kubeconfigPath, namespace: 'shop', name, head }));
      continue;
    }
    const lines = parseChainText((await readChainLines(clients, 'shop', name)).join('\n'), name);
    const result = verifyChain(lines, { head: head.head, policy: `shop/${name}` });
    expect(verifySummary(result)).toBe(
      `OK shop/${name}: ${head.seq + 1} entries, seq 0..${head.seq}, head ${head.head}\n`,
    );
    out.set(
      name,
      lines.map((l) => l.entry!),
    );
  }
  return out;
}

describe('three kubestead run --shards auto processes, 30 rollouts in progress', () => {
  it('kill -9 one, add one, stop one: every rollout completes, each action once, no policy long unowned, few moves', async () => {
    await apply(
      'deployments.yaml',
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n${deployments('1')}`,
    );
    const [a, b, c] = [await start(), await start(), await start()];
    await apply('policies.yaml', policies);
    await allIn('Idle', 60_000);
    const sampler = new OwnershipSampler([a, b, c]);
    try {
      await waitFor(() => sampler.settledSince(Date.now() - 100), 30_000, 'the three replicas owning every policy');
      await apply('deployments-2.yaml', deployments('2'));
      await waitFor(
        // every rollout started (under load the first may be a step further than the last)
        async () => [...(await statuses()).values()].every((s) => s.phase !== 'Idle'),
        60_000,
        'every rollout started',
      );
      sampler.live.delete(a);
      const killed = Date.now();
      a.kill('SIGKILL');
      await a.exited;
      const kill = await settled(sampler, killed, sampler.stretches.length, 'kill -9');
      // by design at least the lease duration less a retry period: the sampler saw the move
      expect(Math.max(...kill)).toBeGreaterThanOrEqual(LEASE_MS - 500);

      const [fromB, fromC, joining] = [b.lines.length, c.lines.length, sampler.stretches.length];
      const d = await start();
      sampler.live.add(d);
      await waitFor(async () => (await gauge(d, 'kubestead_owned_policies')) > 0, 30_000, 'the newcomer owning some');
      const join = await settled(sampler, Date.now(), joining, 'the join');
      const ownedByD = await gauge(d, 'kubestead_owned_policies');
      for (const [proc, from] of [
        [b, fromB],
        [c, fromC],
      ] as const) {
        const moved = movesLogged(proc, from).reduce((x, y) => x + y, 0);
        expect(moved, 'the moves a join made').toBeLessThanOrEqual(moveBound(N, 3));
        // every policy the newcomer owns moved to it: the count logged is no undercount
        expect(moved).toBeGreaterThanOrEqual(ownedByD);
      }

      sampler.live.delete(b);
      const [stopped, leaving] = [Date.now(), sampler.stretches.length];
      b.kill('SIGTERM');
      expect(await b.exited).toEqual({ code: 0, signal: null });
      const leave = await settled(sampler, stopped, leaving, 'the graceful stop');
      const gaps = { kill, join, leave };
      for (const [move, ms] of Object.entries(gaps))
        expect(Math.max(0, ...ms), `the longest gap of ${move} (ms)`).toBeLessThanOrEqual(LEASE_MS + INTERVAL_MS);
      const done = await allIn('Succeeded', 90_000);
      const longest = Math.max(...sampler.stretches.map((s) => s.to - s.from));
      expect(longest, 'the longest gap of the whole run (ms)').toBeLessThanOrEqual(LEASE_MS + INTERVAL_MS);

      const live = [c, d];
      const owned = await Promise.all(live.map((p) => gauge(p, 'kubestead_owned_policies')));
      expect(owned.reduce((x, y) => x + y)).toBe(N);
      for (const o of owned) expect(o).toBeLessThanOrEqual(shardCap(N, live.length));
      for (const p of live) expect(await gauge(p, 'kubestead_multi_owned_policies')).toBe(0);

      for (const [name, entries] of await chains(done)) {
        const byAction = new Map<string, Set<string>>();
        for (const e of entries.filter((x) => x.kind === 'decision' && x.actionId))
          byAction.set(e.actionId, new Set([...(byAction.get(e.actionId) ?? []), e.controller]));
        for (const [id, controllers] of byAction) expect([name, id, controllers.size]).toEqual([name, id, 1]);
        const actions = entries.filter((e) => e.kind === 'decision').map((e) => e.decision?.action);
        expect(actions.filter((x) => x === 'promote').length, name).toBe(1);
      }
    } finally {
      await sampler.stop();
    }
  }, 180_000);
});
