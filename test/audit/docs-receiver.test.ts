import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecorder } from '../../src/pipeline/record/audit/index.js';
import { parseChainText } from '../../src/pipeline/record/audit/parse.js';
import { verifyChain } from '../../src/pipeline/record/audit/verify.js';
import { systemClock } from '../../src/lib/clock/clock.js';
import { silentLogger } from '../../src/lib/log/logger.js';
import type { Sandbox } from '@kubestead/sandbox';
import { staticSecretReader } from '../../src/adapters/secrets/reader.js';
import { ROOT } from '../helpers.js';
import { waitFor } from '../support/wait.js';
import { auditSandbox, createPolicy } from './cluster.js';
import { chainOf, recordOf } from './records.js';
import { newSecret } from './receiver.js';

/** The code block of docs/audit.md whose info string names the file. */
async function docsBlock(file: string): Promise<string> {
  const text = await readFile(resolve(ROOT, 'docs/audit.md'), 'utf8');
  const match = new RegExp(`\`\`\`js ${file.replace('.', '\\.')}\\n([\\s\\S]*?)\`\`\``).exec(text);
  if (!match?.[1]) throw new Error(`docs/audit.md has no \`\`\`js ${file} block`);
  return match[1];
}

describe('the receiver and verifier of docs/audit.md, run as written', () => {
  let sandbox: Sandbox;
  let dir: string;
  let child: ChildProcess;
  let url: string;
  const [current, previous] = [newSecret(), newSecret()];
  const post = (body: string, headers: Record<string, string>) =>
    fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

  beforeAll(async () => {
    sandbox = await auditSandbox();
    // Inside node_modules, so that the receiver's imports resolve to this repository's packages.
    dir = await mkdtemp(join(ROOT, 'node_modules', '.audit-receiver-'));
    await writeFile(join(dir, 'receiver.mjs'), await docsBlock('receiver.mjs'));
    child = spawn(process.execPath, [join(dir, 'receiver.mjs')], {
      env: { ...process.env, WEBHOOK_SECRETS: `${current} ${previous}`, PORT: '0', OUT: join(dir, 'received.jsonl') },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    const port = await waitFor(() => /listening on (\d+)/.exec(output)?.[1], 20_000, 'the docs receiver');
    url = `http://127.0.0.1:${port}/`;
  });
  afterAll(async () => {
    child?.kill();
    await rm(dir, { recursive: true, force: true });
    await sandbox?.close();
  });

  it("takes the recorder's deliveries (signed with the previous secret during rotation), and the result verifies against the head", async () => {
    const policy = await createPolicy(sandbox, 'docs', 'checkout');
    const recorder = new AuditRecorder(sandbox.kubeConfig(), systemClock, silentLogger, {
      webhook: { url, format: 'json', secretRef: { namespace: 'kubestead', name: 'siem', key: 'hmac' } },
      secrets: staticSecretReader({ 'kubestead/siem/hmac': previous }),
      delivery: { batchSize: 2 },
    });
    let head = '';
    for (let i = 0; i < 5; i += 1)
      head = (
        await recorder.record(recordOf(i === 4 ? 'rollback' : 'advance', i % 4, i, { policy, revision: `r${i}` }))
      ).head!;
    await waitFor(
      async () =>
        (await readFile(join(dir, 'received.jsonl'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length === 5,
      10_000,
      'five entries',
    );
    await recorder.deliveriesIdle();
    await recorder.stop();
    const received = await readFile(join(dir, 'received.jsonl'), 'utf8');
    expect(verifyChain(parseChainText(received, 'received.jsonl'), { head, policy: 'docs/checkout' })).toMatchObject({
      ok: true,
      entries: 5,
    });
  });

  it('refuses a replay older than 300 s and a wrong signature; a current one is accepted and deduplicated', async () => {
    const { entries } = chainOf(2);
    const body = JSON.stringify({ source: 'kubestead', entries });
    const id = entries.at(-1)!.hash;
    const signed = (secret: string, at: Date) => ({
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, at, body),
    });
    const old = new Date(Date.now() - 301_000);
    expect((await post(body, signed(current, old))).status).toBe(401);
    expect((await post(body, signed(newSecret(), new Date()))).status).toBe(401);
    const tampered = { ...signed(current, new Date()) };
    expect((await post(body.replace('advance', 'promote'), tampered)).status).toBe(401);
    expect((await post(body, signed(current, new Date()))).status).toBe(204);
    expect((await post(body, signed(current, new Date()))).status).toBe(204);
    const lines = (await readFile(join(dir, 'received.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(lines.filter((l) => l.includes(`"hash":"${entries[0]!.hash}"`))).toHaveLength(1);
    expect(lines.filter((l) => l.includes(`"hash":"${entries[1]!.hash}"`))).toHaveLength(1);
  });
});
