import { describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../../src/tools/cli/args.js';
import { parseRunArgs, RUN_OPTIONS } from '../../src/tools/cli/run.js';
import { UsageError } from '../../src/tools/cli/usage-error.js';

const parse = (args: string[]) => parseRunArgs(parseCommandArgs(args, RUN_OPTIONS)).secretTtlMs;

describe('kubestead run --secret-ttl', () => {
  it.each([
    [[], undefined],
    [['--secret-ttl', '1s'], 1_000],
    [['--secret-ttl', '500ms'], 500],
    [['--secret-ttl', '2m'], 120_000],
  ])('%j', (args, expected) => {
    expect(parse(args)).toBe(expected);
  });

  it.each([['0s'], ['30'], ['soon']])('%s is refused with a one-line usage error', (value) => {
    expect(() => parse(['--secret-ttl', value])).toThrow(UsageError);
    expect(() => parse(['--secret-ttl', value])).toThrow(
      `--secret-ttl: expected a positive duration like 30s, got ${JSON.stringify(value)}`,
    );
  });
});
