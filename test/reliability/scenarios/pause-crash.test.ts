import { describe, expect, it } from 'vitest';
import { prometheusTestsEnabled } from '../../metrics/prometheus-harness.js';
import { chainHoldingI, releaseActuations, replacedIn } from '../../support/rollout-checks.js';
import { waitFor } from '../../support/wait.js';
import {
  apply,
  getObject,
  kubectl,
  operatorCluster,
  policyPath,
  policyYaml,
  waitForPhase,
  workloadYaml,
} from '../../e2e/support.js';

const PAUSE_MS = 15_000;
/** How long no operator runs, from the kill: the fault injected. The restart is well inside the pause. */
const DOWN_MS = 6_000;

/**
 * The shared policy with a timed pause as its first step (no traffic to the canary until it ends), then one weight
 * step. (A pause after a weight step keeps that step's traffic: entering it writes nothing, which invariant I's
 * "each decision has an actuation of its own" would not tell from a lost write.)
 */
const pausedPolicy = (ns: string, prometheus: string): string =>
  replacedIn(
    policyYaml(ns, 'checkout', prometheus),
    '    - {weight: 25, soak: 3s}\n    - {weight: 50, soak: 3s}\n',
    `    - {pause: {duration: ${PAUSE_MS / 1000}s}}\n    - {weight: 50, soak: 2s}\n`,
  );

describe.runIf(prometheusTestsEnabled())('row 2: a crash in a timed pause', () => {
  const cluster = operatorCluster();

  it('a kubestead run SIGKILLed in a timed pause: the restarted process ends it at the persisted start + duration, advancing once', async () => {
    const { sandbox, prom } = cluster;
    const ns = 'pause-crash';
    const path = policyPath(ns, 'checkout');
    await apply(sandbox, workloadYaml(ns, 'checkout', 'example/checkout:1'));
    await apply(sandbox, pausedPolicy(ns, prom.url));
    const first = await cluster.operator(ns);
    await waitForPhase(sandbox, ns, 'checkout', 'Idle', 30_000);
    await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', ns);

    // In the pause (step 1): its start as status persisted it, then the kill.
    const paused = await waitFor(
      async () => {
        const s: Record<string, unknown> | undefined = (await getObject(sandbox, path)).status;
        return s?.phase === 'Progressing' && s.currentStep === 0 ? s : undefined;
      },
      60_000,
      'the pause',
    );
    const start = Date.parse(paused.stepStartedAt as string);
    first.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    expect(killedAt - start, 'killed early in the pause').toBeLessThan(PAUSE_MS / 2);
    // The operator stays down a fixed time: that is the fault injected, not a wait for a condition.
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
    const restartedAt = Date.now();
    await cluster.operator(ns);
    await waitForPhase(sandbox, ns, 'checkout', 'Succeeded', 60_000);

    const entries = await chainHoldingI(sandbox, ns, 'checkout');
    expect(releaseActuations(entries)).toEqual(['advance 0', 'promote 1']);
    const advanced = entries.find((e) => e.decision?.action === 'advance' && e.decision.step === 0)!;
    const endedAt = Date.parse(advanced.recordedAt);
    // Not skipped (not before start + duration) and not restarted from zero (a new 20 s from the restart).
    expect(endedAt - start, 'the pause ended, ms after its persisted start').toBeGreaterThanOrEqual(PAUSE_MS);
    expect(endedAt, 'the pause ended before a pause counted from the restart would').toBeLessThan(
      restartedAt + PAUSE_MS,
    );
  }, 120_000);
});
