import { afterAll, beforeAll } from 'vitest';
import type { Sandbox, SandboxOptions } from '@kubestead/sandbox';
import { startFakePrometheus, type FakePrometheus } from './fake-prometheus.js';
import { fixture, tickSandbox, type FixtureOptions, type TickFixture } from './support.js';

/** A policy spec of two 1-minute steps (20 %, 50 %) and one check `errors` (max 0.05) on the Prometheus at `url`. */
export function checkedSpec(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    interval: '10s',
    steps: [
      { weight: 20, soak: '1m' },
      { weight: 50, soak: '1m' },
    ],
    providers: { prom: { prometheus: { address: url } } },
    checks: [{ name: 'errors', provider: 'prom', query: 'sum(rate(errors[1m]))', max: 0.05 }],
    ...extra,
  };
}

export interface Scenario {
  readonly sandbox: Sandbox;
  /** A stand-in Prometheus answering 0.001 until told otherwise. */
  readonly prom: FakePrometheus;
  spec(extra?: Record<string, unknown>): Record<string, unknown>;
  fixture(options?: FixtureOptions): Promise<TickFixture>;
}

/** One sandbox (with the CRD; `options` for it) and one stand-in Prometheus for a test file, started before and closed after it. */
export function scenario(options: SandboxOptions = {}): Scenario {
  let sandbox: Sandbox | undefined;
  let prom: FakePrometheus | undefined;
  beforeAll(async () => {
    [sandbox, prom] = await Promise.all([tickSandbox(options), startFakePrometheus(0.001)]);
  });
  afterAll(async () => {
    await prom?.close();
    await sandbox?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('scenario used outside its tests');
    return value;
  };
  return {
    get sandbox() {
      return started(sandbox);
    },
    get prom() {
      return started(prom);
    },
    spec: (extra = {}) => checkedSpec(started(prom).url, extra),
    fixture: (options = {}) => fixture(started(sandbox), options),
  };
}
