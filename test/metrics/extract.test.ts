import { describe, expect, it } from 'vitest';
import { evaluateValue, finiteNumber } from '../../src/adapters/providers/extract.js';

describe('finite numbers only', () => {
  it.each([
    [0.25, 0.25],
    ['0.25', 0.25],
    [' 3 ', 3],
    ['1e-3', 0.001],
    [0, 0],
    ['-2', -2],
  ])('%j → %d', (input, expected) => {
    expect(finiteNumber(input, 'x')).toBe(expected);
  });

  it.each([
    ['NaN', 'x is NaN (no data, or 0/0)'],
    [Number.NaN, 'x is NaN (no data, or 0/0)'],
    ['+Inf', 'x is +Inf (a division by zero?)'],
    ['Inf', 'x is +Inf (a division by zero?)'],
    ['-Inf', 'x is -Inf (a division by zero?)'],
    [Number.POSITIVE_INFINITY, 'x is +Inf (a division by zero?)'],
    [null, 'x is null (no data), not a number'],
    [undefined, 'x is nothing, not a number'],
    ['', 'x is "", not a number'],
    ['12abc', 'x is "12abc", not a number'],
    [true, 'x is true, not a number'],
    [[1], 'x is a list of 1, not a number'],
    [{ a: 1 }, 'x is an object, not a number'],
  ])('%j is refused: %s', (input, message) => {
    expect(() => finiteNumber(input, 'x')).toThrow(message);
  });
});

describe('value expressions', () => {
  const data = { results: [{ score: 0.93, count: 10 }, { score: null }], list: [1, 2, 3] };

  it('reads one number', async () => {
    await expect(evaluateValue('results[0].score', data)).resolves.toEqual({ value: 0.93, raw: 0.93 });
    await expect(evaluateValue('$sum(list)', data)).resolves.toEqual({ value: 6, raw: 6 });
  });

  it.each([
    ['list', 'value expression "list" gave 3 values where one was expected'],
    ['results.score', 'value expression "results.score" gave'],
    ['results[5].score', 'value expression "results[5].score" matched nothing'],
    ['results[1].score', 'value of "results[1].score" is null (no data), not a number'],
    ['results[0]', 'value of "results[0]" is an object, not a number'],
    ['results[0].score / 0', 'value of "results[0].score / 0" is +Inf (a division by zero?)'],
    ['$number("abc")', 'value expression "$number(\\"abc\\")" failed: Unable to cast value to a number'],
    ['results[', 'invalid value expression "results["'],
  ])('%s is refused', async (expression, message) => {
    await expect(evaluateValue(expression, data)).rejects.toThrow(message);
  });
});
