import { describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../../src/tools/cli/args.js';
import { parseRunArgs, RUN_OPTIONS } from '../../src/tools/cli/run.js';
import { kubestead } from './run-cli.js';

const parse = (args: string[]) => parseRunArgs(parseCommandArgs(args, RUN_OPTIONS));
const URL_FLAG = ['--audit-webhook', 'https://siem.example.com/ingest'];
const SECRET_FLAG = ['--audit-webhook-secret', 'kubestead-system/siem/signing'];

describe('kubestead run: the operator-wide SIEM destination', () => {
  it('is absent without --audit-webhook', () => {
    expect(parse([]).webhook).toBeUndefined();
  });

  it('--audit-backlog-limit sets the SIEM backlog cap (the recorder default, 1000, without it)', () => {
    expect(parse([]).backlogLimit).toBeUndefined();
    expect(parse(['--audit-backlog-limit', '50']).backlogLimit).toBe(50);
  });

  it('maps the flags to a destination: JSON by default, Secrets by namespace/name/key', () => {
    expect(parse([...URL_FLAG, ...SECRET_FLAG]).webhook).toEqual({
      url: 'https://siem.example.com/ingest',
      format: 'json',
      secretRef: { namespace: 'kubestead-system', name: 'siem', key: 'signing' },
    });
    expect(
      parse([...URL_FLAG, ...SECRET_FLAG, '--audit-webhook-format', 'splunk', '--audit-webhook-token', 'ops/hec/token'])
        .webhook,
    ).toEqual({
      url: 'https://siem.example.com/ingest',
      format: 'splunk',
      secretRef: { namespace: 'kubestead-system', name: 'siem', key: 'signing' },
      tokenSecretRef: { namespace: 'ops', name: 'hec', key: 'token' },
    });
  });

  it.each([
    [[...URL_FLAG], '--audit-webhook needs --audit-webhook-secret NS/NAME/KEY (the signing secret)'],
    [[...SECRET_FLAG], '--audit-webhook-secret needs --audit-webhook URL'],
    [['--audit-webhook', 'ftp://siem', ...SECRET_FLAG], '--audit-webhook: expected an http(s) URL'],
    [
      [...URL_FLAG, '--audit-webhook-secret', 'siem/signing'],
      '--audit-webhook-secret: expected NAMESPACE/SECRET/KEY, got "siem/signing"',
    ],
    [
      [...URL_FLAG, ...SECRET_FLAG, '--audit-webhook-format', 'xml'],
      '--audit-webhook-format: expected one of json, splunk, elasticsearch, got "xml"',
    ],
    [
      [...URL_FLAG, ...SECRET_FLAG, '--audit-webhook-format', 'splunk'],
      '--audit-webhook-format splunk needs --audit-webhook-token NS/NAME/KEY (the HEC token)',
    ],
    [['--audit-backlog-limit', '0'], '--audit-backlog-limit: expected a whole number of entries, 1 or more, got "0"'],
    [
      ['--audit-backlog-limit', '1e3'],
      '--audit-backlog-limit: expected a whole number of entries, 1 or more, got "1e3"',
    ],
  ])('refuses %j', (args, message) => {
    expect(() => parse(args)).toThrow(message);
  });

  it('refuses credentials in the URL without echoing them, as bad input from the real CLI', async () => {
    const result = await kubestead([
      'run',
      '--audit-webhook',
      'https://user:hunter2pw@siem.example.com/',
      ...SECRET_FLAG,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "kubestead run: --audit-webhook: credentials in the URL are refused; use --audit-webhook-token (a Secret)\nRun 'kubestead help run' for usage.\n",
    );
    expect(result.stderr + result.stdout).not.toContain('hunter2pw');
  });
});
