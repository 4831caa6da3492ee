import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { prometheusTestsEnabled } from '../metrics/prometheus-harness.js';
import { serving, watchPods } from '../support/capacity.js';
import { waitFor } from '../support/wait.js';
import {
  apply,
  eventsAbout,
  kubectl,
  operatorCluster,
  policyYaml,
  status,
  waitForPhase,
  workloadYaml,
} from './support.js';

const NS = 'reverted';
const live = (pod: V1Pod): boolean => pod.metadata?.deletionTimestamp === undefined;

/** Checkout's serving pods, primary's (the serving side) and all, and primary's pods in any state. */
function checkout(pods: V1Pod[]): { primary: number; all: number; primaryPods: number } {
  const app = pods.filter((p) => p.metadata?.labels?.app === 'checkout');
  const primary = app.filter((p) => live(p) && p.metadata?.labels?.['kubestead.io/role'] === 'primary');
  return { primary: primary.filter(serving).length, all: app.filter(serving).length, primaryPods: primary.length };
}

describe.runIf(prometheusTestsEnabled())('fastRevert in the sandbox, with kubestead run and real Prometheus', () => {
  const cluster = operatorCluster();

  it('a revert to the previous image is promoted with no step, and ready pods never drop below the count before', async () => {
    const { sandbox, prom } = cluster;
    await apply(sandbox, workloadYaml(NS, 'checkout', 'example/checkout:1'));
    await cluster.operator(NS);
    await apply(sandbox, policyYaml(NS, 'checkout', prom.url, '  fastRevert: {revisions: 2}\n'));
    const first = (await waitForPhase(sandbox, NS, 'checkout', 'Idle', 30_000)).stableRevision as string;
    await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', NS);
    const released = await waitFor(
      async () => {
        const s: Record<string, unknown> = await status(sandbox, NS, 'checkout');
        return s.phase === 'Succeeded' && s.stableRevision !== first ? s : undefined;
      },
      90_000,
      'example/checkout:2 promoted',
    );
    const advancedBefore = (await eventsAbout(sandbox, NS, 'RolloutPolicy', 'checkout')).filter((e) =>
      e.startsWith('Advanced'),
    );
    expect(advancedBefore).toHaveLength(1); // the release walked its steps

    const sampler = await watchPods(sandbox, NS, checkout);
    try {
      // The count before: the release's rollout over (its old pods gone), every primary pod ready.
      const before = await waitFor(
        () => sampler.samples.find((s) => s.primaryPods === 4 && s.primary === 4 && s.all === 4),
        30_000,
        'primary settled at 4 ready pods',
      );
      const from = sampler.samples.length;
      await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:1', '-n', NS);
      const reverted = await waitFor(
        async () => {
          const s: Record<string, unknown> = await status(sandbox, NS, 'checkout');
          return s.phase === 'Succeeded' && s.stableRevision === first ? s : undefined;
        },
        60_000,
        'the revert promoted',
      );
      expect((reverted.lastDecision as { reasons: { rule: string }[] }).reasons[0]?.rule).toBe('fast-revert');
      expect(reverted.promotedRevisions).toEqual([first, released.stableRevision]);
      await waitFor(() => sampler.samples.at(-1)?.all === 4 || undefined, 30_000, 'the canary scaled to 0');
      await sampler.stop();
      const during = sampler.samples.slice(from);
      // The sampler saw the switch: primary surged (more pods than before) while it rolled.
      expect(Math.max(...during.map((s) => s.primaryPods))).toBeGreaterThan(before.primaryPods);
      const lowest = Math.min(...during.map((s) => s.primary));
      expect(lowest, JSON.stringify(during)).toBeGreaterThanOrEqual(before.primary);
      expect(Math.min(...during.map((s) => s.all))).toBeGreaterThanOrEqual(before.all);
    } finally {
      await sampler.stop();
    }
    const advanced = (await eventsAbout(sandbox, NS, 'RolloutPolicy', 'checkout')).filter((e) =>
      e.startsWith('Advanced'),
    );
    expect(advanced).toEqual(advancedBefore); // no step walked
  }, 240_000);
});
