import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { PolicyStatus } from '../../src/pipeline/policy/status.js';
import { KubeClient } from '../../src/adapters/kube/client.js';
import { kubeClients } from '../../src/adapters/kube/clients.js';
import type { DecisionRecord, Recorder } from '../../src/pipeline/record/recorder.js';
import { silentLogger } from '../../src/lib/log/logger.js';
import { markStale } from '../../src/runtime/controller/stale.js';
import type { ShardClaim, WriteFence } from '../../src/runtime/controller/deps.js';
import type { CrashPoint } from '../../src/runtime/tick/crash.js';
import { scenario } from './scenario.js';
import type { TickFixture } from './support.js';

const env = scenario();
const staleOf = (s: PolicyStatus) => s.conditions?.find((c) => c.type === 'Stale');

describe('the Stale condition on the policy (sandbox)', () => {
  it('is written once by a live replica, and removed by the next tick of the owner', async () => {
    const f = await env.fixture();
    const started = await f.startCanary(env.spec());
    expect(started).toMatchObject({ phase: 'Progressing' });
    const key = { namespace: f.namespace, name: 'app' };
    await f.cache.refresh();
    const marking = {
      kube: new KubeClient(f.deps.clients),
      clock: f.clock,
      logger: silentLogger,
      leaseMs: 15_000,
      cached: (k: typeof key) => f.cache.policy(k),
    };
    expect(await markStale(marking, [key])).toBe(1);
    const marked = await f.policy();
    expect(staleOf(marked.status ?? {})).toMatchObject({ status: 'True', reason: 'NoLiveOwner' });
    expect(marked.status).toMatchObject({ phase: 'Progressing', currentStep: started.currentStep });
    // a second replica (or round) writes nothing: the cache shows it, or the read does
    expect(await markStale(marking, [key])).toBe(0);
    expect(await markStale({ ...marking, cached: () => undefined }, [key])).toBe(0);
    expect((await f.policy()).metadata?.resourceVersion).toBe(marked.metadata?.resourceVersion);
    await f.tick();
    const after = await f.status();
    expect(staleOf(after)).toBeUndefined();
    expect(after).toMatchObject({ phase: 'Progressing' });
  });
});

/** A replica's write fence that the test moves: it holds `held` (null: the policy is another replica's now). */
class MovableFence implements WriteFence {
  constructor(public held: ShardClaim | null) {}
  claim(): ShardClaim | null {
    return this.held;
  }
}

/** Every write the sandbox answered in the fixture's namespace since `since`, in the order answered (its request log). */
const namespaceWrites = (f: TickFixture, since: number) =>
  f.sandbox.requests
    .list({ since })
    .filter((r) => r.method !== 'GET' && r.path.includes(`/namespaces/${f.namespace}/`));

const writesSince = (f: TickFixture, since: number): string[] =>
  namespaceWrites(f, since).map((r) => `${r.method} ${r.path}`);

describe('the write fence of --shards auto (sandbox)', () => {
  it('claims a policy once per move; a replica that loses it mid-tick writes nothing more', async () => {
    const claim = (epoch: string): ShardClaim => ({ replica: 'test-controller', epoch });
    const fence = new MovableFence(claim('e1'));
    // the policy moves to another replica at this boundary of the next tick (the hook runs inside the tick)
    let moveAt: CrashPoint | null = null;
    let movedAt = Number.POSITIVE_INFINITY;
    const f = await env.fixture({
      crash: (point) => {
        if (point !== moveAt) return;
        [fence.held, moveAt, movedAt] = [null, null, Date.now()];
      },
    });
    f.deps.fence = fence;
    expect(await f.adoptedBy(env.spec())).toMatchObject({ phase: 'Idle', shardOwner: claim('e1') });
    await f.settle();
    await f.tick(); // whatever adoption left to show
    let since = Date.now();
    await f.tick();
    expect(writesSince(f, since), 'an idle tick under a claim already shown').toEqual([]);

    fence.held = claim('e2'); // it moved away and back: a new claim, one guarded status write
    since = Date.now();
    await f.tick();
    expect(writesSince(f, since)).toEqual([
      `PUT /apis/kubestead.io/v1alpha1/namespaces/${f.namespace}/rolloutpolicies/app/status`,
    ]);
    expect(await f.status()).toMatchObject({ shardOwner: claim('e2') });

    await f.setImage('app:2');
    await f.tick();
    expect(await f.status()).toMatchObject({ phase: 'Progressing', currentStep: 0 });
    await f.settle();
    await f.clock.advance(61_000); // step 0's soak (1m) is over: the next tick advances
    const primary = (await f.deployment('app-primary')).spec?.replicas;
    const canary = (await f.deployment('app')).spec?.replicas;
    moveAt = 'after-record';
    await f.tick();
    expect(movedAt, 'the tick reached its decision').toBeLessThan(Number.POSITIVE_INFINITY);
    expect(writesSince(f, movedAt), 'writes after the policy moved away mid-tick').toEqual([]);
    expect(await f.status()).toMatchObject({ phase: 'Progressing', currentStep: 0, shardOwner: claim('e2') });
    expect([(await f.deployment('app-primary')).spec?.replicas, (await f.deployment('app')).spec?.replicas]).toEqual([
      primary,
      canary,
    ]);

    // the same tick with the claim held (back here, a third move) advances: the check above can fail
    fence.held = claim('e3');
    await f.tick();
    expect(await f.status()).toMatchObject({ phase: 'Progressing', currentStep: 1, shardOwner: claim('e3') });
  });
});

/** The operator's recorder seam (the audit chain's place), keeping every entry stored. */
class KeptRecords implements Recorder {
  entries: DecisionRecord[] = [];
  record(entry: DecisionRecord): Promise<{ head: string; seq: number }> {
    this.entries.push(entry);
    return Promise.resolve({ head: `h${this.entries.length}`, seq: this.entries.length });
  }
}

const REPLICA_B = 'replica-b';
let replicaB: KubeClient | undefined;

/** Replica B's API client (a token user of its own, so the request log tells its requests from A's). */
async function clientOfB(): Promise<KubeClient> {
  if (replicaB) return replicaB;
  const groups = ['system:masters', 'system:authenticated'];
  const path = await env.sandbox.addUser('replica-b-token-0123456789', { username: REPLICA_B, groups });
  const config = new KubeConfig();
  config.loadFromFile(path);
  replicaB = new KubeClient(kubeClients(config));
  return replicaB;
}

/** Replica B takes the policy over as its tick's claim does (fence.ts): reads it, writes its claim guarded by that read. */
async function takeOver(f: TickFixture, claim: ShardClaim): Promise<void> {
  const b = await clientOfB();
  const policy = await b.readPolicy(f.namespace, 'app');
  if (!policy) throw new Error('the policy is gone');
  await b.writePolicyStatus(policy, { ...policy.status, shardOwner: claim });
}

/** namespaceWrites as `user code METHOD path` (user A: the fixture's; B: replica B's). */
const answeredSince = (f: TickFixture, since: number): string[] =>
  namespaceWrites(f, since).map(
    (r) =>
      `${r.user === REPLICA_B ? 'B' : 'A'} ${r.code} ${r.method} ${r.path.replace(`/namespaces/${f.namespace}/`, '/…/')}`,
  );

/** What A's tick could have written: the policy's status, both Deployments' replicas, its Events, audit entries. */
async function written(f: TickFixture, records: KeptRecords) {
  const events = await f.core.listNamespacedEvent({ namespace: f.namespace });
  return {
    status: await f.status(),
    replicas: [(await f.deployment('app-primary')).spec?.replicas, (await f.deployment('app')).spec?.replicas],
    events: events.items.filter((e) => e.source?.component === 'kubestead').map((e) => `${e.reason}: ${e.message}`),
    records: records.entries.length,
  };
}

const STATUS = 'PUT /apis/kubestead.io/v1alpha1/…/rolloutpolicies/app/status';

describe("the write fence against another replica's claim written through the API (sandbox)", () => {
  const claimA = (epoch: string): ShardClaim => ({ replica: 'test-controller', epoch });
  const claimB: ShardClaim = { replica: REPLICA_B, epoch: 'b7' };

  /** Replica A (the fixture) with a canary at step 0 under its claim `e1`, step 0's soak over: its next tick advances. */
  async function dueToAdvance(records: KeptRecords): Promise<{ f: TickFixture; fence: MovableFence }> {
    const fence = new MovableFence(claimA('e1'));
    const f = await env.fixture({ recorder: records });
    f.deps.fence = fence;
    expect(await f.startCanary(env.spec())).toMatchObject({ phase: 'Progressing', shardOwner: claimA('e1') });
    await f.settle();
    await f.clock.advance(61_000);
    return { f, fence };
  }

  it("B claims between A's claim and A's stages: A sees it and writes nothing more", async () => {
    const records = new KeptRecords();
    const { f, fence } = await dueToAdvance(records);
    fence.held = claimA('e2'); // the policy moved away and back: this tick claims it (a guarded status write)
    const before = await written(f, records);
    const path = `/apis/kubestead.io/v1alpha1/namespaces/${f.namespace}/rolloutpolicies/app/status`;
    let taken = false;
    // A's claim is stored; before its answer reaches A, B takes the policy over and A's policy informer
    // delivers B's write to A's cache (in `kubestead run` its watch does; here the fixture's cache is re-listed)
    f.sandbox.faults.interleave({ method: 'PUT', path }, async () => {
      await takeOver(f, claimB);
      await f.cache.refresh();
      taken = true;
    });
    const since = Date.now();
    const result = await f.tick();
    expect(taken, 'B took the policy over inside the tick').toBe(true);
    // A's fence still gives it the policy (its view has not seen B's): only the claim in status tells
    expect(fence.claim()).toEqual(claimA('e2'));
    expect(answeredSince(f, since)).toEqual([`B 200 ${STATUS}`, `A 200 ${STATUS}`]);
    expect(result).toEqual({ requeueAfterMs: 2_000 });
    expect(await written(f, records)).toEqual({ ...before, status: { ...before.status, shardOwner: claimB } });
  });

  it("B claims between A's stage writes and its closing status write: the 409 ends A's tick, no claim back", async () => {
    const records = new KeptRecords();
    const { f } = await dueToAdvance(records);
    const scale = `/apis/apps/v1/namespaces/${f.namespace}/deployments/app/scale`;
    let taken = false;
    // A's last stage write (the canary's replicas for step 1) is stored; before its answer reaches A, B takes the
    // policy over. A's cache does not show it (its informer has not delivered it yet): only the guarded write can tell.
    f.sandbox.faults.interleave({ method: 'PATCH', path: scale }, async () => {
      await takeOver(f, claimB);
      taken = true;
    });
    const since = Date.now();
    const result = await f.tick();
    expect(taken, 'B took the policy over inside the tick').toBe(true);
    // A's writes: the advance's Events (on the policy and the Deployment), the canary's replicas (stored before B's
    // claim, answered after it), then its closing status write, refused. Nothing after: no claim over B's, nothing
    // decided, recorded or applied again.
    expect(answeredSince(f, since)).toEqual([
      'A 201 POST /api/v1/…/events',
      'A 201 POST /api/v1/…/events',
      `B 200 ${STATUS}`,
      'A 200 PATCH /apis/apps/v1/…/deployments/app/scale',
      `A 409 ${STATUS}`,
    ]);
    expect(result).toEqual({ requeueAfterMs: 2_000 });
    const status = await f.status();
    expect(status).toMatchObject({ phase: 'Progressing', currentStep: 0, shardOwner: claimB });
    // the stage's writes before B's claim stand (the advance was recorded once, the canary scaled once)
    expect(records.entries.filter((r) => r.kind === 'decision').map((r) => r.decision.action)).toEqual(['advance']);
  });

  it("B claims before A's claim write, not yet in A's cache: that write gets the 409, no claim over B's", async () => {
    const records = new KeptRecords();
    const { f, fence } = await dueToAdvance(records);
    fence.held = claimA('e2'); // the policy moved away and back: this tick claims it (a guarded status write)
    await f.cache.refresh(); // A's cache as its tick begins (the policy under A's claim e1)
    const before = await written(f, records);
    await takeOver(f, claimB); // not delivered to A's cache
    const since = Date.now();
    const result = await f.reconciler.reconcile({ namespace: f.namespace, name: 'app' }, new AbortController().signal);
    expect(answeredSince(f, since)).toEqual([`A 409 ${STATUS}`]);
    expect(result).toEqual({ requeueAfterMs: 2_000 });
    expect(await written(f, records)).toEqual({ ...before, status: { ...before.status, shardOwner: claimB } });
  });
});
