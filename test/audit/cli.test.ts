import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecorder } from '../../src/pipeline/record/audit/index.js';
import { systemClock } from '../../src/lib/clock/clock.js';
import { silentLogger } from '../../src/lib/log/logger.js';
import type { Sandbox } from '@kubestead/sandbox';
import { kubestead } from './run-cli.js';
import { auditSandbox, createPolicy } from './cluster.js';
import { chainOf, recordOf } from './records.js';

describe('kubestead audit verify', { timeout: 120_000 }, () => {
  let dir: string;
  const { entries, text } = chainOf(6);
  const file = (name: string) => join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'audit-cli-'));
    await writeFile(file('good.jsonl'), text);
    const lines = text.trimEnd().split('\n');
    await writeFile(file('swapped.jsonl'), `${[lines[0], lines[2], lines[1], ...lines.slice(3)].join('\n')}\n`);
    await writeFile(file('cut.jsonl'), `${lines.slice(0, 4).join('\n')}\n`);
    await writeFile(file('empty.jsonl'), '');
    await writeFile(file('words.txt'), 'this is not an audit chain\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('an untouched chain: exit 0 and a summary line', async () => {
    const run = await kubestead(['audit', 'verify', file('good.jsonl'), '--head', entries.at(-1)!.hash]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(`OK shop/checkout: 6 entries, seq 0..5, head ${entries.at(-1)!.hash}\n`);
  });

  it('reads standard input with -', async () => {
    expect((await kubestead(['audit', 'verify', '-'], { input: text })).code).toBe(0);
  });

  it('a reordered chain: exit 1, the entry named', async () => {
    const run = await kubestead(['audit', 'verify', file('swapped.jsonl')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('FAIL shop/checkout: line 2 (seq 2): reordered: it follows seq 1, which is at line 3\n');
  });

  it('a cut tail: exit 1 against the head; valid to seq C, k entries unverifiable with its seq', async () => {
    const head = entries.at(-1)!.hash;
    const run = await kubestead(['audit', 'verify', file('cut.jsonl'), '--head', head]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `line 4 (seq 3): truncated: valid to seq 3 (${entries[3]!.hash}); the entries after it`,
    );
    const counted = await kubestead(['audit', 'verify', file('cut.jsonl'), '--head', head, '--head-seq', '5']);
    expect(counted.code).toBe(1);
    expect(counted.stdout).toBe(
      `FAIL shop/checkout: line 4 (seq 3): truncated: valid to seq 3 (${entries[3]!.hash}); 2 entries after it ` +
        `(seq 4..5, up to the head ${head}) are unverifiable: not in the file (the SIEM's copy holds them)\n`,
    );
  });

  it.each([
    [['empty.jsonl'], /^kubestead audit: .*empty\.jsonl: empty: no audit entries$/],
    [['words.txt'], /^kubestead audit: .*words\.txt: not an audit chain in JSON Lines: line 1 is not valid JSON$/],
    [
      ['good.jsonl', '--policy', 'shop/payments'],
      /^kubestead audit: the file is the chain of shop\/checkout \(uid [^)]+\), not of shop\/payments$/,
    ],
    [['missing.jsonl'], /^kubestead audit: cannot read .*missing\.jsonl: no such file$/],
  ])('bad input %j: exit 2, one clear line', async (args, message) => {
    const [name, ...rest] = args;
    const run = await kubestead(['audit', 'verify', file(name!), ...rest]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`${run.stderr.split('\n')[0]}\nRun 'kubestead help audit' for usage.\n`);
    expect(run.stderr.split('\n')[0]).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('bad arguments: exit 2 with the help', async () => {
    const run = await kubestead(['audit', 'verify', file('good.jsonl'), '--head', 'xyz']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--head: expected a 64-digit hex SHA-256, got "xyz"');
    expect((await kubestead(['audit', 'verify', file('good.jsonl'), '--head-seq', '5'])).stderr).toContain(
      '--head-seq: expected a sequence number with --head, got "5"',
    );
    expect((await kubestead(['audit', 'frobnicate'])).stderr).toContain(
      'expected "export", "verify" or "replay", got "frobnicate"',
    );
  });
});

describe('kubestead audit export', { timeout: 180_000 }, () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await auditSandbox();
  });
  afterAll(() => sandbox?.close());

  it('prints the chain from the cluster as JSON Lines, which verifies against the head', async () => {
    const policy = await createPolicy(sandbox, 'shop', 'exported');
    const recorder = new AuditRecorder(sandbox.kubeConfig(), systemClock, silentLogger, { segmentBytes: 5000 });
    let head = '';
    for (let i = 0; i < 6; i += 1)
      head = (
        await recorder.record(recordOf(i === 5 ? 'rollback' : 'advance', i % 4, i, { policy, revision: `r${i}` }))
      ).head!;
    const env = { KUBECONFIG: sandbox.kubeconfigPath };
    const exported = await kubestead(['audit', 'export', 'exported', '-n', 'shop'], { env });
    expect(exported.code).toBe(0);
    expect(exported.stdout.trimEnd().split('\n')).toHaveLength(6);
    const verified = await kubestead(['audit', 'verify', '-', '--head', head, '--policy', 'shop/exported'], {
      input: exported.stdout,
    });
    expect(verified).toMatchObject({ code: 0, stdout: expect.stringMatching(/^OK shop\/exported: 6 entries/) });
    const since = await kubestead(['audit', 'export', 'exported', '-n', 'shop', '--since', '2026-11-26T10:03:00Z'], {
      env,
    });
    expect(
      since.stdout
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { seq: number }).seq),
    ).toEqual([3, 4, 5]);
    expect((await kubestead(['audit', 'verify', '-', '--partial'], { input: since.stdout })).code).toBe(0);
    const none = await kubestead(['audit', 'export', 'nothing', '-n', 'shop'], { env });
    expect(none).toMatchObject({
      code: 2,
      stderr: "kubestead audit: no audit chain for RolloutPolicy shop/nothing\nRun 'kubestead help audit' for usage.\n",
    });
    const dead = join(dirname(sandbox.kubeconfigPath), 'dead-kubeconfig');
    await writeFile(dead, sandbox.kubeconfig.replace(sandbox.url, 'https://127.0.0.1:1'));
    const unreachable = await kubestead(['audit', 'export', 'exported', '-n', 'shop'], { env: { KUBECONFIG: dead } });
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr.split('\n')[0]).toMatch(/^kubestead audit: cannot read from the cluster: .*ECONNREFUSED/);
  });
});
