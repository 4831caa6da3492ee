import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/pipeline/compile/compile.js';
import { decide } from '../../src/pipeline/decide/decide.js';
import { compileJsonata, evaluateBounded, JSONATA_BUDGET } from '../../src/lib/jsonata/bounded.js';
import { evaluateValue } from '../../src/adapters/providers/extract.js';
import { parsePolicy } from '../../src/pipeline/policy/load.js';
import { defaultSnapshot } from '../../src/tools/policytest/defaults.js';

const ENDLESS = '($f := function($n){ $f($n+1) }; $f(0))';
const DEEP = '($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))';
const HUGE_SORT = '$count($sort([1..3000000], function($a,$b){$a<$b}))';

describe('every jsonata evaluation has a budget', () => {
  it.each([
    ['an endless loop', ENDLESS, `exceeded its time budget of ${JSONATA_BUDGET.timeoutMs} ms (an endless loop?)`],
    ['deep recursion', DEEP, `exceeded its depth budget of ${JSONATA_BUDGET.depth} (endless recursion?)`],
    ['a sort of three million items', HUGE_SORT, `exceeded its sequence cap of ${JSONATA_BUDGET.sequence} items`],
    [
      'two lists appended',
      '$count($append([1..90000], [1..90000]))',
      `exceeded its sequence cap of ${JSONATA_BUDGET.sequence} items`,
    ],
  ])('%s ends in a named error', async (_, text, error) => {
    await expect(evaluateBounded(compileJsonata(text), {})).resolves.toEqual({ error, exceeded: true });
  });

  it('a path that flattens more values than the cap ends in a named error (the cap on every sequence, not only ranges)', async () => {
    const rows = Array.from({ length: 400 }, () => ({ b: Array.from({ length: 400 }, (_, i) => i) }));
    await expect(evaluateBounded(compileJsonata('$count(a.b)'), { a: rows })).resolves.toEqual({
      error: `exceeded its sequence cap of ${JSONATA_BUDGET.sequence} items`,
      exceeded: true,
    });
    await expect(evaluateBounded(compileJsonata('$count(a.b)'), { a: rows.slice(0, 200) })).resolves.toEqual({
      value: 80_000,
    });
  });

  it('leaves ordinary expressions alone', async () => {
    await expect(evaluateBounded(compileJsonata('$sum([1..1000])'), {})).resolves.toEqual({ value: 500_500 });
    await expect(
      evaluateBounded(compileJsonata('($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(20))'), {}),
    ).resolves.toEqual({ value: 20 });
  });

  it('a check value with an endless loop is unavailable, naming the expression', async () => {
    await expect(evaluateValue(ENDLESS, {})).rejects.toThrow(
      `value expression "${ENDLESS}" exceeded its time budget of ${JSONATA_BUDGET.timeoutMs} ms`,
    );
  });
});

describe('a derived fact over its budget', () => {
  // Built without validation: validate refuses the recursion (test/policy/hardening.test.ts), but a
  // policy from an older controller or a bug must still not stall decide.
  const raw = (derived: string, onMetricUnavailable = 'rollback') => ({
    apiVersion: 'kubestead.io/v1alpha1',
    kind: 'RolloutPolicy',
    metadata: { name: 'p', namespace: 'ns' },
    spec: {
      targetRef: { kind: 'Deployment', name: 'web' },
      steps: [{ weight: 10 }],
      derived: { loop: derived },
      onMetricUnavailable,
    },
  });

  it.each(['rollback', 'pause'])(
    'is unavailable: onMetricUnavailable (%s) decides, and the reason names the expression',
    async (onMetricUnavailable) => {
      const parsed = parsePolicy(raw('$sum([1..10])', onMetricUnavailable));
      expect(parsed.issues).toEqual([]);
      const spec = { ...parsed.policy!.spec, derived: { loop: ENDLESS } };
      const compiled = compilePolicy({ ...parsed.policy!, spec });
      const decision = await decide(compiled, defaultSnapshot(spec, 0));
      expect(decision.action).toBe(onMetricUnavailable);
      expect(decision.reasons[0]).toEqual({
        rule: 'derived-unavailable',
        message: `derived fact loop is unavailable: "${ENDLESS}" exceeded its time budget of ${JSONATA_BUDGET.timeoutMs} ms (an endless loop?); onMetricUnavailable: ${onMetricUnavailable}`,
      });
    },
  );
});
