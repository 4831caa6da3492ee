import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '@kubestead/sandbox';
import { OperatorProcess } from '../controller/process.js';
import { sandboxWithCrd } from '../controller/support.js';

let sandbox: Sandbox;
let proc: OperatorProcess | undefined;
beforeAll(async () => {
  sandbox = await sandboxWithCrd({ workloads: false });
});
afterAll(async () => {
  await proc?.close();
  await sandbox.close();
});

describe('kubestead run with default notification destinations (a real process)', () => {
  it('starts with --notify-* flags and serves kubestead_notifications_total on /metrics', async () => {
    const started = await OperatorProcess.start(sandbox, [
      '--notify-slack',
      'kubestead-system/platform-hooks/slack',
      '--notify-events',
      'promoted,rolledBack',
    ]);
    proc = started;
    expect(started.lines[0]).toMatchObject({ msg: 'kubestead operator started' });
    const metrics = await (await fetch(`http://127.0.0.1:${started.metricsPort}/metrics`)).text();
    expect(metrics).toContain('# TYPE kubestead_notifications_total counter');
    expect(metrics).toContain('# TYPE kubestead_decisions_total counter');
  }, 60_000);
});
