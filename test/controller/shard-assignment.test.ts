import { describe, expect, it } from 'vitest';
import {
  assignShards,
  hash32,
  loads,
  moveBound,
  movedPolicies,
  ranking,
  shardCap,
} from '../../src/runtime/controller/shard-assignment.js';

/** Policy UIDs shaped like the API server's (random-looking, fixed for the test). */
const uids = (count: number, seed = 1): string[] =>
  Array.from({ length: count }, (_, i) => {
    const a = hash32(`${seed}/${i}`).toString(16).padStart(8, '0');
    const b = hash32(`${i}/${seed}`).toString(16).padStart(8, '0');
    return `${a}-${b.slice(0, 4)}-4${b.slice(4, 7)}-8000-${a}${b.slice(0, 4)}`;
  });
const members = (count: number, prefix = 'kubestead-7d9f-'): string[] =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}`);

describe('shardCap and moveBound', () => {
  it.each([
    [0, 3, 1, 1],
    [30, 1, 38, 46],
    [30, 3, 13, 16],
    [1000, 3, 417, 501],
    [10_000, 4, 3125, 3751],
    [5, 0, 0, 5],
  ])('%i policies over %i members: cap %i, at most %i move', (policies, count, cap, bound) => {
    expect(shardCap(policies, count)).toBe(cap);
    expect(moveBound(policies, count)).toBe(bound);
  });
});

describe('assignShards', () => {
  it.each([
    [1, 1],
    [30, 1],
    [30, 3],
    [31, 4],
    [100, 7],
    [1000, 3],
    [10_000, 5],
  ])('%i policies over %i members: every policy owned once, none above the cap', (count, memberCount) => {
    const ids = uids(count);
    const live = members(memberCount);
    const assignment = assignShards(ids, live);
    expect([...assignment.keys()].sort()).toEqual([...ids].sort());
    const perMember = loads(assignment, live);
    expect([...perMember.values()].reduce((a, b) => a + b, 0)).toBe(count);
    for (const [member, load] of perMember) {
      expect(live).toContain(member);
      expect(load).toBeLessThanOrEqual(shardCap(count, memberCount));
    }
  });

  it('is deterministic: the same inputs in any order give the same owners', () => {
    const ids = uids(200);
    const live = members(4);
    const first = assignShards(ids, live);
    const again = assignShards([...ids].reverse(), [...live].reverse());
    expect([...again].sort()).toEqual([...first].sort());
  });

  it('counts duplicates once and owns nothing without members', () => {
    expect(assignShards(['a', 'a', 'b'], ['m', 'm']).size).toBe(2);
    expect(assignShards(['a', 'b'], []).size).toBe(0);
  });

  it('spreads: without the cap binding, every member gets a share', () => {
    const perMember = loads(assignShards(uids(300), members(3)), members(3));
    for (const load of perMember.values()) expect(load).toBeGreaterThan(50);
  });

  it('ranks members by the policy, not by the member list order', () => {
    expect(ranking('uid-1', ['a', 'b', 'c'])).toEqual(ranking('uid-1', ['c', 'a', 'b']));
  });
});

const churn = [10, 30, 100, 1000, 5000].flatMap((count) =>
  [1, 2, 3, 5, 8].flatMap((memberCount) => [1, 2, 3].map((seed) => [count, memberCount, seed] as const)),
);

describe('a join or a leave moves only what must move', () => {
  it.each(churn)('%i policies, %i members (seed %i): a join', (count, memberCount, seed) => {
    const ids = uids(count, seed);
    const live = members(memberCount, `m${seed}-`);
    const before = assignShards(ids, live);
    const after = assignShards(ids, [...live, `m${seed}-new`]);
    const moved = movedPolicies(before, after);
    expect(moved.length).toBeLessThanOrEqual(moveBound(count, memberCount + 1));
    // what moves goes to the newcomer, but for the few the cap pushes along between the members that stay
    const toNewcomer = moved.filter((uid) => after.get(uid) === `m${seed}-new`).length;
    expect(toNewcomer).toBe(loads(after, [`m${seed}-new`]).get(`m${seed}-new`));
    expect(moved.length - toNewcomer).toBeLessThanOrEqual(Math.ceil((0.25 * count) / (memberCount + 1)) + 1);
  });

  it.each(churn.filter(([, memberCount]) => memberCount > 1))(
    '%i policies, %i members (seed %i): a leave',
    (count, memberCount, seed) => {
      const ids = uids(count, seed);
      const live = members(memberCount, `m${seed}-`);
      const leaver = live[seed % memberCount]!;
      const before = assignShards(ids, live);
      const after = assignShards(
        ids,
        live.filter((member) => member !== leaver),
      );
      const moved = movedPolicies(before, after);
      expect(moved.length).toBeLessThanOrEqual(moveBound(count, memberCount));
      // every policy of the leaver moves; the others move only when the cap pushes them
      const leaverHad = [...before].filter(([, owner]) => owner === leaver).map(([uid]) => uid);
      for (const uid of leaverHad) expect(moved).toContain(uid);
    },
  );
});
