import { describe, expect, it } from 'vitest';
import { decide } from '../../src/pipeline/decide/decide.js';
import { NO_REVERT, rememberPromoted, revertFacts } from '../../src/pipeline/facts/revert.js';
import { windowFacts } from '../../src/pipeline/facts/windows.js';
import { parseSnapshot } from '../../src/pipeline/facts/snapshot.js';
import type { WindowsSpec } from '../../src/pipeline/policy/windows.js';
import { defaultSnapshot, mergeSnapshot } from '../../src/tools/policytest/defaults.js';
import { compiledFixture } from '../helpers.js';

describe('revert facts', () => {
  // status.promotedRevisions, newest (the stable revision) first.
  const promoted = ['c', 'b', 'a'];
  it.each([
    ['the revision promoted just before the stable one', 2, 'b', { known: true, revision: 'b', promotionsAgo: 1 }],
    ['two promotions ago, within the depth', 2, 'a', { known: true, revision: 'a', promotionsAgo: 2 }],
    ['two promotions ago, beyond a depth of 1', 1, 'a', NO_REVERT],
    ['the stable revision itself is no revert', 2, 'c', NO_REVERT],
    ['a revision never promoted', 2, 'd', NO_REVERT],
    ['no canary', 2, null, NO_REVERT],
    ['off (depth 0)', 0, 'b', NO_REVERT],
  ])('%s', (_, depth, canary, expected) => {
    expect(revertFacts(depth, promoted, canary)).toEqual(expected);
  });

  it.each([
    ['a new stable revision goes first, depth + 1 kept', 2, ['c', 'b', 'a'], 'd', ['d', 'c', 'b']],
    ['a revert moves the revision to the front, not twice', 2, ['c', 'b', 'a'], 'b', ['b', 'c', 'a']],
    ['the first one (adoption)', 3, [], 'a', ['a']],
    ['off: nothing kept', 0, ['c'], 'd', undefined],
  ])('%s', (_, depth, before, stable, expected) => {
    expect(rememberPromoted(depth, before, stable)).toEqual(expected);
  });
});

describe('the fast-revert rule', () => {
  const policy = compiledFixture('policies/checkout.yaml');
  const REVERT = revertFacts(3, ['c', 'b'], 'b');
  const BERLIN: WindowsSpec = [{ deny: { schedule: '0 16 * * 5', duration: '64h', timeZone: 'Europe/Berlin' } }];
  const FROZEN = windowFacts(BERLIN, Date.parse('2026-12-05T12:00:00Z'));
  it.each([
    ['a known revision is promoted at step 0, soak not over', { revert: REVERT }, 'promote', 'fast-revert'],
    ['an unknown one walks the steps (the soak holds)', { revert: NO_REVERT }, 'hold', 'soak'],
    [
      'a breach still rolls back',
      { revert: REVERT, checks: { 'error-rate': { value: 0.5 } } },
      'rollback',
      'check-breach',
    ],
    ['an abort still rolls back', { revert: REVERT, override: 'abort' }, 'rollback', 'override-abort'],
    ['a pause still pauses', { revert: REVERT, override: 'pause' }, 'pause', 'manual-pause'],
    ['a freeze holds it', { revert: REVERT, window: FROZEN }, 'hold', 'window'],
  ] as const)('%s', async (_, partial, action, rule) => {
    const snapshot = mergeSnapshot(defaultSnapshot(policy.spec, 0), partial);
    expect(parseSnapshot(snapshot).issues).toEqual([]);
    const decision = await decide(policy, snapshot);
    expect(decision.action).toBe(action);
    expect(decision.reasons[0]?.rule).toBe(rule);
  });

  it('says to which revision, and how many promotions ago', async () => {
    const decision = await decide(policy, mergeSnapshot(defaultSnapshot(policy.spec, 0), { revert: REVERT }));
    expect(decision.reasons[0]).toEqual({
      rule: 'fast-revert',
      message: 'revert to revision b, promoted 1 promotion(s) ago: promoted at once, without steps',
    });
  });
});
