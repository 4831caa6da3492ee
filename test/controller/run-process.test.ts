import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '@kubestead/sandbox';
import { ROOT } from '../helpers.js';
import { raw } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { OperatorProcess } from './process.js';
import { sandboxWithCrd } from './support.js';

const run = promisify(execFile);

async function kubestead(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(resolve(ROOT, 'bin/kubestead'), args, {
      cwd: ROOT,
      env: { ...process.env, KUBECONFIG: '/nonexistent' },
    });
    return { code: 0, stderr };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

let sandbox: Sandbox;
const processes: OperatorProcess[] = [];
beforeAll(async () => {
  sandbox = await sandboxWithCrd({ workloads: false });
});
afterAll(async () => sandbox.close());
afterEach(async () => {
  for (const p of processes.splice(0)) await p.close();
});

describe('kubestead run (a real process)', () => {
  it('refuses bad flags with one clear line and exit 2', async () => {
    expect(await kubestead('run', '--metrics-addr', 'nope')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        '--metrics-addr: expected [HOST]:PORT (0 picks a free port), got "nope"',
      ) as unknown,
    });
    expect(await kubestead('run', '--log-level', 'loud')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--log-level: expected one of') as unknown,
    });
    expect(await kubestead('run', '--bogus')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown option --bogus') as unknown,
    });
    const help = await run(resolve(ROOT, 'bin/kubestead'), ['run', '--help'], { cwd: ROOT });
    expect(help.stdout).toContain('--leader-elect');
  }, 120_000);

  it('says its ports in the first log line, serves /metrics and /readyz, holds the Lease, and on SIGTERM releases it and exits 0', async () => {
    const proc = await OperatorProcess.start(sandbox, ['--leader-elect', '--lease-namespace', 'default']);
    processes.push(proc);
    expect(proc.lines[0]).toMatchObject({ msg: 'kubestead operator started', leaderElect: true, namespace: '(all)' });
    expect(proc.metricsPort).toBeGreaterThan(0);
    expect(proc.healthPort).toBeGreaterThan(0);
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${proc.healthPort}/readyz`)).status === 200,
      15_000,
      '/readyz 200',
    );
    const metrics = await (await fetch(`http://127.0.0.1:${proc.metricsPort}/metrics`)).text();
    expect(metrics).toContain('kubestead_leader 1');
    const identity = String(proc.lines[0]!.identity);
    const lease = await raw(
      sandbox,
      'GET',
      '/apis/coordination.k8s.io/v1/namespaces/default/leases/kubestead-controller',
    );
    expect(lease.body.spec.holderIdentity).toBe(identity);
    proc.kill('SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.has('released the lease')).toBe(true);
    expect(proc.lines[proc.lines.length - 1]).toMatchObject({ msg: 'kubestead operator stopped' });
    const released = await raw(
      sandbox,
      'GET',
      '/apis/coordination.k8s.io/v1/namespaces/default/leases/kubestead-controller',
    );
    expect(released.body.spec.holderIdentity).toBe('');
  }, 60_000);
});
