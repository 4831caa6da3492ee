import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { commands } from '../../src/tools/cli/commands.js';
import { main } from '../../src/tools/cli/main.js';
import { policyYaml, ROOT } from '../helpers.js';
import { kubestead } from './run-cli.js';

const CHECKOUT = 'fixtures/policies/checkout.yaml';
const SNAPSHOT = 'fixtures/snapshots/checkout-breach.json';
const dir = mkdtempSync(join(tmpdir(), 'kubestead-cli-'));

function policyFile(name: string, spec: string): string {
  const file = join(dir, name);
  writeFileSync(file, policyYaml(spec));
  return file;
}

/** What main writes to stderr and stdout for one command line, in-process (quicker than a process per command). */
async function inProcess(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const stderr: string[] = [];
  const stdout: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (stderr.push(String(chunk)), true));
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (stdout.push(String(chunk)), true));
  const code = await main(args);
  vi.restoreAllMocks();
  return { code, stderr: stderr.join(''), stdout: stdout.join('') };
}

describe('standard input', () => {
  it('validate - reads the policy from stdin and calls it (stdin)', async () => {
    const { code, stdout } = await kubestead(['validate', '-'], readFileSync(resolve(ROOT, CHECKOUT), 'utf8'));
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\(stdin\):\d+: shop\/checkout: valid$/m);
  });

  it('eval --facts - reads the snapshot from stdin; errors name (stdin)', async () => {
    const ok = await kubestead(
      ['eval', CHECKOUT, '--facts', '-', '--json'],
      readFileSync(resolve(ROOT, SNAPSHOT), 'utf8'),
    );
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ action: 'rollback' });
    const bad = await kubestead(['eval', CHECKOUT, '--facts', '-'], '{"version": 1}');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^\(stdin\):1: time: required field is missing$/m);
  });

  it('refuses stdin for both files', async () => {
    const { code, stderr } = await kubestead(['eval', '-', '--facts', '-']);
    expect(code).toBe(2);
    expect(stderr).toBe(
      "kubestead eval: only one of POLICY and --facts can be '-' (standard input)\nRun 'kubestead help eval' for usage.\n",
    );
  });
});

describe('bad input: one line (and a pointer to help), never a page of usage', () => {
  it.each([
    [
      'an unknown option, with a suggestion',
      ['validate', '--strcit', CHECKOUT],
      'kubestead validate: unknown option --strcit\n',
    ],
    ['an option missing its value', ['eval', CHECKOUT, '--facts'], 'kubestead eval: --facts needs a value\n'],
    [
      'a flag given a value',
      ['eval', CHECKOUT, '--facts', SNAPSHOT, '--json=yes'],
      'kubestead eval: --json takes no value\n',
    ],
    [
      'a mistyped command',
      ['vaildate', CHECKOUT],
      'kubestead: unknown command "vaildate" (did you mean "validate"?); run \'kubestead help\' for the list\n',
    ],
  ])('%s', async (_, args, first) => {
    const { code, stderr, stdout } = await kubestead(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.startsWith(first)).toBe(true);
    expect(stderr).not.toContain('Usage:');
    expect(stderr.split('\n').filter(Boolean).length).toBeLessThanOrEqual(2);
  });
});

describe('every command follows the conventions', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(Object.keys(commands))(
    '%s: an unknown flag is one line with a suggestion and the pointer to help, exit 2, no page of usage',
    async (name) => {
      const { code, stderr, stdout } = await inProcess([name, '--halp']);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toBe(
        `kubestead ${name}: unknown option --halp (did you mean --help?)\nRun 'kubestead help ${name}' for usage.\n`,
      );
    },
  );
});

describe('help and version', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(Object.keys(commands))(
    'kubestead help %s prints the same page as --help, in the one layout with exit codes',
    async (name) => {
      const viaHelp = await inProcess(['help', name]);
      const viaFlag = await inProcess([name, '--help']);
      expect(viaHelp.code).toBe(0);
      expect(viaFlag.code).toBe(0);
      expect(viaHelp.stdout).toBe(viaFlag.stdout);
      expect(viaHelp.stdout).toMatch(new RegExp(`^Usage: kubestead ${name}`));
      expect(viaHelp.stdout).toMatch(
        /\n\nOptions:\n( {2}.*\n)* {2}-h, --help {21}show this help\n\nExit codes:\n {2}0 {2}.+\n( {2}.*\n)* {2}2 {2}bad input .*\n {2}3 {2}internal error: a bug in Kubestead .*\n$/,
      );
    },
  );

  it('the real bin/kubestead prints the same help page', async () => {
    const [viaHelp, viaFlag] = await Promise.all([kubestead(['help', 'eval']), kubestead(['eval', '--help'])]);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
    expect(viaHelp.stdout).toBe(`${commands.eval!.help}\n`);
  });

  it('--version prints the package version', async () => {
    const { code, stdout } = await kubestead(['--version']);
    const { version } = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(code).toBe(0);
    expect(stdout).toBe(`kubestead ${version}\n`);
  });

  it('help of an unknown command suggests the nearest', async () => {
    const { code, stderr } = await kubestead(['help', 'tset']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command "tset" (did you mean "test"?)');
  });
});

describe('test', () => {
  it("with no argument runs the project's policy tests, not the deliberately failing fixtures of test/", async () => {
    const { code, stdout } = await kubestead(['test']);
    expect(code).toBe(0);
    expect(stdout).not.toContain('test/fixtures');
    expect(stdout).toContain('fixtures/tests/checkout.test.yaml');
    expect(stdout.trimEnd().split('\n').at(-1)).toMatch(/^\d+ passed, 0 failed$/);
  });

  it('--print-default-snapshot prints the snapshot inline facts merge onto; eval decides it', async () => {
    const printed = await kubestead(['test', '--print-default-snapshot', CHECKOUT, '--step', '1']);
    expect(printed.code).toBe(0);
    const snapshot = JSON.parse(printed.stdout) as { rollout: Record<string, unknown> };
    expect(snapshot.rollout).toMatchObject({
      step: 1,
      stepCount: 4,
      stepKind: 'weight',
      weight: 25,
      soakSeconds: 600,
      stepElapsedSeconds: 0,
    });
    const decided = await kubestead(['eval', CHECKOUT, '--facts', '-'], printed.stdout);
    expect(decided.stdout.split('\n')[0]).toBe('hold (step 2/4)');
  });

  it('--print-default-snapshot --step 1 of a blue-green policy is its switched stage, at full count; eval says 2/2', async () => {
    const blueGreen = 'fixtures/policies/checkout-blue-green.yaml';
    const printed = await kubestead(['test', '--print-default-snapshot', blueGreen, '--step', '1']);
    expect(printed.code).toBe(0);
    const snapshot = JSON.parse(printed.stdout) as { rollout: Record<string, unknown> };
    expect(snapshot.rollout).toMatchObject({ step: 1, stepCount: 2, stepKind: 'switched', weight: 100 });
    expect(snapshot.rollout.canary).toEqual({ desiredReplicas: 4, readyReplicas: 4, restarts: 0 });
    const decided = await kubestead(['eval', blueGreen, '--facts', '-'], printed.stdout);
    expect(decided.stdout.split('\n')[0]).toBe('hold (step 2/2)');
  });
});

describe('bounded evaluation through the CLI', () => {
  it('eval ends when a derived fact runs past its time budget: unavailable, naming the expression', async () => {
    const slow = '$sum([1..99999].($sum([1..99999])))';
    const file = policyFile(
      'slow.yaml',
      `targetRef: {kind: Deployment, name: web}\nsteps: [{weight: 10}]\nderived: {slow: "${slow}"}`,
    );
    const snapshot = join(dir, 'snapshot.json');
    writeFileSync(snapshot, (await kubestead(['test', '--print-default-snapshot', file])).stdout);
    const { code, stdout } = await kubestead(['eval', file, '--facts', snapshot]);
    expect(code).toBe(0);
    expect(stdout).toContain(
      `rollback (step 1/1)\n  derived-unavailable: derived fact slow is unavailable: "${slow}" exceeded its time budget of 200 ms`,
    );
  });

  it('validate gives one line for a recursive derived fact, and eval refuses the policy', async () => {
    const file = policyFile(
      'loop.yaml',
      'targetRef: {kind: Deployment, name: web}\nsteps: [{weight: 10}]\nderived: {loop: "($f := function($n){ $f($n+1) }; $f(0))"}',
    );
    const { code, stderr } = await kubestead(['eval', file, '--facts', SNAPSHOT]);
    expect(code).toBe(2);
    expect(stderr).toContain(`${file}:7: spec.derived.loop: function $f calls itself`);
  });
});

describe('a bug is not bad input', () => {
  afterEach(() => {
    delete commands.boom;
    vi.restoreAllMocks();
  });

  it('says it is a bug, shows the stack, exit 3', async () => {
    commands.boom = {
      summary: 'fails',
      help: 'Usage: kubestead boom',
      run: () => Promise.reject(new TypeError('cannot read x of undefined')),
    };
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (written.push(String(chunk)), true));
    await expect(main(['boom'])).resolves.toBe(3);
    const text = written.join('');
    expect(text).toMatch(
      /^kubestead boom: internal error \(a bug in Kubestead; please report it with this output\):\nTypeError: cannot read x of undefined\n\s+at /,
    );
  });
});
