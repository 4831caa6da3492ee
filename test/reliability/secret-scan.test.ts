import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { runOutput } from '../support/run-dir.js';
import { scanRun } from '../support/secret-scan.js';
import { mintSecret, mintWebhookSecret } from '../support/secrets.js';

const exec = promisify(execFile);
const dirs: string[] = [];
const freshRun = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'kubestead-scan-test-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('the end-of-suite secret scan', () => {
  const base64At = (secret: string, prefix: string, encoding: BufferEncoding): string =>
    Buffer.from(`${prefix}${secret}"}`).toString(encoding);

  it.each([
    ['plain in a JSON log line', (s: string) => `{"msg":"calling","authorization":"Bearer ${s}"}`, /^plain$/],
    ['base64, aligned', (s: string) => `data: ${base64At(s, '', 'base64')}`, /^base64$/],
    ['base64, one byte in', (s: string) => `data: ${base64At(s, '{', 'base64')}`, /^base64$/],
    ['base64, two bytes in', (s: string) => `data: ${base64At(s, '{"', 'base64')}`, /^base64$/],
    // base64url differs from base64 only where the encoding has + or /
    ['base64url inside a longer text', (s: string) => `t=${base64At(s, '{"k":"', 'base64url')}`, /^base64(url)?$/],
  ])('finds a minted secret written %s, naming the file', (_, write, form) => {
    const dir = freshRun();
    const secret = mintSecret('planted', dir);
    runOutput('operator-log', dir).append('{"msg":"started"}');
    const log = runOutput('operator-log', dir);
    log.append(write(secret));
    expect(scanRun(dir)).toEqual([
      { file: expect.stringMatching(/^out\/operator-log-\d+-\d+\.txt$/), secret, form: expect.stringMatching(form) },
    ]);
    expect(log.path.endsWith(scanRun(dir)[0]!.file)).toBe(true);
  });

  it('finds the key of a minted webhook secret, and nothing in output that holds only other text', () => {
    const dir = freshRun();
    const webhook = mintWebhookSecret('siem', dir);
    const key = Buffer.from(webhook.slice('whsec_'.length), 'base64').toString();
    runOutput('siem-body', dir).append('{"entries":[{"seq":1,"hash":"ab12"}]}');
    expect(scanRun(dir)).toEqual([]);
    runOutput('notification-body', dir).append(`{"text":"signed with ${webhook}"}`);
    expect(scanRun(dir)).toEqual([{ file: expect.stringContaining('notification-body'), secret: key, form: 'base64' }]);
  });

  it('fails a vitest run whose test planted a secret in a log, naming the file', async () => {
    const run = exec(
      process.execPath,
      [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'test/fixtures/secret-scan/vitest.config.ts'],
      { cwd: ROOT, env: { ...process.env, KUBESTEAD_DIST_BUILT: '1', CI: '' } },
    );
    const failure = await run.then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/secret scan: 1 planted secret value\(s\) found/);
    expect(failure?.stderr).toMatch(/out\/operator-log-\d+-\d+\.txt: KSSECRET-planted-[0-9a-f]{16} \(plain\)/);
    const kept = /found in what the product wrote \(([^)]+)\)/.exec(failure?.stderr ?? '')?.[1];
    if (kept) rmSync(kept, { recursive: true, force: true });
  });
});
