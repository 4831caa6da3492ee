import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '@kubestead/sandbox';
import { main } from '../../src/tools/cli/main.js';
import { waitFor } from '../support/wait.js';

const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubestead-sandbox-cli-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('kubestead sandbox', () => {
  it('prints the export line, serves the kubeconfig it wrote, saves --state and stops on SIGTERM', async () => {
    const kubeconfig = join(dir, 'sb.kubeconfig');
    const state = join(dir, 'state.json');
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'bin', 'kubestead'),
        'sandbox',
        '--kubeconfig',
        kubeconfig,
        '--state',
        state,
        '--ready-delay',
        '50',
      ],
      { cwd: dir },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    try {
      await waitFor(() => out.includes('export KUBECONFIG='), 20_000, 'the export line');
      expect(out).toContain(`export KUBECONFIG=${kubeconfig}\n`);
      expect(out).toMatch(/listening on https:\/\/127\.0\.0\.1:\d+/);
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfig);
      expect(kc.getCurrentCluster()?.caData).toBeTruthy();
      const core = kc.makeApiClient(CoreV1Api);
      await core.createNamespacedConfigMap({
        namespace: 'default',
        body: { metadata: { name: 'kept' }, data: { a: '1' } },
      });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const saved = JSON.parse(await readFile(state, 'utf8')) as {
      objects: Array<{ object: { metadata: { name: string } } }>;
    };
    expect(saved.objects.map((o) => o.object.metadata.name)).toContain('kept');

    // the state file seeds a new sandbox
    const again = await startSandbox({ statePath: state, workloads: false });
    try {
      const core = again.kubeConfig().makeApiClient(CoreV1Api);
      const cm = await core.readNamespacedConfigMap({ name: 'kept', namespace: 'default' });
      expect(cm.data).toEqual({ a: '1' });
      const created = await core.createNamespacedConfigMap({
        namespace: 'default',
        body: { metadata: { name: 'newer' } },
      });
      expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(Number(cm.metadata?.resourceVersion));
    } finally {
      await again.close();
    }
  });

  it('refuses bad options with exit code 2', async () => {
    expect(await main(['sandbox', '--port', 'x'])).toBe(2);
    expect(await main(['sandbox', '--bogus'])).toBe(2);
  });

  it('refuses a --state file that is not a sandbox state with exit 2 and one line naming it', async () => {
    const file = join(dir, 'not-state.json');
    await writeFile(file, '{"objects": 1}');
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = (chunk: string) => {
      errors.push(String(chunk));
      return true;
    };
    try {
      expect(await main(['sandbox', '--state', file, '--kubeconfig', join(dir, 'unused.kubeconfig')])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(errors.join('')).toContain(`kubestead sandbox: ${file}: not a sandbox state file\n`);
  });

  it('refuses a bad --rbac users file with one error naming the file and entry', async () => {
    const file = join(dir, 'bad-users.yaml');
    await writeFile(file, 'users:\n  - {name: alice, groups: dev}\n');
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = (chunk: string) => {
      errors.push(String(chunk));
      return true;
    };
    try {
      expect(await main(['sandbox', '--rbac', file])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(errors.join('')).toContain(`${file}: users[0].groups must be a list of strings`);
  });

  it('--rbac enforces RBAC for the users of the file, each with a kubeconfig', async () => {
    const users = join(dir, 'users.yaml');
    await writeFile(users, 'users:\n  - name: alice\n    groups: [developers]\n    token: alice-token-123\n');
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'bin', 'kubestead'), 'sandbox', '--kubeconfig', join(dir, 'rbac.kubeconfig'), '--rbac', users],
      { cwd: dir },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    try {
      await waitFor(() => out.includes('export KUBECONFIG='), 20_000, 'the export line');
      const path = /alice: (\S+)/.exec(out)?.[1];
      expect(path).toBeDefined();
      expect(out).not.toContain('alice-token-123');
      const kc = new KubeConfig();
      kc.loadFromFile(path!);
      const denied = await kc
        .makeApiClient(CoreV1Api)
        .listNamespacedConfigMap({ namespace: 'default' })
        .catch((e: unknown) => e);
      expect((denied as { code?: number }).code).toBe(403);
      const admin = new KubeConfig();
      admin.loadFromFile(join(dir, 'rbac.kubeconfig'));
      await expect(
        admin.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: 'default' }),
      ).resolves.toBeDefined();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
