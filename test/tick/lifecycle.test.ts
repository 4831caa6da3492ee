import { describe, expect, it } from 'vitest';
import { scenario } from './scenario.js';
import { imageOf } from './support.js';

const env = scenario();

const spec = (extra: Record<string, unknown> = {}) => env.spec(extra);

describe('lifecycle', () => {
  it('adopts the target: primary from its template, target scaled to 0, phase Idle', async () => {
    const f = await env.fixture();
    await f.createDeployment('app', 'app:1', 4);
    await f.settle();
    await f.applyPolicy(spec());
    const status = await f.adopt();
    expect(status.phase).toBe('Idle');
    const primary = await f.deployment('app-primary');
    expect(primary.spec?.replicas).toBe(4);
    expect(imageOf(primary)).toBe('app:1');
    expect(primary.spec?.selector.matchLabels).toEqual({ app: 'app', 'kubestead.io/role': 'primary' });
    expect(primary.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('kubestead');
    expect(primary.metadata?.ownerReferences?.[0]?.kind).toBe('RolloutPolicy');
    expect((await f.deployment('app')).spec?.replicas).toBe(0);
    expect((await f.policy()).metadata?.finalizers).toContain('kubestead.io/finalizer');
    expect(await f.eventReasons()).toContain('Adopted');
    expect(await f.eventReasons('Deployment')).toContain('Adopted');
  });

  it('walks a good release through every step to Succeeded, primary on the new image', async () => {
    const f = await env.fixture();
    await f.adoptedBy(spec(), 4);
    await f.setImage('app:2');
    await f.tick();
    const started = await f.status();
    expect(started).toMatchObject({
      phase: 'Progressing',
      currentStep: 0,
      canaryWeight: 20,
      effectiveWeight: 20,
      canaryReplicas: 1,
    });
    expect((await f.deployment('app')).spec?.replicas).toBe(1);
    const done = await f.tickUntil((s) => s.phase === 'Succeeded', 30_000);
    expect(done.stableRevision).toBe(started.canaryRevision);
    expect(imageOf(await f.deployment('app-primary'))).toBe('app:2');
    expect((await f.deployment('app')).spec?.replicas).toBe(0);
    const reasons = await f.eventReasons();
    expect(reasons).toEqual(expect.arrayContaining(['CanaryStarted', 'Advanced', 'Promoted', 'Succeeded']));
  });
});
