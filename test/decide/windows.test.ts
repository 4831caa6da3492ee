import { describe, expect, it } from 'vitest';
import { decide } from '../../src/pipeline/decide/decide.js';
import { OPEN_WINDOW, windowFacts, type WindowFacts } from '../../src/pipeline/facts/windows.js';
import { parseSnapshot } from '../../src/pipeline/facts/snapshot.js';
import type { WindowsSpec } from '../../src/pipeline/policy/windows.js';
import { defaultSnapshot, mergeSnapshot } from '../../src/tools/policytest/defaults.js';
import { compiledFixture } from '../helpers.js';

const berlin = compiledFixture('policies/release-windows.yaml');
const BERLIN = berlin.spec.windows as WindowsSpec;
const DENY = 'inside the deny window "0 16 * * 5" (Europe/Berlin, 64h)';
const OUTSIDE = 'outside the allow window "0 9 * * 1-4" (Europe/Berlin, 8h)';
const MONDAY_9_BERLIN = '2026-12-07T08:00:00.000Z';

const frozen = (reason: string, opensAt: string | null): WindowFacts => ({ frozen: true, reason, opensAt });

describe('window facts', () => {
  // 2026-12-04 is a Friday; Berlin is UTC+1 in December, UTC+2 in summer.
  it.each([
    [
      'Friday 11:00 Berlin, outside every allow window',
      BERLIN,
      '2026-12-04T10:00:00Z',
      frozen(OUTSIDE, MONDAY_9_BERLIN),
    ],
    ['Thursday 10:00 Berlin, inside the allow window', BERLIN, '2026-12-03T09:00:00Z', OPEN_WINDOW],
    ['Thursday 16:59:59 Berlin, the last second allowed', BERLIN, '2026-12-03T15:59:59Z', OPEN_WINDOW],
    [
      'Thursday 17:00 Berlin, the allow window has closed',
      BERLIN,
      '2026-12-03T16:00:00Z',
      frozen(OUTSIDE, '2026-12-07T08:00:00.000Z'),
    ],
    ['Friday 16:00 Berlin, the deny window starts', BERLIN, '2026-12-04T15:00:00Z', frozen(DENY, MONDAY_9_BERLIN)],
    ['Sunday noon, inside the deny window', BERLIN, '2026-12-06T11:00:00Z', frozen(DENY, MONDAY_9_BERLIN)],
    [
      'Monday 08:30 Berlin: the deny window is over, the allow window not yet open',
      BERLIN,
      '2026-12-07T07:30:00Z',
      frozen(OUTSIDE, MONDAY_9_BERLIN),
    ],
    ['Monday 09:00 Berlin, open', BERLIN, MONDAY_9_BERLIN, OPEN_WINDOW],
    [
      'a deny window alone, in summer time (UTC+2)',
      [{ deny: { schedule: '0 16 * * 5', duration: '64h', timeZone: 'Europe/Berlin' } }],
      '2026-07-04T10:00:00Z',
      frozen(DENY, '2026-07-06T06:00:00.000Z'),
    ],
    [
      'a deny window alone, outside it',
      [{ deny: { schedule: '0 16 * * 5', duration: '64h', timeZone: 'Europe/Berlin' } }],
      '2026-12-03T10:00:00Z',
      OPEN_WINDOW,
    ],
    [
      'overlapping deny windows open at the later end',
      [
        { deny: { schedule: '0 12 * * *', duration: '2h', timeZone: 'UTC' } },
        { deny: { schedule: '30 13 * * *', duration: '1h', timeZone: 'UTC' } },
      ],
      '2026-12-03T12:10:00Z',
      frozen('inside the deny window "0 12 * * *" (UTC, 2h)', '2026-12-03T14:30:00.000Z'),
    ],
    [
      "a deny window longer than its schedule's period is always frozen",
      [{ deny: { schedule: '* * * * *', duration: '10m', timeZone: 'UTC' } }],
      '2026-12-03T12:10:00Z',
      frozen('inside the deny window "* * * * *" (UTC, 10m)', null),
    ],
    [
      'two allow windows, outside both',
      [
        { allow: { schedule: '0 9 * * *', duration: '1h', timeZone: 'UTC' } },
        { allow: { schedule: '0 14 * * *', duration: '1h', timeZone: 'UTC' } },
      ],
      '2026-12-03T11:00:00Z',
      frozen('outside every allow window', '2026-12-03T14:00:00.000Z'),
    ],
    ['no windows', [], '2026-12-03T11:00:00Z', OPEN_WINDOW],
  ])('%s', (_, windows, time, expected) => {
    expect(windowFacts(windows, Date.parse(time))).toEqual(expected);
  });

  it('gives a fact the snapshot schema accepts', () => {
    const window = windowFacts(BERLIN, Date.parse('2026-12-04T10:00:00Z'));
    const snapshot = { ...defaultSnapshot(berlin.spec, 0), window };
    expect(parseSnapshot(snapshot).issues).toEqual([]);
  });
});

describe('the window rule', () => {
  const FRIDAY = windowFacts(BERLIN, Date.parse('2026-12-04T10:00:00Z'));
  const THURSDAY = windowFacts(BERLIN, Date.parse('2026-12-03T09:00:00Z'));
  const soaked = { rollout: { stepElapsedSeconds: 300 } };
  it.each([
    ['a soaked step while frozen holds', FRIDAY, soaked, 0, 'hold', 'window'],
    ['the last step soaked while frozen is not promoted', FRIDAY, soaked, 1, 'hold', 'window'],
    ['a soaked step while open advances', THURSDAY, soaked, 0, 'advance', 'advance'],
    ['the last step soaked while open promotes', THURSDAY, soaked, 1, 'promote', 'advance'],
    [
      'a breach while frozen rolls back',
      FRIDAY,
      { checks: { 'error-rate': { value: 0.5 } } },
      0,
      'rollback',
      'check-breach',
    ],
    ['an abort while frozen rolls back', FRIDAY, { override: 'abort' }, 0, 'rollback', 'override-abort'],
    ['restarts while frozen roll back', FRIDAY, { rollout: { canary: { restarts: 9 } } }, 0, 'rollback', 'pod-health'],
    ['a pause while frozen pauses', FRIDAY, { override: 'pause' }, 0, 'pause', 'manual-pause'],
    ["a person's promote while frozen promotes", FRIDAY, { override: 'promote' }, 0, 'promote', 'override-promote'],
    ['a soak still running while frozen holds, the window first', FRIDAY, {}, 0, 'hold', 'window'],
  ])('%s', async (_, window, partial, step, action, rule) => {
    const snapshot = mergeSnapshot(defaultSnapshot(berlin.spec, step), { ...partial, window });
    const decision = await decide(berlin, snapshot);
    expect(decision.action).toBe(action);
    expect(decision.reasons[0]?.rule).toBe(rule);
  });

  it('says why and when the rollout may move again, the reason held back listed after it', async () => {
    const snapshot = mergeSnapshot(defaultSnapshot(berlin.spec, 0), {
      rollout: { stepElapsedSeconds: 300 },
      window: windowFacts(BERLIN, Date.parse('2026-12-05T12:00:00Z')),
    });
    expect((await decide(berlin, snapshot)).reasons).toEqual([
      {
        rule: 'window',
        message: `frozen ${DENY}: nothing starts, advances or is promoted until ${MONDAY_9_BERLIN}`,
      },
      { rule: 'advance', message: 'step 1/2 soaked 300s of 300s with every check in bounds' },
    ]);
  });

  it('is silent for a snapshot without a window fact (a policy without windows)', async () => {
    const snapshot = mergeSnapshot(defaultSnapshot(berlin.spec, 0), soaked);
    expect((await decide(berlin, snapshot)).action).toBe('advance');
  });
});
