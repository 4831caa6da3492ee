import { describe, expect, it } from 'vitest';
import { RecordingRouter } from '../support/recording-router.js';

describe('RecordingRouter', () => {
  it('records calls in order and keeps the live weight', async () => {
    const router = new RecordingRouter('gatewayAPI');
    expect(await router.prepare()).toBeNull();
    expect(router.canaryReplicas(0.5, 4)).toBe(1);
    expect(router.canaryReplicas(50, 4)).toBe(2);
    expect(router.canaryReplicas(0, 4)).toBe(0);
    expect(await router.setWeight(0.5)).toEqual({ weight: 0.5, detail: 'recording router: canary 5/1000 (0.5%)' });
    expect(await router.getWeight()).toEqual({ weight: 0.5, detail: 'recording router: canary 5/1000 (0.5%)' });
    await router.finalize();
    expect(router.liveWeight).toBe(0);
    await router.setWeight(1);
    await router.release();
    expect(router.liveWeight).toBe(0);
    expect(router.trace).toEqual([
      'prepare',
      'canaryReplicas',
      'canaryReplicas',
      'canaryReplicas',
      'setWeight(0.5)',
      'getWeight',
      'finalize',
      'setWeight(1)',
      'release',
    ]);
  });

  it('plays missing objects, drift, API failures and weights the router cannot give', async () => {
    const router = new RecordingRouter('smi');
    router.problem = { reason: 'RouteMissing', message: 'TrafficSplit shop/checkout does not exist' };
    expect(await router.prepare()).toEqual(router.problem);
    await router.setWeight(5);
    router.drift(40);
    expect((await router.getWeight()).weight).toBe(40);
    router.failNext(new Error('503 from the API server'));
    await expect(router.setWeight(5)).rejects.toThrow('503 from the API server');
    expect(router.liveWeight).toBe(40);
    await router.setWeight(5);
    expect(router.liveWeight).toBe(5);
    expect(router.inexpressible(0.0005)).toMatch(/^smi cannot route 0.0005% exactly/);
    await expect(router.setWeight(0.0005)).rejects.toThrow(/^smi cannot route 0.0005% exactly/);
    expect(router.liveWeight).toBe(5);
  });
});
