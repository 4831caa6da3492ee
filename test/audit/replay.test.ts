import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/pipeline/record/audit/entry.js';
import type { Replay } from '../../src/tools/replay/replay.js';
import { ROOT } from '../helpers.js';
import { waitFor } from '../support/wait.js';

/**
 * `kubestead audit replay` on the demo's exported log: `kubestead demo --keep` plays a good release
 * and a bad one on the sandbox, `kubestead audit export shop -n shop` exports the chain, and the
 * replay re-decides every decision entry from its snapshot, with the demo's own policy file
 * (identical) and with changed copies of it (differences, or an entry it cannot judge).
 */
const BIN = resolve(ROOT, 'bin/kubestead');
const DEMO_POLICY = resolve(ROOT, 'fixtures/policies/shop-demo.yaml');

function kubestead(args: string[], env: NodeJS.ProcessEnv = {}) {
  return promisify(execFile)(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    timeout: 120_000,
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

describe('kubestead audit replay on the demo’s exported log', () => {
  let demo: ChildProcess | undefined;
  let dir: string;
  let log: string;
  let entries: AuditEntry[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubestead-replay-'));
    demo = spawn(process.execPath, [BIN, 'demo', '--keep'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    demo.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const kubeconfig = await waitFor(
      () => /^export KUBECONFIG=(\S+)$/m.exec(output)?.[1],
      150_000,
      () => `the KUBECONFIG line of demo --keep:\n${output}`,
    );
    const exported = await kubestead(['audit', 'export', 'shop', '-n', 'shop'], { KUBECONFIG: kubeconfig });
    expect(exported.code, exported.stderr).toBe(0);
    log = join(dir, 'shop.jsonl');
    await writeFile(log, exported.stdout);
    entries = exported.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditEntry);
  }, 200_000);

  afterAll(async () => {
    if (demo && demo.exitCode === null) {
      const exited = new Promise((done) => demo!.once('exit', done));
      demo.kill('SIGTERM');
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const decisionEntries = () => entries.filter((e) => e.kind === 'decision');

  async function changedPolicy(file: string, edit: (yaml: string) => string): Promise<string> {
    const path = join(dir, file);
    const original = await readFile(DEMO_POLICY, 'utf8');
    const changed = edit(original);
    expect(changed).not.toBe(original);
    await writeFile(path, changed);
    return path;
  }

  it('with the policy the controller ran, every decision is re-derived identically (exit 0)', async () => {
    const n = decisionEntries().length;
    // the demo's two releases: three advances and a promote, then a rollback at least
    expect(decisionEntries().map((e) => e.decision!.action)).toEqual(
      expect.arrayContaining(['advance', 'promote', 'rollback']),
    );
    const text = await kubestead(['audit', 'replay', log, '--policy', DEMO_POLICY]);
    expect([text.code, text.stdout, text.stderr]).toEqual([0, `${n} decisions re-derived identically\n`, '']);
    const json = await kubestead(['audit', 'replay', log, '--policy', DEMO_POLICY, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ decisions: n, identical: n, differences: [], firstDivergence: null });
  });

  it('with a changed threshold, it lists each decision that would differ and where the rollout would have turned (exit 1)', async () => {
    // latency-p99 max 0.5 → 0.0001: every recorded advance had a latency above it, so it would have rolled back
    const strict = await changedPolicy('strict.yaml', (y) => y.replace('max: 0.5', 'max: 0.0001'));
    const json = await kubestead(['audit', 'replay', log, '--policy', strict, '--json']);
    expect(json.code, json.stderr).toBe(1);
    const replay = JSON.parse(json.stdout) as Replay;
    const advances = decisionEntries().filter((e) => e.decision!.action === 'advance');
    expect(replay.decisions).toBe(decisionEntries().length);
    expect(replay.identical).toBe(replay.decisions - replay.differences.length);
    for (const entry of advances) {
      const difference = replay.differences.find((d) => d.seq === entry.seq);
      expect(difference?.recorded).toEqual(entry.decision);
      expect(difference?.replayed.action).toBe('rollback');
      expect(difference?.replayed.reasons[0]).toMatchObject({ rule: 'check-breach', check: 'latency-p99' });
      expect(difference?.replayed.reasons[0]!.message).toMatch(/^latency-p99 = [\d.e-]+ is above max 0\.0001$/);
    }
    expect(replay.firstDivergence).toBe(advances[0]!.seq);

    const text = await kubestead(['audit', 'replay', log, '--policy', strict]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      `seq ${advances[0]!.seq} at ${advances[0]!.time}\n  recorded: advance (step 1/3 → step 2/3)`,
    );
    expect(text.stdout).toContain(
      `the rollout would first have gone another way at seq ${advances[0]!.seq} (${advances[0]!.time}): rollback instead of advance`,
    );
  });

  it('a snapshot the policy cannot judge (a check it does not have) is bad input (exit 2)', async () => {
    const without = await changedPolicy('without.yaml', (y) =>
      y.replace(/ {4}- name: latency-p99\n[^]*?max: 0\.5\n/, ''),
    );
    const result = await kubestead(['audit', 'replay', log, '--policy', without]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^kubestead audit: seq \d+ \(\S+\): the policy cannot judge this snapshot: it recorded check latency-p99, which the policy does not have\n/,
    );
  });
});
