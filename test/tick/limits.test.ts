import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { scenario } from './scenario.js';
import type { TickFixture } from './support.js';

const run = promisify(execFile);
const env = scenario();
afterEach(() => env.prom.set(0.001));

/** One check of max 0.05 that tolerates two failing measurements in a row and pauses above 0.02. */
const spec = () =>
  env.spec({
    checks: [
      {
        name: 'errors',
        provider: 'prom',
        query: 'sum(rate(errors[1m]))',
        max: 0.05,
        failureLimit: 2,
        inconclusive: { max: 0.02 },
      },
    ],
  });

/** One interval later, the stand-in Prometheus answering `value`: a tick. */
async function tickWith(f: TickFixture, value: number) {
  env.prom.set(value);
  await f.clock.advance(10_000);
  await f.tick();
  return f.status();
}

describe('failureLimit', () => {
  it('a single failing interval does not roll back; three in a row do, counted across a controller restart', async () => {
    const f = await env.fixture();
    await f.startCanary(spec());
    await f.settle();
    let status = await tickWith(f, 0.07);
    expect(status).toMatchObject({
      phase: 'Progressing',
      checks: { errors: { verdict: 'fail', consecutiveFailures: 1 } },
    });
    status = await tickWith(f, 0.001);
    expect(status.phase).toBe('Progressing');
    expect(status.checks?.errors).toMatchObject({ verdict: 'pass' });
    expect(status.checks?.errors?.consecutiveFailures).toBeUndefined();
    expect((await tickWith(f, 0.07)).checks?.errors?.consecutiveFailures).toBe(1);
    expect((await tickWith(f, 0.08)).checks?.errors?.consecutiveFailures).toBe(2);
    f.build(); // a restarted controller: the count is status's
    status = await tickWith(f, 0.09);
    expect(status.phase).toBe('RolledBack');
    expect(status.lastDecision?.reasons[0]).toEqual({
      rule: 'check-breach',
      check: 'errors',
      message: 'errors = 0.09 is above max 0.05, failing 3 measurements in a row: past failureLimit 2',
    });
    expect((await f.deployment('app')).spec?.replicas).toBe(0);
  });

  it('a second tick in the same interval re-reads the same measurement: counted once', async () => {
    const f = await env.fixture();
    await f.startCanary(spec());
    await f.settle();
    expect((await tickWith(f, 0.07)).checks?.errors?.consecutiveFailures).toBe(1);
    // an override or a watch event: another tick in the same evaluation window (windows are aligned to the epoch:
    // a fixed second later crosses into the next one when the first tick fell in the window's last second)
    await f.clock.advance(Math.floor((10_000 - (f.clock.now() % 10_000)) / 2));
    await f.tick();
    expect((await f.status()).checks?.errors?.consecutiveFailures).toBe(1);
  });
});

describe('the inconclusive band', () => {
  it('a value in the band pauses for a person, and `kubestead resume` goes on', async () => {
    const f = await env.fixture();
    await f.startCanary(spec());
    await f.settle();
    let status = await tickWith(f, 0.03);
    expect(status).toMatchObject({
      phase: 'Paused',
      manualPause: true,
      checks: { errors: { verdict: 'inconclusive' } },
    });
    expect(status.lastDecision?.reasons[0]?.message).toBe(
      'errors = 0.03 is inconclusive (above 0.02, within max 0.05): paused for a person to resume or abort',
    );
    // Back to a passing value: the pause is a person's to lift, not the metric's.
    status = await tickWith(f, 0.001);
    expect(status).toMatchObject({ phase: 'Paused', manualPause: true });
    await run(resolve(ROOT, 'bin/kubestead'), ['resume', 'app', '-n', f.namespace], {
      env: { ...process.env, KUBECONFIG: env.sandbox.kubeconfigPath },
    });
    status = await tickWith(f, 0.03);
    expect(status).toMatchObject({ phase: 'Progressing', manualPause: false, inconclusiveAccepted: true });
    // The band stays accepted for the rest of the step: the rollout soaks on and advances.
    status = await f.tickUntil((s) => s.currentStep === 1, 10_000);
    expect(status).toMatchObject({ phase: 'Progressing', canaryWeight: 50 });
    expect(status.inconclusiveAccepted).toBeUndefined();
  });
});
