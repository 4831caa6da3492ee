import { describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../../src/tools/cli/args.js';
import { parseRunArgs, RUN_OPTIONS } from '../../src/tools/cli/run.js';
import { UsageError } from '../../src/tools/cli/usage-error.js';

const parse = (args: string[]) => parseRunArgs(parseCommandArgs(args, RUN_OPTIONS)).notify;
const ref = (namespace: string, name: string, key: string) => ({ secretRef: { namespace, name, key } });

describe('kubestead run: operator-wide notification destinations', () => {
  it.each([
    ['no flags: none', [], []],
    [
      'Slack and Teams, every event',
      ['--notify-slack', 'ops/hooks/slack', '--notify-teams', 'ops/hooks/teams'],
      [
        { name: 'default-slack', kind: 'slack', url: ref('ops', 'hooks', 'slack') },
        { name: 'default-teams', kind: 'teams', url: ref('ops', 'hooks', 'teams') },
      ],
    ],
    [
      'a signed webhook, some events',
      [
        '--notify-webhook',
        'ops/hooks/generic',
        '--notify-webhook-signing',
        'ops/hooks/signing',
        '--notify-events',
        'promoted, rolledBack',
      ],
      [
        {
          name: 'default-webhook',
          kind: 'webhook',
          url: ref('ops', 'hooks', 'generic'),
          signingSecretRef: { namespace: 'ops', name: 'hooks', key: 'signing' },
          on: ['promoted', 'rolledBack'],
        },
      ],
    ],
  ])('%s', (_name, args, expected) => {
    expect(parse(args)).toEqual(expected);
  });

  it.each([
    [['--notify-slack', 'hooks/slack'], /--notify-slack: expected NAMESPACE\/SECRET\/KEY, got "hooks\/slack"/],
    [['--notify-webhook', 'ops/hooks/generic'], /--notify-webhook needs --notify-webhook-signing/],
    [['--notify-webhook-signing', 'ops/hooks/signing'], /--notify-webhook-signing needs --notify-webhook/],
    [['--notify-slack', 'ops/h/s', '--notify-events', 'promoted,shipped'], /--notify-events: .*got "shipped"/],
    [['--notify-events', 'promoted'], /--notify-events needs --notify-slack/],
  ])('%j is bad input', (args, message) => {
    expect(() => parse(args)).toThrow(UsageError);
    expect(() => parse(args)).toThrow(message);
  });
});
