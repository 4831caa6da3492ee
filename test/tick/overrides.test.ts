import { execFile } from 'node:child_process';
import { delimiter, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { scenario } from './scenario.js';
import { imageOf, type TickFixture } from './support.js';

const run = promisify(execFile);
const env = scenario();
let aliceConfig: string;

beforeAll(async () => {
  aliceConfig = await env.sandbox.addUser('alice-token-0123456789', {
    username: 'alice',
    groups: ['system:masters', 'system:authenticated'],
  });
});

/** Runs a command as alice; `kubectl kubestead …` finds bin/kubectl-kubestead on PATH. */
async function asAlice(
  command: 'kubestead' | 'kubectl',
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    KUBECONFIG: aliceConfig,
    PATH: `${resolve(ROOT, 'bin')}${delimiter}${process.env.PATH ?? ''}`,
  };
  const file = command === 'kubestead' ? resolve(ROOT, 'bin/kubestead') : 'kubectl';
  try {
    const { stdout, stderr } = await run(file, args, { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const spec = () => env.spec({ steps: [{ weight: 20, soak: '1m' }, { pause: {} }, { weight: 50, soak: '1m' }] });

async function annotationOf(f: TickFixture): Promise<string | undefined> {
  return (await f.policy()).metadata?.annotations?.['kubestead.io/override'];
}

describe('overrides', () => {
  it('a pause step waits for `kubestead resume`, and the actor is recorded', async () => {
    const f = await env.fixture();
    await f.startCanary(spec());
    await f.settle();
    await f.tickUntil((s) => s.phase === 'Paused' && s.currentStep === 1, 60_000);
    await f.clock.advance(3_600_000);
    await f.tick();
    expect(await f.status()).toMatchObject({ phase: 'Paused', currentStep: 1 });
    const resumed = await asAlice('kubestead', ['resume', 'app', '-n', f.namespace]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('by alice');
    expect(JSON.parse((await annotationOf(f)) ?? '{}')).toMatchObject({ action: 'resume', actor: 'alice' });
    await f.clock.advance(10_000);
    await f.tick();
    const status = await f.status();
    expect(status).toMatchObject({
      phase: 'Progressing',
      currentStep: 2,
      canaryWeight: 50,
      lastOverride: { action: 'resume', actor: 'alice' },
    });
    expect(await annotationOf(f)).toBeUndefined();
    const overridden = (await f.events('RolloutPolicy')).find((e) => e.reason === 'Overridden');
    expect(overridden?.message).toBe('resume by alice');
    // A spec never edited: the generation did not move.
    expect((await f.policy()).metadata?.generation).toBe(1);
  });

  it("a write to the policy between the command's read and its write (a 409) is read again, checked again and set", async () => {
    const f = await env.fixture();
    await f.startCanary(spec());
    await f.settle();
    await f.tickUntil((s) => s.phase === 'Paused' && s.currentStep === 1, 60_000);
    // someone else (the operator's status write, a label by hand) changes the policy right after the command read it
    let labelled = false;
    env.sandbox.faults.interleave(
      { method: 'GET', path: `/apis/kubestead.io/v1alpha1/namespaces/${f.namespace}/rolloutpolicies/app` },
      async () => {
        await env.sandbox.client(CustomObjectsApi).patchNamespacedCustomObject(
          {
            group: 'kubestead.io',
            version: 'v1alpha1',
            plural: 'rolloutpolicies',
            namespace: f.namespace,
            name: 'app',
            body: { metadata: { labels: { team: 'shop' } } },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        labelled = true;
      },
    );
    const since = Date.now();
    const resumed = await asAlice('kubestead', ['resume', 'app', '-n', f.namespace]);
    expect(labelled).toBe(true);
    // the command's first write met the other write (a real 409 from the sandbox, no injected fault), its second went through
    const writes = env.sandbox.requests
      .list({ path: `/apis/kubestead.io/v1alpha1/namespaces/${f.namespace}/rolloutpolicies/app`, since })
      .filter((r) => r.method !== 'GET' && r.user === 'alice');
    expect(writes.map((r) => [r.code, r.fault])).toEqual([
      [409, false],
      [200, false],
    ]);
    expect(resumed).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse((await annotationOf(f)) ?? '{}')).toMatchObject({ action: 'resume', actor: 'alice' });
    expect((await f.policy()).metadata?.labels?.team).toBe('shop');
  });

  it('promote through `kubectl kubestead` skips the remaining steps', async () => {
    const f = await env.fixture();
    await f.startCanary(spec());
    await f.settle();
    const promoted = await asAlice('kubectl', ['kubestead', 'promote', 'app', '-n', f.namespace]);
    expect(promoted.code, promoted.stderr).toBe(0);
    await f.clock.advance(10_000);
    await f.tick();
    expect(await f.status()).toMatchObject({ phase: 'Promoting', lastOverride: { action: 'promote', actor: 'alice' } });
    const done = await f.tickUntil((s) => s.phase === 'Succeeded', 10_000);
    expect(done.phase).toBe('Succeeded');
    expect(imageOf(await f.deployment('app-primary'))).toBe('app:2');
    expect((await f.deployment('app')).spec?.replicas).toBe(0);
  });

  it('abort through `kubectl kubestead` rolls back at once', async () => {
    const f = await env.fixture();
    await f.startCanary(spec());
    const aborted = await asAlice('kubectl', ['kubestead', 'abort', 'app', '-n', f.namespace]);
    expect(aborted.code, aborted.stderr).toBe(0);
    await f.clock.advance(10_000);
    await f.tick();
    const status = await f.status();
    expect(status).toMatchObject({
      phase: 'RolledBack',
      canaryWeight: 0,
      effectiveWeight: 0,
      lastOverride: { action: 'abort', actor: 'alice' },
    });
    expect(status.lastDecision?.reasons[0]?.rule).toBe('override-abort');
    expect((await f.deployment('app')).spec?.replicas).toBe(0);
    expect(imageOf(await f.deployment('app-primary'))).toBe('app:1');
  });

  it('pause holds a weight step past its soak until resume', async () => {
    const f = await env.fixture();
    await f.startCanary(spec());
    await f.settle();
    expect((await asAlice('kubestead', ['pause', 'app', '-n', f.namespace])).code).toBe(0);
    await f.clock.advance(10_000);
    await f.tick();
    expect(await f.status()).toMatchObject({ phase: 'Paused', manualPause: true, currentStep: 0 });
    await f.clock.advance(600_000);
    await f.tick();
    expect(await f.status()).toMatchObject({ phase: 'Paused', currentStep: 0 });
    expect((await asAlice('kubestead', ['resume', 'app', '-n', f.namespace])).code).toBe(0);
    await f.clock.advance(10_000);
    await f.tick();
    expect(await f.status()).toMatchObject({ phase: 'Progressing', manualPause: false, currentStep: 0 });
  });

  it('is refused with a clear message when the policy is not progressing', async () => {
    const f = await env.fixture();
    await f.adoptedBy(spec(), 2);
    const refused = await asAlice('kubestead', ['promote', 'app', '-n', f.namespace]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`promote refused: RolloutPolicy ${f.namespace}/app is Idle, not progressing`);
    expect(await annotationOf(f)).toBeUndefined();
    const missing = await asAlice('kubestead', ['abort', 'nope', '-n', f.namespace]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('not found');
  });
});
