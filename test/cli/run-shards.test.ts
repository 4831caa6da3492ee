import { describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../../src/tools/cli/args.js';
import { parseRunArgs, RUN_OPTIONS } from '../../src/tools/cli/run.js';
import { UsageError } from '../../src/tools/cli/usage-error.js';
import { parseShardSelector } from '../../src/runtime/controller/shard-assignment.js';

const parse = (args: string[]) => {
  const out = parseRunArgs(parseCommandArgs(args, RUN_OPTIONS));
  return { shards: out.shards, shardSelector: out.shardSelector };
};

describe('kubestead run --shards and --shard-selector', () => {
  it.each([
    [[], { shards: false, shardSelector: undefined }],
    [['--shards', 'auto'], { shards: true, shardSelector: undefined }],
    [['--shard-selector', 'team=shop'], { shards: false, shardSelector: { team: 'shop' } }],
    [
      ['--shards', 'auto', '--shard-selector', 'team=shop, tier=1'],
      { shards: true, shardSelector: { team: 'shop', tier: '1' } },
    ],
  ])('%j', (args, expected) => {
    expect(parse(args)).toEqual(expected);
  });

  it.each([
    [['--shards', 'on'], '--shards: expected auto, got "on"'],
    [['--shard-selector', 'team'], '--shard-selector: expected LABEL=VALUE'],
    [['--shard-selector', 'a=b=c'], '--shard-selector: expected LABEL=VALUE'],
    [['--shard-selector', 'a=b,,c=d'], '--shard-selector: expected LABEL=VALUE'],
  ])('%j is refused with a one-line usage error', (args, message) => {
    expect(() => parse(args)).toThrow(UsageError);
    expect(() => parse(args)).toThrow(message);
  });

  it('parseShardSelector trims the pairs', () => {
    expect(parseShardSelector(' app = web ,team=shop')).toEqual({ app: 'web', team: 'shop' });
  });

  const timing = (args: string[]) => parseRunArgs(parseCommandArgs(args, RUN_OPTIONS)).leaseTiming;

  it.each([
    [[], {}],
    [['--lease-duration', '30s'], { leaseDurationMs: 30_000 }],
    [
      ['--lease-duration', '2s', '--renew-deadline', '1500ms', '--retry-period', '250ms'],
      { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 250 },
    ],
    [['--retry-period', '1s'], { retryPeriodMs: 1000 }],
  ])('Lease timing %j', (args, expected) => {
    expect(timing(args)).toEqual(expected);
  });

  it.each([
    [['--lease-duration', 'soon'], '--lease-duration: expected a positive duration like 2s or 500ms, got "soon"'],
    [['--retry-period', '0s'], '--retry-period: expected a positive duration like 2s or 500ms, got "0s"'],
    [['--lease-duration', '2500ms'], '--lease-duration: expected whole seconds (the Lease records seconds), got 2.5s'],
    [['--lease-duration', '5s'], '--renew-deadline (10s) must be shorter than --lease-duration (5s)'],
    [['--renew-deadline', '15s'], '--renew-deadline (15s) must be shorter than --lease-duration (15s)'],
    [
      ['--lease-duration', '2s', '--renew-deadline', '1s', '--retry-period', '1s'],
      '--retry-period (1s) must be shorter than --renew-deadline (1s)',
    ],
  ])('Lease timing %j is refused with a one-line usage error', (args, message) => {
    expect(() => timing(args)).toThrow(UsageError);
    expect(() => timing(args)).toThrow(message);
  });
});
