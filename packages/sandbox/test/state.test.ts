import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, Watch, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxInputError, startSandbox, type Sandbox } from '../src/index.js';
import { raw, type Body } from '../../../test/support/sandbox.js';
import { waitFor } from '../../../test/support/wait.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubestead-sandbox-state-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

interface Seen {
  type: string;
  name?: string;
  object: Body;
}

/** A watch of default's ConfigMaps from `resourceVersion`, through a client that kept its KubeConfig. */
async function watchConfigMaps(kc: KubeConfig, resourceVersion: string, seen: Seen[]): Promise<() => void> {
  const controller = await new Watch(kc).watch(
    '/api/v1/namespaces/default/configmaps',
    { resourceVersion },
    (type, object: Body) => seen.push({ type, name: object.metadata?.name, object }),
    () => undefined,
  );
  return () => controller.abort();
}

describe('a sandbox restarted from --state', () => {
  it('keeps its CA, serving key, tokens and port in a mode-0600 file, so that clients carry on', async () => {
    const state = join(dir, 'identity.json');
    const first = await startSandbox({ statePath: state, workloads: false, timing: false });
    let second: Sandbox | undefined;
    try {
      // written at start, before any close: a killed sandbox keeps its identity too
      expect(await modeOf(state)).toBe(0o600);
      const saved = JSON.parse(await readFile(state, 'utf8'));
      expect(saved.identity).toMatchObject({ token: first.token, port: first.port, certs: { caCert: first.caCert } });
      const kept = first.kubeConfig(); // the client's config, kept across the restart
      const core = kept.makeApiClient(CoreV1Api);
      const before = await core.createNamespacedConfigMap({
        namespace: 'default',
        body: { metadata: { name: 'before' } },
      });
      await first.close();

      second = await startSandbox({ statePath: state, workloads: false, timing: false });
      expect(second.port).toBe(first.port);
      expect(second.caCert).toBe(first.caCert);
      expect(second.token).toBe(first.token);
      expect(await modeOf(state)).toBe(0o600);
      // the old client's TLS and token are good: same server
      const read = await core.readNamespacedConfigMap({ name: 'before', namespace: 'default' });
      expect(read.metadata?.uid).toBe(before.metadata?.uid);

      // a watch resumes from the last resourceVersion the client saw; one from before it is relisted (410)
      const resumed: Seen[] = [];
      const stop = await watchConfigMaps(kept, before.metadata!.resourceVersion!, resumed);
      const older: Seen[] = [];
      const stopOlder = await watchConfigMaps(kept, String(Number(before.metadata!.resourceVersion) - 1), older);
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'after' } } });
      await waitFor(() => resumed.length >= 1 && older.length >= 1, 8000, 'both watches to hear');
      stop();
      stopOlder();
      expect(resumed.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED after']);
      expect(older[0]).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
    } finally {
      await (second ?? first).close();
    }
  });

  it("keeps a token user's token: the user's kubeconfig still authenticates after the restart", async () => {
    const state = join(dir, 'users.json');
    const first = await startSandbox({ statePath: state, workloads: false, timing: false, port: 0 });
    await first.addUser('bob-token-5678', { username: 'bob', groups: ['dev'] });
    await first.close();
    const second = await startSandbox({ statePath: state, workloads: false, timing: false });
    try {
      const listAs = async (token: string): Promise<number> =>
        (await raw(second, 'GET', '/api/v1/namespaces/default/configmaps', { token })).status;
      // no RBAC: any authenticated user may list; an unknown token is 401
      expect(await listAs('bob-token-5678')).toBe(200);
      expect(await listAs('nobody-token-0000')).toBe(401);
    } finally {
      await second.close();
    }
  });

  it('makes a temp file left by an earlier run owner-only too', async () => {
    const state = join(dir, 'leftover.json');
    await writeFile(`${state}.tmp`, '{}', { mode: 0o644 });
    const sandbox = await startSandbox({ statePath: state, workloads: false, timing: false });
    await sandbox.close();
    expect(await modeOf(state)).toBe(0o600);
  });

  it('refuses a file that is not a sandbox state, naming it', async () => {
    const state = join(dir, 'not-state.json');
    await writeFile(state, '{"hello": 1}');
    const error = await startSandbox({ statePath: state, workloads: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SandboxInputError);
    expect((error as Error).message).toBe(`${state}: not a sandbox state file`);
    await writeFile(state, 'not json');
    await expect(startSandbox({ statePath: state, workloads: false })).rejects.toThrow(
      `${state}: not a sandbox state file (not JSON)`,
    );
  });
});
