import { describe, expect, it } from 'vitest';
import type { PolicyStatus } from '../../src/pipeline/policy/status.js';
import { KubeClient } from '../../src/adapters/kube/client.js';
import { silentLogger } from '../../src/lib/log/logger.js';
import { markStale } from '../../src/runtime/controller/stale.js';
import { scenario } from './scenario.js';

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
