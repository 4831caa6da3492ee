import { describe, expect, it } from 'vitest';
import { RATE_DEFAULTS, RateLimit } from '../../src/pipeline/record/notify/rate.js';

/** When each of `count` messages, all ready at 0, goes out (each sent as soon as the limit lets it). */
function sendTimes(limit: RateLimit, count: number): number[] {
  const times: number[] = [];
  let now = 0;
  for (let i = 0; i < count; i++) {
    now += limit.waitMs(now);
    limit.sent(now);
    times.push(now);
  }
  return times;
}

describe('the rate limit per destination', () => {
  it('documents one message a second and 20 a minute', () => {
    expect(RATE_DEFAULTS).toEqual({ minIntervalMs: 1000, perMinute: 20 });
  });

  it.each([
    ['the first message at once', [], 0, 0],
    ['one second after the previous one', [0], 500, 500],
    ['nothing to wait once the second is past', [0], 1000, 0],
    [
      'the 21st in a minute waits for the first to leave the window',
      Array.from({ length: 20 }, (_, i) => i * 1000),
      19_000 + 1000,
      40_000,
    ],
    ['a quiet minute later, at once', Array.from({ length: 20 }, (_, i) => i * 1000), 80_000, 0],
  ])('%s', (_name, sent, now, wait) => {
    const limit = new RateLimit();
    for (const at of sent) limit.sent(at);
    expect(limit.waitMs(now)).toBe(wait);
  });

  it('a burst of 50 events: never two within a second, never more than 20 in any minute, none dropped', () => {
    const times = sendTimes(new RateLimit(), 50);
    expect(times).toHaveLength(50);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1000);
    for (let i = 20; i < times.length; i++) expect(times[i]! - times[i - 20]!).toBeGreaterThanOrEqual(60_000);
    expect(times.slice(0, 3)).toEqual([0, 1000, 2000]);
    expect(times[20]).toBe(60_000);
  });
});
