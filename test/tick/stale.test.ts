import { describe, expect, it } from 'vitest';
import type { PolicyStatus } from '../../src/pipeline/policy/status.js';
import { KubeClient } from '../../src/adapters/kube/client.js';
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

/** Every write the sandbox answered in the fixture's namespace since `since` (its request log). */
const writesSince = (f: TickFixture, since: number): string[] =>
  f.sandbox.requests
    .list({ since })
    .filter((r) => r.method !== 'GET' && r.path.includes(`/namespaces/${f.namespace}/`))
    .map((r) => `${r.method} ${r.path}`);

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
