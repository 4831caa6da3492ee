import { describe, expect, it } from 'vitest';
import { OwnerlessSince, showsStale, staleStatus } from '../../src/runtime/controller/stale.js';
import type { PolicyObject } from '../../src/adapters/kube/cache.js';

const LEASE = 15_000;

/** Rounds every 2 s: `true` when the view was agreed (every policy owned), `false` when not. */
function after(rounds: boolean[], uids = ['a', 'b']): string[] {
  const since = new OwnerlessSince();
  rounds.forEach((owned, i) => since.observe(uids, owned, i * 2000));
  return since.stale((rounds.length - 1) * 2000, LEASE);
}

describe('OwnerlessSince: a policy is stale after a lease duration without an agreed owner', () => {
  it.each<[string, boolean[], string[]]>([
    ['agreed throughout', Array(12).fill(true), []],
    ['never agreed, 14 s (not longer than the lease)', Array(8).fill(false), []],
    ['never agreed, 16 s', Array(9).fill(false), ['a', 'b']],
    ['agreed, then 16 s without agreement', [true, ...Array(8).fill(false)], ['a', 'b']],
    ['agreed, then 14 s without agreement', [true, ...Array(7).fill(false)], []],
    ['16 s without agreement, then agreed once (an owner could act)', [...Array(9).fill(false), true], []],
  ])('%s → %j', (_name, rounds, stale) => {
    expect(after(rounds)).toEqual(stale);
  });

  it('a policy first seen late counts from when it was seen; one gone from the view is forgotten', () => {
    const since = new OwnerlessSince();
    since.observe(['a'], false, 0);
    since.observe(['a', 'b'], false, 10_000);
    expect(since.stale(16_000, LEASE)).toEqual(['a']);
    since.observe(['b'], false, 24_000);
    expect(since.stale(24_000, LEASE)).toEqual([]);
    expect(since.stale(24_000, 13_999)).toEqual(['b']);
  });

  it('reset forgets what was seen before a gap (a replica that could not renew saw nothing)', () => {
    const since = new OwnerlessSince();
    since.observe(['a'], false, 0);
    since.reset();
    since.observe(['a'], false, 20_000);
    expect(since.stale(20_000, LEASE)).toEqual([]);
    expect(since.stale(35_001, LEASE)).toEqual(['a']);
  });
});

describe('the Stale condition as written', () => {
  const policy: PolicyObject = {
    metadata: { name: 'app', namespace: 'shop', generation: 3 },
    status: {
      phase: 'Progressing',
      conditions: [
        { type: 'Ready', status: 'True', reason: 'Ok', message: 'ok', lastTransitionTime: 'x' },
        { type: 'Stale', status: 'False', reason: 'Old', message: 'old', lastTransitionTime: 'y' },
      ],
    },
  };

  it('keeps the other conditions and fields, replaces an old Stale, names the lease duration', () => {
    const status = staleStatus(policy, LEASE, '2026-12-07T18:00:00.000Z');
    expect(status.phase).toBe('Progressing');
    expect(status.conditions).toEqual([
      { type: 'Ready', status: 'True', reason: 'Ok', message: 'ok', lastTransitionTime: 'x' },
      {
        type: 'Stale',
        status: 'True',
        reason: 'NoLiveOwner',
        message: expect.stringContaining('(15 s)') as unknown,
        lastTransitionTime: '2026-12-07T18:00:00.000Z',
        observedGeneration: 3,
      },
    ]);
    expect(showsStale(policy)).toBe(false);
    expect(showsStale({ ...policy, status })).toBe(true);
    expect(showsStale(undefined)).toBe(false);
    expect(showsStale({ metadata: {}, status: { conditions: 'garbage' } })).toBe(false);
  });
});
