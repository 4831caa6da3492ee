import { describe, expect, it } from 'vitest';
import { decide } from '../../src/pipeline/decide/decide.js';
import { stepFacts } from '../../src/pipeline/decide/consistency.js';
import { SnapshotError } from '../../src/pipeline/facts/snapshot.js';
import { capacityOf, stageText, stepPlan } from '../../src/pipeline/facts/steps.js';
import { stepCount } from '../../src/pipeline/policy/strategies.js';
import { defaultSnapshot, mergeSnapshot } from '../../src/tools/policytest/defaults.js';
import { compiledFixture } from '../helpers.js';

const ab = compiledFixture('policies/shop-api-ab-istio.yaml');
const mirror = compiledFixture('policies/search-mirror-gateway.yaml');
const blueGreen = compiledFixture('policies/checkout-blue-green.yaml');
const promoteByHand = compiledFixture('policies/payments-blue-green-istio.yaml');
const canary = compiledFixture('policies/checkout.yaml');

const INSIDER = { headers: { 'x-canary': { exact: 'insider' } } };
const OPTED_IN = { headers: { cookie: { regex: '^(.*?;)?(canary=always)(;.*)?$' } } };

describe('the plan of each kind of step', () => {
  it.each([
    [
      ab,
      0,
      { kind: 'match', weight: 0, match: [INSIDER, OPTED_IN], soakSeconds: 600 },
      'A/B x-canary=insider or cookie~=^(.*?;)?(canary=always)(;.*)?$',
    ],
    [ab, 1, { kind: 'mirror', weight: 0, mirror: 100, soakSeconds: 300 }, 'mirror 100 %'],
    [ab, 2, { kind: 'pause', weight: 0, mirror: 100, soakSeconds: null }, 'paused at mirror 100 %'],
    [ab, 3, { kind: 'weight', weight: 25, soakSeconds: 600 }, 'weight 25 %'],
    [mirror, 0, { kind: 'mirror', weight: 0, mirror: 50, soakSeconds: 600 }, 'mirror 50 %'],
    [blueGreen, 0, { kind: 'preview', weight: 0, soakSeconds: 300 }, 'preview'],
    [blueGreen, 1, { kind: 'switched', weight: 100, soakSeconds: 30 }, 'switched, old kept 30 s'],
  ])('%#: step %s', (compiled, index, plan, stage) => {
    expect(stepPlan(compiled.spec, index)).toEqual(plan);
    expect(stageText(stepPlan(compiled.spec, index))).toBe(stage);
  });

  it('counts two stages for blue-green and the steps for a canary', () => {
    expect(stepCount(blueGreen.spec)).toBe(2);
    expect(stepCount(ab.spec)).toBe(5);
  });

  it.each([
    [ab, 0, 0],
    [ab, 1, 100],
    [mirror, 0, 50],
    [ab, 3, 25],
    [blueGreen, 0, 100],
    [blueGreen, 1, 100],
  ])('%#: step %s needs canary pods for %s %% of primary’s load', (compiled, index, capacity) => {
    expect(capacityOf(stepPlan(compiled.spec, index))).toBe(capacity);
  });
});

describe('decisions over A/B, mirror and blue-green snapshots (the same rules as a weight step)', () => {
  const at = (compiled: typeof ab, step: number, partial: Record<string, unknown> = {}) =>
    mergeSnapshot(defaultSnapshot(compiled.spec, step), partial);

  it.each([
    [
      ab,
      0,
      { rollout: { stepElapsedSeconds: 10 } },
      'hold',
      'soaking A/B step 1/5 (only matching requests reach the canary): 10s of 600s',
    ],
    [
      ab,
      1,
      { rollout: { stepElapsedSeconds: 10 } },
      'hold',
      "soaking mirror step 2/5 (100% of primary's requests copied to the canary): 10s of 300s",
    ],
    [
      blueGreen,
      0,
      { rollout: { stepElapsedSeconds: 10 } },
      'hold',
      'preview: the checks judge the new version 10s of 300s before the switch',
    ],
    [
      blueGreen,
      1,
      { rollout: { stepElapsedSeconds: 10 } },
      'hold',
      'switched: the old version stays at full count 10s of 30s (scaleDownDelay)',
    ],
    [
      blueGreen,
      0,
      { rollout: { stepElapsedSeconds: 300 } },
      'advance',
      'step 1/2 soaked 300s of 300s with every check in bounds',
    ],
    [
      blueGreen,
      1,
      { rollout: { stepElapsedSeconds: 30 } },
      'promote',
      'step 2/2 soaked 30s of 30s with every check in bounds',
    ],
    [
      promoteByHand,
      0,
      { rollout: { stepElapsedSeconds: 900 } },
      'pause',
      'the preview soaked 900s of 900s: the switch waits for promote (autoPromote: false)',
    ],
    [
      promoteByHand,
      0,
      { override: 'promote' },
      'advance',
      "promote override during the preview: the user's traffic switches to the new version",
    ],
    [blueGreen, 1, { checks: { 'error-rate': { value: 0.5 } } }, 'rollback', 'error-rate = 0.5 is above max 0.01'],
  ])('%#: step %s → %s: %s', async (compiled, step, partial, action, message) => {
    const decision = await decide(compiled, at(compiled, step, partial));
    expect(decision.action).toBe(action);
    expect(decision.reasons[0]?.message).toBe(message);
  });

  it('compiles no reason for a kind of step the policy lacks', () => {
    const rules = (compiled: typeof ab) => compiled.reasons.map((r) => r.message);
    expect(rules(canary).some((m) => m.includes('A/B') || m.includes('preview') || m.includes('mirror'))).toBe(false);
    expect(canary.reasons.map((r) => r.rule)).not.toContain('promote-switch');
    expect(blueGreen.reasons.map((r) => r.rule)).toContain('promote-switch');
    expect(blueGreen.reasons.map((r) => r.rule)).not.toContain('await-promotion');
    expect(promoteByHand.reasons.map((r) => r.rule)).toContain('await-promotion');
  });

  it('lists the snapshot facts of a step: its kind, and a match or mirror only where it has one', () => {
    expect(stepFacts(ab.spec, 0)).toEqual({
      stepKind: 'match',
      weight: 0,
      soakSeconds: 600,
      match: [INSIDER, OPTED_IN],
    });
    expect(stepFacts(ab.spec, 2)).toEqual({ stepKind: 'pause', weight: 0, soakSeconds: null, mirror: 100 });
    expect(stepFacts(ab.spec, 4)).toEqual({ stepKind: 'weight', weight: 50, soakSeconds: 300 });
    expect(defaultSnapshot(blueGreen.spec, 1).rollout).toMatchObject({
      stepKind: 'switched',
      stepCount: 2,
      weight: 100,
    });
  });

  it.each([
    [
      ab,
      0,
      { rollout: { match: [INSIDER] } },
      'rollout.match: is x-canary=insider, but step 1/5 of the policy matches',
    ],
    [ab, 1, { rollout: { mirror: 50 } }, 'rollout.mirror: is 50, but step 2/5 of the policy mirrors 100%'],
    [ab, 3, { rollout: { mirror: 50 } }, 'rollout.mirror: is 50, but step 4/5 of the policy mirrors nothing'],
    [
      blueGreen,
      0,
      { rollout: { stepKind: 'weight' } },
      'rollout.stepKind: is "weight", but step 1/2 of the policy is a preview step',
    ],
    [blueGreen, 0, { rollout: { stepCount: 1 } }, 'rollout.stepCount: is 1, but the policy has 2 step(s)'],
  ])('%#: refuses a snapshot that contradicts the policy', async (compiled, step, partial, message) => {
    const error = await decide(compiled, at(compiled, step, partial)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotError);
    expect((error as Error).message).toContain(message);
  });
});
