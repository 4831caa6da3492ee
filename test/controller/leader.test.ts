import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { LeaderElector } from '../../src/runtime/controller/leader.js';
import { silentLogger } from '../../src/lib/log/logger.js';
import type { Sandbox } from '@kubestead/sandbox';
import { raw, testSandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { CuttableProxy } from './support.js';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await testSandbox({ workloads: false });
});
afterAll(async () => sandbox.close());

interface Candidate {
  elector: LeaderElector;
  log: string[];
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function candidate(clock: ManualClock, identity: string, lease: string, kubeConfig = sandbox.kubeConfig()): Candidate {
  const log: string[] = [];
  const elector = new LeaderElector({
    leases: kubeConfig.makeApiClient(CoordinationV1Api),
    clock,
    logger: silentLogger,
    identity,
    namespace: 'default',
    name: lease,
    onStartedLeading: () => log.push('started'),
    onStoppedLeading: (reason) => log.push(`stopped: ${reason}`),
  });
  cleanup.push(async () => {
    const stopping = elector.stop();
    await clock.advance(2000);
    await stopping;
  });
  return { elector, log };
}

/** Moves the clock by `ms` and waits until every running candidate has finished the attempts now due. */
async function step(clock: ManualClock, ms: number, candidates: Candidate[]): Promise<void> {
  const before = candidates.map((c) => c.elector.attempts);
  const dueBefore = Math.floor((clock.now() - start(clock)) / 2000);
  await clock.advance(ms);
  const dueAfter = Math.floor((clock.now() - start(clock)) / 2000);
  const expected = dueAfter - dueBefore;
  await waitFor(
    () => candidates.every((c, i) => c.elector.attempts >= (before[i] ?? 0) + expected),
    5000,
    'the attempts due',
  );
}

const starts = new WeakMap<ManualClock, number>();
const start = (clock: ManualClock): number => starts.get(clock) ?? 0;

async function begin(clock: ManualClock, candidates: Candidate[]): Promise<void> {
  starts.set(clock, clock.now());
  for (const c of candidates) c.elector.start();
  await waitFor(() => candidates.every((c) => c.elector.attempts >= 1), 5000, 'the first attempts');
}

async function leaseSpec(name: string): Promise<Record<string, unknown>> {
  const res = await raw(sandbox, 'GET', `/apis/coordination.k8s.io/v1/namespaces/default/leases/${name}`);
  return res.body.spec as Record<string, unknown>;
}

describe('leader election on a Lease (real client-node, sandbox, ManualClock)', () => {
  it('one candidate leads; the Lease holds its identity with MicroTime six-digit times; the other stands by', async () => {
    const clock = new ManualClock();
    const a = candidate(clock, 'replica-a', 'one-leads');
    await begin(clock, [a]);
    expect(a.elector.isLeader()).toBe(true);
    const b = candidate(clock, 'replica-b', 'one-leads');
    b.elector.start();
    await waitFor(() => b.elector.attempts >= 1);
    starts.set(clock, clock.now());
    for (let i = 0; i < 12; i++) {
      await step(clock, 2000, [a, b]);
      expect([a.elector.isLeader(), b.elector.isLeader()]).toEqual([true, false]);
    }
    const spec = await leaseSpec('one-leads');
    expect(spec.holderIdentity).toBe('replica-a');
    expect(spec.leaseDurationSeconds).toBe(15);
    expect(spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(spec.acquireTime).toMatch(/\.\d{6}Z$/);
    expect(new Date(spec.renewTime as string).getTime()).toBe(clock.now());
    expect(b.log).toEqual([]);
    expect(b.elector.healthy()).toBe(true);
  });

  it('a leader cut off from the API server stops within the renew deadline; the other takes over after the lease duration; never both', async () => {
    const clock = new ManualClock();
    const proxy = await new CuttableProxy(sandbox.port).listen();
    cleanup.push(() => proxy.close());
    const a = candidate(clock, 'replica-a', 'cut-off', proxy.kubeConfig(sandbox));
    const b = candidate(clock, 'replica-b', 'cut-off');
    await begin(clock, [a]);
    b.elector.start();
    await waitFor(() => b.elector.attempts >= 1);
    starts.set(clock, clock.now());
    await step(clock, 2000, [a, b]);
    expect(a.elector.isLeader()).toBe(true);
    const lastRenew = clock.now();
    proxy.cutOff();
    const timeline: string[] = [];
    for (let elapsed = 0; elapsed < 30_000; elapsed += 500) {
      await step(clock, 500, [a, b]);
      expect(a.elector.isLeader() && b.elector.isLeader()).toBe(false);
      timeline.push(
        `${clock.now() - lastRenew} ${a.elector.isLeader() ? 'a' : '-'}${b.elector.isLeader() ? 'b' : '-'}`,
      );
    }
    const aStopped = timeline.find((t) => t.endsWith('--'))!;
    const bStarted = timeline.find((t) => t.endsWith('-b'))!;
    expect(Number(aStopped.split(' ')[0])).toBeLessThanOrEqual(10_000);
    expect(Number(aStopped.split(' ')[0])).toBeGreaterThan(9_500);
    // the standby waits a whole lease duration from the last change it saw (on its own clock), so never before 15 s,
    // and takes over within a lease duration of the old leader stopping
    expect(Number(bStarted.split(' ')[0])).toBeGreaterThanOrEqual(15_000);
    expect(Number(bStarted.split(' ')[0]) - Number(aStopped.split(' ')[0])).toBeLessThanOrEqual(15_000);
    expect(a.log).toEqual(['started', 'stopped: no renew within 10000 ms']);
    expect(b.log).toEqual(['started']);
    expect((await leaseSpec('cut-off')).holderIdentity).toBe('replica-b');
    expect((await leaseSpec('cut-off')).leaseTransitions).toBe(1);
    expect(a.elector.healthy()).toBe(false);
  });

  it('releases the Lease on stop, so that the standby takes it on its next try', async () => {
    const clock = new ManualClock();
    const a = candidate(clock, 'replica-a', 'release');
    const b = candidate(clock, 'replica-b', 'release');
    await begin(clock, [a]);
    b.elector.start();
    await waitFor(() => b.elector.attempts >= 1);
    const stopping = a.elector.stop();
    await clock.advance(0);
    await stopping;
    expect(a.elector.isLeader()).toBe(false);
    expect((await leaseSpec('release')).holderIdentity).toBe('');
    starts.set(clock, clock.now());
    await step(clock, 2000, [b]);
    expect(b.elector.isLeader()).toBe(true);
  });
});
