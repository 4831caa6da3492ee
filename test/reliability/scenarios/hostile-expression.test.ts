import { describe, expect, it } from 'vitest';
import { JSONATA_BUDGET } from '../../../src/lib/jsonata/bounded.js';
import { json, startServer, type TestServer } from '../../metrics/helpers.js';
import { prometheusTestsEnabled } from '../../metrics/prometheus-harness.js';
import { waitFor } from '../../support/wait.js';
import { apply, kubectl, operatorCluster, policyYaml, status, waitForPhase, workloadYaml } from '../../e2e/support.js';

type Condition = { type: string; status: string; reason: string; message: string };
type Reason = { rule: string; message: string };

/** Not knowable before running (no recursion, no literal range over the cap): 90,000 sums of 90,000 numbers. */
const SPIN = '$count([1..90000].($sum([1..90000])))';
/** Two lists under the cap each, appended: 180,000 items. */
const ALLOCATE = '$count($append([1..90000], [1..90000]))';
/** Knowable: a function that calls itself. */
const RECURSE = '($f := function($n){ $f($n+1) }; $f(0))';

/** A derived fact is evaluated when a rule reads it: this one holds on it. */
const derived = (expression: string) =>
  `  onMetricUnavailable: pause\n  derived: {hostile: ${JSON.stringify(expression)}}\n` +
  '  rules:\n    - name: hostile-hold\n      when: {all: [{fact: derived, path: "$.hostile", operator: lessThan, value: 0}]}\n' +
  '      then: hold\n';

describe.runIf(prometheusTestsEnabled())('row 37: a hostile policy expression in a running controller', () => {
  const cluster = operatorCluster();

  it('kubestead run cuts off endless and allocating derived facts at the budget and marks those policies; another advances to the end', async () => {
    const { sandbox } = cluster;
    const ns = 'hostile-expression';
    const server: TestServer = await startServer((_req, res) =>
      json(res, 200, {
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, '0.01'] }] },
      }),
    );
    const policies: Record<string, string> = { steady: '', spin: derived(SPIN), allocate: derived(ALLOCATE) };
    try {
      for (const [name, extra] of Object.entries({ ...policies, recurse: derived(RECURSE) })) {
        await apply(sandbox, workloadYaml(ns, name, `example/${name}:1`, 2));
        await apply(sandbox, policyYaml(ns, name, server.url, extra).replace(/soak: 3s/g, 'soak: 1s'));
      }
      const proc = await cluster.operator(ns);

      // Knowable: refused at validation, never run.
      const refused = await waitFor(
        async () =>
          ((await status(sandbox, ns, 'recurse')).conditions as Condition[] | undefined)?.find(
            (c) => c.type === 'Ready' && c.status === 'False',
          ),
        30_000,
        'Ready=False on the recursive policy',
      );
      expect(refused.reason).toBe('InvalidPolicy');
      expect(refused.message).toMatch(/calls itself: recursion is not allowed/);

      for (const name of Object.keys(policies)) {
        await waitForPhase(sandbox, ns, name, 'Idle', 30_000);
        await kubectl(sandbox, 'set', 'image', `deployment/${name}`, `app=example/${name}:2`, '-n', ns);
      }
      // Not knowable: cut off by the budget at each tick; that policy pauses, naming the fact and the budget.
      for (const [name, expression, budget] of [
        ['spin', SPIN, `its time budget of ${JSONATA_BUDGET.timeoutMs} ms`],
        ['allocate', ALLOCATE, `its sequence cap of ${JSONATA_BUDGET.sequence} items`],
      ] as const) {
        const paused = await waitForPhase(sandbox, ns, name, 'Paused', 30_000);
        const reasons = (paused.lastDecision as { reasons: Reason[] }).reasons;
        expect(reasons[0]).toEqual({
          rule: 'derived-unavailable',
          message: expect.stringContaining(
            `derived fact hostile is unavailable: ${JSON.stringify(expression)} exceeded ${budget}`,
          ) as string,
        });
      }
      await waitForPhase(sandbox, ns, 'steady', 'Succeeded', 45_000);
      expect((await status(sandbox, ns, 'spin')).phase).toBe('Paused');
      expect((await status(sandbox, ns, 'allocate')).phase).toBe('Paused');
      expect(proc.has('kubestead operator started')).toBe(true);
      await expect(Promise.race([proc.exited, Promise.resolve('running')])).resolves.toBe('running');
    } finally {
      await server.close();
    }
  }, 90_000);
});
