import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers.js';
import { THIRD_PARTY } from './third-party.js';

/**
 * The Kubernetes Python client's own e2e suite (../shared/thirdparty-python-e2e, unmodified), run
 * by Debian's client (`python3-kubernetes`, seen only by Debian's /usr/bin/python3) as its README
 * says: the installed `kubernetes` package and the suite's `kubernetes/e2e_test` copied together into
 * a temporary folder (removed afterwards), never into the repository.
 */
export const PYTHON = '/usr/bin/python3';
export const PYTHON_CLIENT = '/usr/lib/python3/dist-packages/kubernetes';
export const PYTHON_E2E_MODULES = ['test_apps', 'test_batch', 'test_client', 'test_utils', 'test_watch'];

export interface PythonOutcome {
  outcome: 'pass' | 'fail' | 'skip';
  /** The traceback of a failure, the reason of a skip. */
  detail: string;
}

/**
 * Whether the Python client is installed: CI (`CI=true`, where .ci/run installs it) fails without
 * it; elsewhere the tests that need it skip with a loud notice.
 */
export function pythonClientPresent(tests: string): boolean {
  if (existsSync(PYTHON) && existsSync(PYTHON_CLIENT)) return true;
  const what = `the Python client (${PYTHON_CLIENT}: apt-get install python3-kubernetes)`;
  if (process.env.CI === 'true') throw new Error(`${what} is missing (CI=true)`);
  console.warn(`\n!!! SKIPPING ${tests}: ${what} is not installed !!!\n`);
  return false;
}

/** Runs the suite's modules against the cluster of `kubeconfig`; each test's outcome by its id (`test_apps.TestClientApps.test_create_deployment`). */
export async function runPythonE2e(
  kubeconfig: string,
  modules = PYTHON_E2E_MODULES,
): Promise<Record<string, PythonOutcome>> {
  const dir = await mkdtemp(join(tmpdir(), 'kubestead-python-e2e-'));
  try {
    await cp(PYTHON_CLIENT, join(dir, 'kubernetes'), { recursive: true });
    await cp(join(THIRD_PARTY.pythonE2e.dir, 'kubernetes', 'e2e_test'), join(dir, 'kubernetes', 'e2e_test'), {
      recursive: true,
    });
    const out = join(dir, 'outcomes.json');
    const names = modules.map((m) => `kubernetes.e2e_test.${m}`);
    // the suite reads its YAML files relative to the working directory (kubernetes/e2e_test/test_yaml/...)
    await promisify(execFile)(PYTHON, [resolve(ROOT, 'test', 'support', 'python-e2e.py'), out, ...names], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', PYTHONPATH: dir, KUBECONFIG: kubeconfig, PYTHONDONTWRITEBYTECODE: '1' },
      maxBuffer: 32 * 1024 * 1024,
    });
    const outcomes = JSON.parse(await readFile(out, 'utf8')) as Record<string, PythonOutcome>;
    return Object.fromEntries(
      Object.entries(outcomes).map(([id, o]) => [id.replace(/^kubernetes\.e2e_test\./, ''), o]),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
