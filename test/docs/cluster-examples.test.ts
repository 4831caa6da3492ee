import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/lib/clock/clock.js';
import { PlainDisplay } from '../../src/tools/demo/display.js';
import { HEALTHY } from '../../src/tools/demo/exporter.js';
import { demoQueries } from '../../src/tools/demo/metrics-source.js';
import { DemoPolicyApi, releaseShop } from '../../src/tools/demo/shop-cluster.js';
import { startDemoStack, type DemoStack } from '../../src/tools/demo/stack.js';
import { playStory } from '../../src/tools/demo/story.js';
import { parseSnapshot } from '../../src/pipeline/facts/snapshot.js';
import { readSandboxUsers } from '../../src/tools/cli/sandbox-users.js';
import { startSandbox } from '@kubestead/sandbox';
import { ROOT } from '../helpers.js';
import { waitFor } from '../support/wait.js';
import { blocksOf, markdownFiles } from './blocks.js';

/**
 * The docs' examples that need a cluster, run as written against the sandbox after the demo's two
 * releases (policy `checkout` of the docs is the demo's `shop`): every `kubestead`/`kubectl` line
 * of a ```sh block that examples.test.ts does not run is either run here or named below with the
 * test that runs it instead.
 */
const RUN_ELSEWHERE: Array<[RegExp, string]> = [
  [/^(bin\/)?kubestead (validate|test|eval|compile)\b/, 'test/docs/examples.test.ts'],
  [/^npm (ci && bin\/kubestead demo|test)\b/, 'test/demo/demo.test.ts and .ci/run'],
  [/^npm run test:reliability\b/, '.ci/run (after the main suites)'],
  [
    /^kubestead run\b/,
    'test/controller/run-process.test.ts, test/deploy/production-install.test.ts, test/deploy/rbac-run.test.ts (long-running)',
  ],
  [
    /^bin\/kubestead sandbox\b|^export KUBECONFIG=|^kubectl apply -f deployment\.yaml/,
    'test/cli/sandbox.test.ts and test/controller/sandbox-restart.test.ts (the sandbox walk-through and --state restart, long-running)',
  ],
  [/^kubestead audit verify received\.jsonl/, 'test/audit/docs-receiver.test.ts (the SIEM receiver of docs/audit.md)'],
  [
    /^bin\/kubestead dashboard\b|^curl (-s|-H "Authorization: Bearer \$TOKEN") http:\/\/127\.0\.0\.1:8090\/|^kubectl -n kubestead-system port-forward|^TOKEN=\$\(kubectl create token/,
    'test/dashboard/browser.test.ts and test/dashboard/in-cluster.test.ts (a dashboard serving, long-running)',
  ],
  [/^kubestead backtest\b/, 'test/backtest/prometheus.test.ts (the real Prometheus with recorded data)'],
  [
    /^kubectl get rolloutpolicy shop -n shop -o jsonpath='\{\.status\.shardOwner\}/,
    'test/tick/stale.test.ts (status.shardOwner exists only under --shards auto; the demo runs one replica without it)',
  ],
  [
    /^kubestead audit replay\b/,
    "test/audit/replay.test.ts (the demo's exported log, as is and with a changed threshold)",
  ],
];

const OVERRIDE = /^kubestead (promote|abort|pause|resume)\b/;
/** A release the docs then wait for with `status --wait`. */
const RELEASE = /^kubectl set image\b/;
let release = 10;

/** Every check of the demo policy in bounds, as the demo's metrics source answers now (the bad build out of the window). */
async function canaryHealthy(stack: DemoStack): Promise<boolean> {
  const values = await Promise.all(
    demoQueries(stack.policy).map(async ({ text }) => {
      const body = (await (
        await fetch(`${stack.metrics.url}/api/v1/query?${new URLSearchParams({ query: text }).toString()}`)
      ).json()) as { data: { result: Array<{ value: [number, string] }> } };
      return Number(body.data.result[0]?.value[1]);
    }),
  );
  return values.every((value, i) => value <= (stack.policy.spec.checks[i]?.max ?? Infinity));
}

/**
 * An override applies to a rollout in progress: `resume` to the one the `pause` example paused;
 * the others get a new release of the shop, held at its first step by a long soak.
 */
async function rolloutFor(stack: DemoStack, action: string): Promise<void> {
  const policies = new DemoPolicyApi(stack.kubeConfig);
  if (action === 'resume') {
    await waitFor(async () => (await policies.read()).status?.phase === 'Paused', 30_000, 'phase Paused');
    return;
  }
  stack.traffic.set('canary', HEALTHY);
  await waitFor(() => canaryHealthy(stack), 30_000, 'the bad build out of the metrics window');
  await policies.patchSpec({
    steps: [
      { weight: 10, soak: '10m' },
      { weight: 30, soak: '10m' },
      { weight: 60, soak: '10m' },
    ],
  });
  const since = Date.now();
  await releaseShop(stack.kubeConfig, String(release++));
  await waitFor(
    async () => {
      const status = (await policies.read()).status;
      return status?.phase === 'Progressing' && Date.parse(status.stepStartedAt ?? '') >= since - 1000;
    },
    60_000,
    `a release in progress for ${action}`,
  );
}

/** Before a release the docs wait for: a healthy canary and one short step, so it is promoted within the minute. */
async function quickRelease(stack: DemoStack): Promise<void> {
  stack.traffic.set('canary', HEALTHY);
  await waitFor(() => canaryHealthy(stack), 30_000, 'the bad build out of the metrics window');
  await new DemoPolicyApi(stack.kubeConfig).patchSpec({ steps: [{ weight: 50, soak: '4s' }] });
}

interface Example {
  where: string;
  line: string;
}

const shellLines: Example[] = markdownFiles()
  .flatMap(blocksOf)
  .filter((b) => b.lang === 'sh')
  .flatMap((b) => b.text.split('\n').map((text, i) => ({ where: `${b.file}:${b.line + 1 + i}`, line: text.trim() })))
  .filter(({ line }) => line !== '' && !line.startsWith('#'));

const runHere = shellLines.filter(({ line }) => !RUN_ELSEWHERE.some(([pattern]) => pattern.test(line)));

/** A folder that looks like the repository to the examples: bin/, deploy/, and `kubestead` on PATH. */
function workspace(): { cwd: string; path: string } {
  const cwd = mkdtempSync(join(tmpdir(), 'kubestead-docs-'));
  for (const dir of ['bin', 'deploy', 'fixtures']) symlinkSync(resolve(ROOT, dir), join(cwd, dir));
  const path = join(cwd, '.path');
  mkdirSync(path);
  symlinkSync(resolve(ROOT, 'bin/kubestead'), join(path, 'kubestead'));
  return { cwd, path: `${path}:${process.env.PATH ?? ''}` };
}

function shell(
  line: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile('bash', ['-o', 'pipefail', '-c', line], { cwd, env, timeout: 60_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe("the docs' cluster examples, run against the sandbox after the demo", () => {
  let stack: DemoStack;
  const { cwd, path } = workspace();
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    stack = await startDemoStack(systemClock, undefined, (kubeconfigPath) =>
      startSandbox({ kubeconfigPath, timing: false, workloads: { readyDelayMs: 100 } }),
    );
    await playStory(stack, new PlainDisplay(new PassThrough(), 0), systemClock);
    env = { ...process.env, PATH: path, KUBECONFIG: stack.files.kubeconfig };
  }, 120_000);
  afterAll(() => stack?.close());

  it('finds them: audit export and verify, report, status, overrides, the install', () => {
    const text = runHere.map((e) => e.line).join('\n');
    for (const command of [
      'kubestead audit export',
      'kubestead report',
      'kubestead promote',
      'kubectl apply -f deploy/kubestead-controller.yaml',
    ])
      expect(text).toContain(command);
  });

  it.each(runHere.map((e) => [e.where, e] as const))(
    '%s runs',
    async (_, { line }) => {
      const override = OVERRIDE.exec(line)?.[1];
      if (override) await rolloutFor(stack, override);
      if (RELEASE.test(line)) await quickRelease(stack);
      const { code, stdout, stderr } = await shell(line.replace(/\bcheckout\b/g, 'shop'), cwd, env);
      expect(code, `${line}\n${stdout}\n${stderr}`).toBe(0);
      if (!/>\s*\S+$/.test(line)) expect(stdout.trim(), line).not.toBe('');
      if (override)
        await waitFor(
          async () =>
            (
              (await new DemoPolicyApi(stack.kubeConfig).read()) as {
                metadata: { annotations?: Record<string, string> };
              }
            ).metadata.annotations?.['kubestead.io/override'] === undefined,
          30_000,
          `the ${override} override consumed`,
        );
    },
    90_000,
  );

  it('what they wrote is what the docs say: the exported chain verifies, the chart is SVG, the page HTML', () => {
    expect(readFileSync(join(cwd, 'shop.jsonl'), 'utf8').trimEnd().split('\n').length).toBeGreaterThan(5);
    expect(readFileSync(join(cwd, 'chart.svg'), 'utf8')).toMatch(/^(<\?xml [^>]*>\s*)?<svg /);
    expect(readFileSync(join(cwd, 'report.html'), 'utf8')).toMatch(/^<!DOCTYPE html>/i);
  });
});

describe("the docs' other data examples", () => {
  const blocks = markdownFiles().flatMap(blocksOf);

  it('the FactSnapshot of docs/architecture.md parses as one', () => {
    const snapshots = blocks.filter((b) => b.lang === 'json' && b.text.includes('"version": 1'));
    expect(snapshots.length).toBeGreaterThanOrEqual(1);
    for (const block of snapshots)
      expect(parseSnapshot(JSON.parse(block.text)).issues, `${block.file}:${block.line}`).toEqual([]);
  });

  it('the users file of docs/sandbox.md reads as `kubestead sandbox --rbac` reads it', async () => {
    const block = blocks.find((b) => b.file === 'docs/sandbox.md' && b.lang === 'yaml' && b.text.startsWith('users:'));
    const file = join(mkdtempSync(join(tmpdir(), 'kubestead-users-')), 'users.yaml');
    await import('node:fs/promises').then((fs) => fs.writeFile(file, block!.text));
    expect(await readSandboxUsers(file)).toEqual([
      { token: 'alice-secret-token', user: { username: 'alice', groups: ['developers'] } },
    ]);
  });
});
