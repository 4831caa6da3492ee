import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '@kubestead/sandbox';
import { ManualClock } from '../support/manual-clock.js';
import { raw, testSandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { CuttableProxy } from './support.js';
import { createLogger, silentLogger } from '../../src/lib/log/logger.js';
import { memberLeaseName, ShardMembership, SHARD_VIEW_ANNOTATION } from '../../src/runtime/controller/shards.js';
import { shardCap } from '../../src/runtime/controller/shard-assignment.js';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await testSandbox({ workloads: false });
});
afterAll(async () => sandbox.close());

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const UIDS = Array.from({ length: 30 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

interface Member {
  id: string;
  shards: ShardMembership;
  changes: number;
  stopped: boolean;
  /** What onStale was last given. */
  stale: string[];
}

/** A member in its own namespace of the sandbox (one per test), on the shared ManualClock. */
function member(clock: ManualClock, namespace: string, id: string, kubeConfig = sandbox.kubeConfig()): Member {
  const m: Member = { id, changes: 0, stopped: false, stale: [], shards: undefined as unknown as ShardMembership };
  m.shards = new ShardMembership({
    leases: kubeConfig.makeApiClient(CoordinationV1Api),
    clock,
    logger: process.env.SHARD_DEBUG ? createLogger({ level: 'debug' }) : silentLogger,
    identity: id,
    namespace,
    policies: () => UIDS,
    onChange: () => (m.changes += 1),
    onStale: (uids) => (m.stale = uids),
  });
  cleanup.push(async () => stop(clock, m));
  return m;
}

async function stop(clock: ManualClock, m: Member): Promise<void> {
  if (m.stopped) return;
  m.stopped = true;
  const stopping = m.shards.stop();
  await clock.advance(2000);
  await stopping;
}

const settled = (m: Member): boolean => m.shards.rounds === m.shards.roundsStarted;

/** Moves the clock one retry period once no round is in flight, and waits until the rounds it started finished. */
async function round(clock: ManualClock, members: Member[]): Promise<void> {
  const running = members.filter((m) => !m.stopped);
  await waitFor(() => running.every(settled), 5000, 'the rounds in flight');
  const before = running.map((m) => m.shards.roundsStarted);
  await clock.advance(2000);
  await waitFor(
    () => running.every((m, i) => m.shards.roundsStarted > before[i]! && settled(m)),
    5000,
    'the rounds due',
  );
}

async function start(clock: ManualClock, members: Member[]): Promise<void> {
  for (const m of members) m.shards.start();
  await waitFor(() => members.every((m) => m.shards.rounds > 0 && settled(m)), 5000, 'the first rounds');
}

/** Who may act on each policy now; asserts that no policy has two. */
function actors(members: Member[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const uid of UIDS) {
    const acting = members.filter((m) => !m.stopped && m.shards.mayAct(uid)).map((m) => m.id);
    expect(acting.length, `${uid} acted on by ${acting.join(', ')}`).toBeLessThanOrEqual(1);
    if (acting[0]) out.set(uid, acting[0]);
  }
  return out;
}

let namespaces = 0;
/** A namespace of the test's own, so that one test's Leases are not the next one's peers. */
async function freshNamespace(): Promise<string> {
  const name = `shards-${++namespaces}`;
  const created = await raw(sandbox, 'POST', '/api/v1/namespaces', {
    body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }),
    contentType: 'application/json',
  });
  expect(created.status).toBe(201);
  return name;
}

describe('shard membership on Leases (real client-node, sandbox, ManualClock)', () => {
  it('three members agree on one owner per policy, none above the cap, each Lease naming its view', async () => {
    const clock = new ManualClock();
    const ns = await freshNamespace();
    const members = ['replica-a', 'replica-b', 'replica-c'].map((id) => member(clock, ns, id));
    await start(clock, members);
    for (let i = 0; i < 3; i++) await round(clock, members);
    const owners = actors(members);
    expect(owners.size).toBe(UIDS.length);
    for (const m of members) {
      const counts = m.shards.counts();
      expect(counts.owned).toBe([...owners.values()].filter((o) => o === m.id).length);
      expect(counts.owned).toBeLessThanOrEqual(shardCap(UIDS.length, 3));
      expect(counts).toMatchObject({ unowned: 0, multiOwned: 0 });
      expect(m.shards.liveMembers()).toEqual(['replica-a', 'replica-b', 'replica-c']);
    }
    const lease = await raw(
      sandbox,
      'GET',
      `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${memberLeaseName('replica-a')}`,
    );
    const body = lease.body as { metadata: { annotations: Record<string, string> }; spec: { holderIdentity: string } };
    expect(body.spec.holderIdentity).toBe('replica-a');
    expect(body.metadata.annotations[SHARD_VIEW_ANNOTATION]).toMatch(/^[0-9a-f]+$/);
  });

  it('a join: the new owner waits until the old owner has no tick of the policy in flight; never two at once', async () => {
    const clock = new ManualClock();
    const ns = await freshNamespace();
    const members = ['replica-a', 'replica-b'].map((id) => member(clock, ns, id));
    await start(clock, members);
    for (let i = 0; i < 3; i++) await round(clock, members);
    const before = actors(members);
    expect(before.size).toBe(UIDS.length);
    // every policy has a tick in flight on its owner when the newcomer joins
    const ends = new Map(UIDS.map((uid) => [uid, members.find((m) => m.id === before.get(uid))!.shards.begin(uid)]));
    const claimed = new Map(UIDS.map((uid) => [uid, members.find((m) => m.id === before.get(uid))!.shards.claim(uid)]));
    const c = member(clock, ns, 'replica-c');
    members.push(c);
    await start(clock, [c]);
    for (let i = 0; i < 6; i++) {
      await round(clock, members);
      expect(actors(members).size, 'nobody acts while a move waits for the old owners to drain').toBe(0);
      expect(UIDS.flatMap((uid) => members.map((m) => m.shards.claim(uid))).every((x) => x === null)).toBe(true);
    }
    expect(members.map((m) => m.shards.counts().unowned)).toEqual([30, 30, 30]);
    for (const end of ends.values()) end();
    for (let i = 0; i < 3; i++) await round(clock, members);
    const after = actors(members);
    expect(after.size).toBe(UIDS.length);
    const moved = UIDS.filter((uid) => before.get(uid) !== after.get(uid));
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((uid) => after.get(uid) === 'replica-c')).toBe(true);
    expect(c.shards.counts().owned).toBe(moved.length);
    // the write fence's claims: one claimant each; a moved policy has a new epoch, a kept one its old claim
    for (const uid of UIDS) {
      const claims = members.flatMap((m) => m.shards.claim(uid) ?? []);
      expect(claims.map((x) => x.replica)).toEqual([after.get(uid)]);
      expect([uid, claims[0]!.epoch !== claimed.get(uid)!.epoch]).toEqual([uid, moved.includes(uid)]);
      if (!moved.includes(uid)) expect(claims[0]).toEqual(claimed.get(uid));
    }
  });

  it('a move that does not settle: past the lease duration every live member calls the policies stale, none after', async () => {
    const clock = new ManualClock();
    const ns = await freshNamespace();
    const members = ['replica-a', 'replica-b'].map((id) => member(clock, ns, id));
    await start(clock, members);
    for (let i = 0; i < 3; i++) await round(clock, members);
    const before = actors(members);
    const ends = UIDS.map((uid) => members.find((m) => m.id === before.get(uid))!.shards.begin(uid));
    const c = member(clock, ns, 'replica-c');
    members.push(c);
    await start(clock, [c]);
    const joinedAt = clock.now();
    const firstStale = new Map<string, number>();
    while (clock.now() - joinedAt < 24_000) {
      await round(clock, members);
      for (const m of members)
        if (!firstStale.has(m.id) && m.shards.stale().length > 0) firstStale.set(m.id, clock.now() - joinedAt);
    }
    for (const m of members) {
      expect(m.shards.stale(), m.id).toEqual([...UIDS].sort());
      expect(m.stale, m.id).toEqual([...UIDS].sort());
      // not before a lease duration without agreement, and within a round or two after it
      expect(firstStale.get(m.id), m.id).toBeGreaterThan(15_000);
      expect(firstStale.get(m.id), m.id).toBeLessThanOrEqual(15_000 + 2 * 2000);
    }
    for (const end of ends) end();
    for (let i = 0; i < 3; i++) await round(clock, members);
    expect(actors(members).size).toBe(UIDS.length);
    for (const m of members) expect(m.shards.stale(), m.id).toEqual([]);
  });

  it('a graceful stop releases the Lease: the others take over at their next round, not after a lease duration', async () => {
    const clock = new ManualClock();
    const ns = await freshNamespace();
    const members = ['replica-a', 'replica-b', 'replica-c'].map((id) => member(clock, ns, id));
    await start(clock, members);
    for (let i = 0; i < 3; i++) await round(clock, members);
    await stop(clock, members[1]!);
    const stoppedAt = clock.now();
    const left = [members[0]!, members[2]!];
    const seen: string[] = [];
    while (clock.now() - stoppedAt < 30_000) {
      await round(clock, members);
      const who = actors(members);
      seen.push(
        `${clock.now() - stoppedAt}: ${who.size} ${JSON.stringify(left.map((m) => [m.shards.liveMembers(), m.shards.counts()]))}`,
      );
      if (who.size === UIDS.length) break;
    }
    expect(actors(members).size, seen.join('\n')).toBe(UIDS.length);
    expect(left.map((m) => m.shards.counts().owned).reduce((a, b) => a + b)).toBe(UIDS.length);
    expect(clock.now() - stoppedAt).toBeLessThan(15_000);
    expect(members[0]!.shards.liveMembers()).toEqual(['replica-a', 'replica-c']);
  });

  it('a member cut off from the API server stops acting within the renew deadline; the others take over after the lease duration', async () => {
    const clock = new ManualClock();
    const ns = await freshNamespace();
    const proxy = await new CuttableProxy(sandbox.port).listen();
    cleanup.push(() => proxy.close());
    const cut = member(clock, ns, 'replica-a', proxy.kubeConfig(sandbox));
    const members = [cut, member(clock, ns, 'replica-b'), member(clock, ns, 'replica-c')];
    await start(clock, members);
    for (let i = 0; i < 3; i++) await round(clock, members);
    const owned = UIDS.filter((uid) => cut.shards.mayAct(uid));
    expect(owned.length).toBeGreaterThan(0);
    proxy.cutOff();
    const cutAt = clock.now();
    let cutStopped = -1;
    let takenOver = -1;
    while (clock.now() - cutAt < 30_000) {
      await round(clock, members);
      const who = actors(members);
      if (cutStopped < 0 && owned.every((uid) => who.get(uid) !== 'replica-a')) cutStopped = clock.now() - cutAt;
      if (takenOver < 0 && who.size === UIDS.length && owned.every((uid) => who.get(uid) !== 'replica-a'))
        takenOver = clock.now() - cutAt;
    }
    expect(cutStopped).toBeGreaterThan(0);
    expect(cutStopped).toBeLessThanOrEqual(10_000);
    expect(takenOver).toBeGreaterThanOrEqual(15_000);
    // unowned no longer than a lease duration plus a round or two of agreement
    expect(takenOver).toBeLessThanOrEqual(15_000 + 3 * 2000);
    // a move that completes within the lease duration calls nothing stale; the cut member, not renewing, says nothing
    for (const m of members) expect([m.id, m.stale, m.shards.stale()]).toEqual([m.id, [], []]);
  });
});
