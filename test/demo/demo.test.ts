import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { closingSummary, demoSucceeded } from '../../src/tools/cli/demo.js';
import { LiveDisplay, PlainDisplay } from '../../src/tools/demo/display.js';
import type { Evidence } from '../../src/tools/demo/evidence.js';
import type { StoryOutcome } from '../../src/tools/demo/story.js';
import { ROOT } from '../helpers.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);
const BIN = resolve(ROOT, 'bin/kubestead');
/** The closing line CI greps for (.ci/run). */
const SUMMARY =
  /^demo: good release Succeeded in 3 steps; bad release RolledBack at step 1 \((error-rate = [\d.]+ is above max 0\.05)(; latency-p99 = [\d.]+ is above max 0\.5)?\); audit chain verified \((\d+) entries\)$/m;

async function kubestead(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

/** A path named in a `demo: … FILE …` line of the output. */
const fileNamed = (stdout: string, pattern: RegExp): string => pattern.exec(stdout)?.[1] ?? '(not printed)';

describe('`kubestead demo` (not a TTY: plain lines, as CI runs it)', () => {
  it('plays a good release through every step and a bad one rolled back, verifies the audit chain, exits 0', async () => {
    const { code, stdout, stderr } = await kubestead(['demo']);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    const summary = SUMMARY.exec(stdout);
    expect(summary, stdout).not.toBeNull();
    expect(stdout.trimEnd().split('\n').at(-1)).toBe(summary![0]);
    expect(stdout).toMatch(
      /^demo: metrics: (the real Prometheus \(\S+\) at http:\/\/127\.0\.0\.1:\d+|no prometheus on PATH, so the built-in source at http:\/\/127\.0\.0\.1:\d+)/m,
    );
    for (const weight of [25, 50, 75])
      expect(stdout).toMatch(
        new RegExp(`^\\[ *[\\d.]+s\\] shop/shop  Progressing  step \\d/3  weight ${weight}%`, 'm'),
      );
    expect(stdout).toMatch(/^\[ *[\d.]+s\] shop\/shop {2}Succeeded/m);
    expect(stdout).toMatch(/^\[ *[\d.]+s\] shop\/shop {2}RolledBack {2}step 1\/3 {2}weight 0%/m);
    expect(stdout).not.toContain('\x1b[');

    // The files it names are there, and the real CLI verifies the audit log on its own.
    const auditLog = fileNamed(stdout, /^demo: audit log: (\S+)/m);
    const entries = readFileSync(auditLog, 'utf8').trimEnd().split('\n');
    expect(entries).toHaveLength(Number(summary![3]));
    const verify = await kubestead(['audit', 'verify', auditLog, '--policy', 'shop/shop']);
    expect(verify.stdout).toMatch(new RegExp(`^OK shop/shop: ${entries.length} entries`));
    expect(verify.code).toBe(0);
    const report = readFileSync(
      fileNamed(stdout, /^demo: rollback report: ConfigMap shop\/\S+ .*a copy in (\S+)$/m),
      'utf8',
    );
    expect(report).toContain('error-rate');
    expect(existsSync(fileNamed(stdout, /^demo: controller log: (\S+)/m))).toBe(true);
  }, 150_000);

  it('--keep leaves the sandbox running with its KUBECONFIG, until SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'demo', '--keep'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    try {
      const kubeconfig = await waitFor(
        () => /^export KUBECONFIG=(\S+)$/m.exec(output)?.[1],
        120_000,
        () => `the KUBECONFIG line:\n${output}`,
      );
      const status = await kubestead(['status', 'shop', '-n', 'shop'], { KUBECONFIG: kubeconfig });
      expect(status.stdout, status.stderr).toMatch(/^shop\/shop {2}RolledBack/);
      const kubectl = await promisify(execFile)('kubectl', ['get', 'deployments', '-n', 'shop', '-o', 'name'], {
        env: { ...process.env, KUBECONFIG: kubeconfig },
      });
      expect(kubectl.stdout.split('\n').filter(Boolean).sort()).toEqual([
        'deployment.apps/shop',
        'deployment.apps/shop-primary',
      ]);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, output).toBe(0);
  }, 150_000);

  it('refuses an argument it does not take, with exit 2', async () => {
    const { code, stderr } = await kubestead(['demo', 'now']);
    expect(code).toBe(2);
    expect(stderr).toBe('kubestead demo: unexpected argument "now"\nRun \'kubestead help demo\' for usage.\n');
  });
});

const rolledBackAtStep1 = {
  status: {
    phase: 'RolledBack',
    currentStep: 0,
    lastDecision: {
      action: 'rollback',
      time: '',
      reasons: [
        { rule: 'check-breach', check: 'error-rate', message: 'error-rate = 0.3 is above max 0.05' },
        { rule: 'soak', message: 'soaking step 1/3 at weight 25%: 1s of 4s' },
      ],
    },
  },
  stepsSeen: [0],
};
const verified = { ok: true, entries: 12, finding: null } as unknown as Evidence['file'];

describe('the closing summary', () => {
  const story: StoryOutcome = {
    good: { status: { phase: 'Succeeded' }, stepsSeen: [0, 1, 2] },
    bad: rolledBackAtStep1,
    stepCount: 3,
  };

  it('says how each release ended, the breach, and the chain', () => {
    const evidence: Evidence = { file: verified, cluster: verified };
    expect(closingSummary(story, evidence)).toBe(
      'demo: good release Succeeded in 3 steps; bad release RolledBack at step 1 (error-rate = 0.3 is above max 0.05); audit chain verified (12 entries)',
    );
    expect(demoSucceeded(story, evidence)).toBe(true);
  });

  it('fails when a release ends otherwise, a step was skipped, or the chain does not hold', () => {
    const broken = {
      ok: false,
      entries: 12,
      finding: { message: 'entry 3 (seq 3) was modified' },
    } as unknown as Evidence['file'];
    expect(
      demoSucceeded({ ...story, good: { ...story.good, stepsSeen: [0, 2] } }, { file: verified, cluster: verified }),
    ).toBe(false);
    expect(
      demoSucceeded(
        { ...story, bad: { ...rolledBackAtStep1, status: { phase: 'Succeeded' } } },
        { file: verified, cluster: verified },
      ),
    ).toBe(false);
    expect(demoSucceeded(story, { file: verified, cluster: broken })).toBe(false);
    expect(closingSummary(story, { file: verified, cluster: broken })).toMatch(
      /; audit chain NOT verified: entry 3 \(seq 3\) was modified$/,
    );
  });
});

describe('the demo displays', () => {
  const policy = (phase: string, step: number, value: number) => ({
    metadata: { name: 'shop', namespace: 'shop' },
    spec: {
      steps: [
        { weight: 10, soak: '4s' },
        { weight: 30, soak: '4s' },
      ],
    },
    status: {
      phase,
      currentStep: step,
      canaryWeight: [10, 30][step],
      stepStartedAt: new Date(0).toISOString(),
      checks: { 'error-rate': { status: 'ok', value, max: 0.05 } },
      lastDecision: { action: 'hold', reasons: [], time: new Date(1000).toISOString() },
    },
  });

  it('plain: one block per transition, not per tick, with no escape codes', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const display = new PlainDisplay(out, 0);
    display.show(policy('Progressing', 0, 0.002), 1500);
    display.show(policy('Progressing', 0, 0.003), 2500);
    display.note('demo: a note');
    display.show(policy('Progressing', 1, 0.003), 5000);
    expect(text).toBe(
      [
        '[  1.5s] shop/shop  Progressing  step 1/2  weight 10%',
        '           error-rate  0.002     max 0.05      ok',
        '           decision hold',
        'demo: a note',
        '[  5.0s] shop/shop  Progressing  step 2/2  weight 30%',
        '           error-rate  0.003     max 0.05      ok',
        '           decision hold',
        '',
      ].join('\n'),
    );
  });

  it('on a terminal: the status view redrawn in place, in colour, with the soak bar', () => {
    const out = Object.assign(new PassThrough(), { isTTY: true });
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const display = new LiveDisplay(out);
    display.show(policy('Progressing', 0, 0.002), 2000);
    display.show(policy('Progressing', 0, 0.002), 3000);
    expect(text).toContain('\x1b[32mProgressing\x1b[0m');
    expect(text).toContain('[##########----------] 2s of 4s');
    expect(text).toContain('\x1b[4F\x1b[J');
    expect(text).toContain('[###############-----] 3s of 4s');
  });
});
