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
});
