import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';

describe('waitFor: every falsy value means "not yet"', () => {
  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['false', false],
    ['0', 0],
    ["''", ''],
    ['NaN', Number.NaN],
  ])('a probe returning %s times out instead of succeeding', async (_, value) => {
    await expect(waitFor(() => value, 60, 'the value')).rejects.toThrow(/timed out waiting for the value/);
  });

  it.each<[string, unknown]>([
    ['true', true],
    ['1', 1],
    ["'x'", 'x'],
    ['an empty object', {}],
    ['an empty array', []],
  ])('a probe returning %s succeeds with that value', async (_, value) => {
    expect(await waitFor(() => value, 60)).toBe(value);
  });

  it('waits until a count becomes non-zero, and returns it', async () => {
    let count = 0;
    const counting = waitFor(() => count, 2000, 'the count');
    setTimeout(() => (count = 3), 50);
    expect(await counting).toBe(3);
  });

  it('names the last error a throwing probe gave', async () => {
    await expect(
      waitFor(
        () => {
          throw new Error('not there');
        },
        60,
        'the thing',
      ),
    ).rejects.toThrow('timed out waiting for the thing: not there');
  });
});
