import { spawn, execFile } from 'node:child_process';
import { builtinModules } from 'node:module';
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '@kubestead/sandbox';
import { ROOT } from '../helpers.js';
import { installPolicyCrd } from '../routers/support.js';
import { testSandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);
const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');

/** What the Dockerfile's runtime stage copies: [source in the repository, destination under /app]. */
function runtimeCopies(): Array<[string, string]> {
  const stages = dockerfile.split(/^FROM /m);
  const runtime = stages[stages.length - 1] ?? '';
  return [...runtime.matchAll(/^COPY (?:--from=(\w+) )?(\S+) (\S+)$/gm)].map(([, from, source = '', target = '']) => {
    const fromRepository = from === 'build' ? source.replace(/^\/src\//, '') : source;
    const destination = target.endsWith('/') ? `${target}${basename(source)}` : target;
    return [from === 'deps' ? 'node_modules' : fromRepository, destination.replace(/^\.\//, '')];
  });
}

/** How the image starts node: ENTRYPOINT's flags before the script, and the runtime stage's ENV. */
function imageCommand(): { flags: string[]; env: Record<string, string> } {
  const runtime = dockerfile.split(/^FROM /m).at(-1) ?? '';
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(runtime)?.[1] ?? '[]') as string[];
  const env = Object.fromEntries(
    [...runtime.matchAll(/^ENV (\w+)=(\S+)$/gm)].map(([, name = '', value = '']) => [name, value]),
  );
  return { flags: entrypoint.slice(1, entrypoint.indexOf('/app/bin/kubestead')), env };
}

const DEV_ONLY = ['typescript', 'vitest', 'eslint', 'typescript-eslint', 'fast-check', '@eslint/js'];
const SANDBOX_MARK = 'class WatchHub';

/** The image's install without Docker: the runtime stage's files and `npm ci --omit=dev` in a temporary folder. */
describe('production install (what the Dockerfile builds)', () => {
  let app: string;
  beforeAll(async () => {
    app = await mkdtemp(join(tmpdir(), 'kubestead-prod-'));
    for (const [source, target] of runtimeCopies())
      if (source !== 'node_modules') cpSync(resolve(ROOT, source), resolve(app, target), { recursive: true });
    cpSync(resolve(ROOT, 'package-lock.json'), resolve(app, 'package-lock.json'));
    await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: app,
      timeout: 120_000,
    });
  }, 150_000);
  afterAll(() => rm(app, { recursive: true, force: true }));

  it('the Dockerfile builds on Node 24, installs with `npm ci --omit=dev`, runs as non-root `kubestead run` without a shell', () => {
    expect(dockerfile).toMatch(/^FROM node:24[-.\w]* AS build$/m);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev /m);
    expect(dockerfile).toMatch(/^COPY tsconfig\.json tsconfig\.build\.json \.\/$/m);
    expect(dockerfile).toMatch(/^COPY scripts \.\/scripts$/m); // `npm run build` bundles too (scripts/bundle.mjs)
    expect(dockerfile).toMatch(/^COPY packages \.\/packages$/m); // the sandbox package, for its types, in the build stage only
    expect(dockerfile).toMatch(/^FROM gcr\.io\/distroless\/nodejs24-\S+:nonroot$/m);
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \[.*"\/app\/bin\/kubestead", "run"\]$/m);
    // the controller's settings (docs/operator.md, "Scale"), with which startRun runs it below
    expect(imageCommand()).toEqual({
      flags: ['--max-semi-space-size=2', '--heap-growing-percent=30', '--no-memory-reducer', '--no-maglev'],
      env: { NODE_ENV: 'production', MALLOC_ARENA_MAX: '1' },
    });
    expect(
      runtimeCopies()
        .map(([, target]) => target)
        .sort(),
    ).toEqual(['bin', 'crds', 'dist', 'node_modules', 'package.json', 'rules']);
  });

  it('has no development dependency installed', () => {
    for (const name of DEV_ONLY) expect(existsSync(join(app, 'node_modules', name)), name).toBe(false);
  });

  it('has neither the sandbox nor its libraries, and `kubestead sandbox` says in one line how to get it', async () => {
    for (const name of ['@kubestead/sandbox', '@bufbuild/cel', 'selfsigned'])
      expect(existsSync(join(app, 'node_modules', name)), name).toBe(false);
    expect(existsSync(join(app, 'packages'))).toBe(false);
    const code = readdirSync(join(app, 'dist'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(app, 'dist', f), 'utf8'))
      .join('\n');
    // The sandbox's own code (its watch hub), by a name only it has.
    expect(readFileSync(resolve(ROOT, 'packages/sandbox/src/watch.ts'), 'utf8')).toContain(SANDBOX_MARK);
    expect(code).not.toContain(SANDBOX_MARK);
    // No test hook ships: nothing in the code reads a variable that could crash the controller.
    expect(code).not.toMatch(/KUBESTEAD_TEST|process\.exit\(137\)/);
    const sandbox = await run(process.execPath, [join(app, 'bin/kubestead'), 'sandbox'], { cwd: app }).catch(
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(sandbox).toMatchObject({
      code: 2,
      stdout: '',
      stderr:
        'kubestead sandbox: the sandbox cluster is not installed here (a production install leaves it out): run it from a clone of the repository after `npm ci`\n',
    });
  });

  it('`kubestead --help` works from it', async () => {
    const { stdout } = await run(process.execPath, [join(app, 'bin/kubestead'), '--help'], { cwd: app });
    expect(stdout).toMatch(/^Usage: kubestead COMMAND/);
    expect(stdout).toContain('validate');
  });

  it('every module of dist/ loads with the production dependencies only', async () => {
    const modules = readdirSync(join(app, 'dist'), { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.js'),
    );
    expect(modules.length).toBeGreaterThan(50);
    const script = `for (const m of ${JSON.stringify(modules)}) await import('./dist/' + m);\nconsole.log('loaded ' + ${modules.length});`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: app });
    expect(stdout.trim()).toBe(`loaded ${modules.length}`);
  });

  it("bin/kubestead runs dist/bundle/: tree-shaken (client-node's unused API classes left out), importing nothing from node_modules but node-fetch", () => {
    expect(readFileSync(join(app, 'bin/kubestead'), 'utf8')).toMatch(
      /^import \{ main \} from '\.\.\/dist\/bundle\/kubestead\.js';$/m,
    );
    const chunks = readdirSync(join(app, 'dist/bundle')).filter((f) => f.endsWith('.js'));
    const code = chunks.map((f) => readFileSync(join(app, 'dist/bundle', f), 'utf8')).join('\n');
    const packages = new Set(
      [...code.matchAll(/^import [^;]*? from "([^".][^"]*)";$/gm)]
        .map(([, name]) => name)
        .filter((name) => !name?.startsWith('node:') && !builtinModules.includes(name ?? '')),
    );
    expect([...packages]).toEqual(['node-fetch']);
    expect(code).toMatch(/\bObjectAppsV1Api = class\b/);
    expect(code).not.toMatch(/\bObjectStorageV1Api\b/);
  });

  it('compiles a policy from the repository (rules/ are where dist/ looks for them)', async () => {
    const policy = resolve(ROOT, 'fixtures/policies/checkout.yaml');
    const { stdout } = await run(process.execPath, [join(app, 'bin/kubestead'), 'compile', policy], { cwd: app });
    expect(JSON.parse(stdout)).toMatchObject({ policy: 'shop/checkout' });
  });

  /** `kubestead run` from the install, against `sandbox`: its output, its health port once logged, and SIGTERM. */
  function startRun(sandbox: Sandbox) {
    const image = imageCommand();
    const child = spawn(
      process.execPath,
      [...image.flags, join(app, 'bin/kubestead'), 'run', '--metrics-addr=127.0.0.1:0', '--health-addr=127.0.0.1:0'],
      {
        cwd: app,
        env: { ...image.env, PATH: process.env.PATH ?? '', KUBECONFIG: sandbox.kubeconfigPath },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    return {
      output: () => output,
      healthPort: () =>
        waitFor(
          () => /"healthPort":(\d+)/.exec(output)?.[1],
          20_000,
          () => `the health port in the log:\n${output}`,
        ),
      /** SIGTERM, then the exit code, or a note that it is still running 20 s later. */
      async terminate(): Promise<number | null | string> {
        child.kill('SIGTERM');
        return Promise.race([
          exited,
          new Promise<string>((done) => setTimeout(() => done('still running 20 s after SIGTERM'), 20_000)),
        ]);
      },
    };
  }

  describe('`kubestead run` against the sandbox', () => {
    let sandbox: Sandbox;
    beforeAll(async () => {
      sandbox = await testSandbox();
      // The operator is ready only once every informer has listed, its CRD's included.
      await installPolicyCrd(sandbox);
    });
    afterAll(() => sandbox?.close());

    it('starts, becomes ready and stops cleanly on SIGTERM', async () => {
      const run = startRun(sandbox);
      try {
        const port = await run.healthPort();
        let readyz = '';
        await waitFor(
          async () => {
            const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
            readyz = await response.text();
            return response.status === 200;
          },
          40_000,
          () => `/readyz 200 (last answer: ${readyz})\n${run.output()}`,
        );
      } finally {
        expect(await run.terminate(), run.output()).toBe(0);
      }
    }, 90_000);
  });

  describe('`kubestead run` whose caches never sync (the RolloutPolicy CRD is not installed)', () => {
    let sandbox: Sandbox;
    beforeAll(async () => (sandbox = await testSandbox()));
    afterAll(() => sandbox?.close());

    it('is not ready, and still exits 0 on SIGTERM instead of waiting for the sync', async () => {
      const run = startRun(sandbox);
      const port = await run.healthPort();
      const readyz = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) });
      expect(readyz.status).toBe(503);
      expect(await readyz.text()).toMatch(/informer-policies/);
      expect(await run.terminate(), run.output()).toBe(0);
    }, 90_000);
  });
});
