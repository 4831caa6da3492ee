import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/lib/clock/clock.js';
import { followRollout } from '../../src/tools/view/wait.js';
import type { PolicyObjectView } from '../../src/tools/view/document.js';

/** A clock whose every sleep passes at once (the time moves by the sleep): the readings are the script. */
function steppingClock(): Clock {
  let now = Date.parse('2026-11-26T10:00:00Z');
  return { now: () => now, sleep: (ms) => ((now += ms), Promise.resolve()) };
}

const at = (phase: string, canaryRevision = 'r1'): PolicyObjectView => ({
  status: { phase: phase as never, canaryRevision },
});

describe('status --wait: which rollout it follows and how it ended', () => {
  it.each([
    [
      'a rollout in progress that is promoted',
      [at('Progressing'), at('Paused'), at('Promoting'), at('Succeeded')],
      'promoted',
      4,
    ],
    ['a rollout in progress that rolls back', [at('Progressing'), at('RolledBack')], 'rolledBack', 2],
    ['an abort (Failed too)', [at('Paused'), at('Failed')], 'rolledBack', 2],
    [
      'none in progress: the next one, not the last one',
      [at('Succeeded', 'r0'), at('Succeeded', 'r0'), at('Progressing'), at('RolledBack')],
      'rolledBack',
      4,
    ],
    [
      'the next one, even when it ended between two readings',
      [at('RolledBack', 'r0'), at('Succeeded', 'r1')],
      'promoted',
      2,
    ],
    [
      'not adopted yet: the first rollout',
      [at('Idle', undefined), at('Idle'), at('Progressing'), at('Succeeded')],
      'promoted',
      4,
    ],
  ])('%s', async (_name, readings, outcome, reads) => {
    let read = 0;
    const result = await followRollout({
      read: () => Promise.resolve(readings[Math.min(read++, readings.length - 1)]!),
      clock: steppingClock(),
      intervalMs: 1000,
      timeoutMs: null,
    });
    expect(result).toBe(outcome);
    expect(read).toBe(reads);
  });

  it('gives up at the timeout with the rollout still in progress or awaiting approval', async () => {
    const clock = steppingClock();
    const started = clock.now();
    let reads = 0;
    const result = await followRollout({
      read: () => (reads++, Promise.resolve(at('Paused'))),
      clock,
      intervalMs: 1000,
      timeoutMs: 5500,
    });
    expect(result).toBe('timeout');
    expect(clock.now() - started).toBe(5500);
    expect(reads).toBe(7);
  });
});
