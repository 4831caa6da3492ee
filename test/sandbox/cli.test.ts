import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/index.js';
import { main } from '../../src/cli/main.js';
import { waitFor } from './support.js';

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
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'kubestead'), 'sandbox', '--kubeconfig', kubeconfig, '--state', state, '--ready-delay', '50'], { cwd: dir });
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
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'kept' }, data: { a: '1' } } });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const saved = JSON.parse(await readFile(state, 'utf8')) as { objects: Array<{ object: { metadata: { name: string } } }> };
    expect(saved.objects.map((o) => o.object.metadata.name)).toContain('kept');

    // the state file seeds a new sandbox
    const again = await startSandbox({ statePath: state, workloads: false });
    try {
      const core = again.kubeConfig().makeApiClient(CoreV1Api);
      const cm = await core.readNamespacedConfigMap({ name: 'kept', namespace: 'default' });
      expect(cm.data).toEqual({ a: '1' });
      const created = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'newer' } } });
      expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(Number(cm.metadata?.resourceVersion));
    } finally {
      await again.close();
    }
  });

  it('refuses bad options with exit code 2', async () => {
    expect(await main(['sandbox', '--port', 'x'])).toBe(2);
    expect(await main(['sandbox', '--bogus'])).toBe(2);
  });
});
