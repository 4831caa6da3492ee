import { describe, expect, it } from 'vitest';
import { nextRun, verdictOf } from '../../src/pipeline/facts/verdict.js';
import { decide } from '../../src/pipeline/decide/decide.js';
import { checkVerdict } from '../../src/pipeline/decide/verdict.js';
import { SnapshotError } from '../../src/pipeline/facts/snapshot.js';
import { decided } from '../../src/pipeline/actuate/transitions.js';
import { loadPolicies } from '../../src/pipeline/policy/load.js';
import { defaultSnapshot, mergeSnapshot } from '../../src/tools/policytest/defaults.js';
import { compiledFixture, policyYaml } from '../helpers.js';

const spiky = compiledFixture('policies/spiky.yaml');
const facts = (partial: Record<string, unknown>) => mergeSnapshot(defaultSnapshot(spiky.spec, 0), partial);
const soaked = { rollout: { stepElapsedSeconds: 600 } };

describe('the verdict of a measurement', () => {
  const band = { min: 0.9, max: 0.05, inconclusive: { min: 0.95, max: 0.02 } };
  it.each([
    [{ max: 0.05 }, 0.05, 'pass'],
    [{ max: 0.05 }, 0.0501, 'fail'],
    [{ min: 0.9 }, 0.89, 'fail'],
    [{ max: 0.05, inconclusive: { max: 0.02 } }, 0.02, 'pass'],
    [{ max: 0.05, inconclusive: { max: 0.02 } }, 0.021, 'inconclusive'],
    [{ max: 0.05, inconclusive: { max: 0.02 } }, 0.05, 'inconclusive'],
    [{ min: 0.9, inconclusive: { min: 0.95 } }, 0.92, 'inconclusive'],
    [{ min: 0.9, inconclusive: { min: 0.95 } }, 0.95, 'pass'],
    [band, 0.96, 'fail'],
  ] as const)('%j with value %s is %s', (check, value, verdict) => {
    expect(verdictOf(check, { status: 'ok', value })).toBe(verdict);
  });

  it('is unavailable without a value', () => {
    expect(verdictOf({ max: 1 }, { status: 'unavailable', value: null })).toBe('unavailable');
  });
});

describe('the run of failing measurements', () => {
  // Windows of one minute: a second tick in the same minute re-reads the same (cached) measurement.
  const window = (iso: string) => String(Math.floor(Date.parse(iso) / 60_000));
  const at = (time: string) => ({ time, window });
  it.each([
    ['a first failure', undefined, 'fail', '2026-01-01T00:01:00Z', { count: 1, at: '2026-01-01T00:01:00Z' }],
    [
      'a failure in the next window',
      { count: 1, at: '2026-01-01T00:01:00Z' },
      'fail',
      '2026-01-01T00:02:00Z',
      { count: 2, at: '2026-01-01T00:02:00Z' },
    ],
    [
      'the same window again (an extra tick): not counted twice',
      { count: 2, at: '2026-01-01T00:02:00Z' },
      'fail',
      '2026-01-01T00:02:30Z',
      { count: 2, at: '2026-01-01T00:02:30Z' },
    ],
    ['a pass ends the run', { count: 2, at: '2026-01-01T00:02:00Z' }, 'pass', '2026-01-01T00:03:00Z', { count: 0 }],
    ['so does an inconclusive value', { count: 1 }, 'inconclusive', '2026-01-01T00:03:00Z', { count: 0 }],
    [
      'an unavailable one leaves it as it was',
      { count: 2, at: '2026-01-01T00:02:00Z' },
      'unavailable',
      '2026-01-01T00:03:00Z',
      { count: 2, at: '2026-01-01T00:02:00Z' },
    ],
  ] as const)('%s', (_, previous, verdict, time, expected) => {
    expect(nextRun(previous, verdict, at(time))).toEqual(expected);
  });
});

describe('failureLimit and the inconclusive band decide through the rule set', () => {
  it.each([
    ['a first failure holds', { checks: { 'error-rate': { value: 0.07 } }, ...soaked }, 'hold', 'check-failing'],
    [
      'a second one too (failureLimit 2)',
      { checks: { 'error-rate': { value: 0.07, consecutiveFailures: 2 } }, ...soaked },
      'hold',
      'check-failing',
    ],
    [
      'the third in a row rolls back',
      { checks: { 'error-rate': { value: 0.07, consecutiveFailures: 3 } } },
      'rollback',
      'check-breach',
    ],
    ['a value in the band pauses', { checks: { 'error-rate': { value: 0.03 } } }, 'pause', 'inconclusive'],
    [
      'a breach beats the band of another check',
      { checks: { 'error-rate': { value: 0.07, consecutiveFailures: 3 }, 'success-rate': { value: 0.92 } } },
      'rollback',
      'check-breach',
    ],
    [
      'the band beats a tolerated failure of another check',
      { checks: { 'error-rate': { value: 0.07 }, 'success-rate': { value: 0.92 } } },
      'pause',
      'inconclusive',
    ],
    [
      'a resume goes on',
      { checks: { 'error-rate': { value: 0.03 } }, override: 'resume', ...soaked },
      'advance',
      'advance',
    ],
    [
      'an accepted band does not pause again this step',
      { checks: { 'error-rate': { value: 0.03 } }, rollout: { inconclusiveAccepted: true, stepElapsedSeconds: 600 } },
      'advance',
      'advance',
    ],
    ['a pass advances', { checks: { 'error-rate': { value: 0.02 } }, ...soaked }, 'advance', 'advance'],
  ])('%s', async (_, partial, action, rule) => {
    const decision = await decide(spiky, facts(partial));
    expect(decision.action).toBe(action);
    expect(decision.reasons[0]?.rule).toBe(rule);
  });

  it('says why, with the count and the limit', async () => {
    const held = await decide(spiky, facts({ checks: { 'error-rate': { value: 0.07, consecutiveFailures: 2 } } }));
    expect(held.reasons[0]).toEqual({
      rule: 'check-failing',
      check: 'error-rate',
      message: 'error-rate = 0.07 is above max 0.05: failing measurement 2 in a row, within failureLimit 2; holding',
    });
    // A tolerated failure is not a step forward: no advance reason beside it.
    expect(held.reasons.map((r) => r.rule)).not.toContain('advance');
    const rolled = await decide(spiky, facts({ checks: { 'error-rate': { value: 0.07, consecutiveFailures: 3 } } }));
    expect(rolled.reasons[0]?.message).toBe(
      'error-rate = 0.07 is above max 0.05, failing 3 measurements in a row: past failureLimit 2',
    );
    expect(rolled.reasons.map((r) => r.rule)).not.toContain('check-failing');
    const paused = await decide(spiky, facts({ checks: { 'success-rate': { value: 0.92 } } }));
    expect(paused.reasons[0]?.message).toBe(
      'success-rate = 0.92 is inconclusive (below 0.97, within min 0.9): paused for a person to resume or abort',
    );
  });

  it('without a failureLimit the first failing measurement rolls back, as before', async () => {
    const plain = compiledFixture('policies/checkout.yaml');
    const snapshot = mergeSnapshot(defaultSnapshot(plain.spec, 0), { checks: { 'error-rate': { value: 0.02 } } });
    expect((await decide(plain, snapshot)).action).toBe('rollback');
  });

  it.each([
    [{ value: 0.01, verdict: 'fail' }, 'checks.error-rate.verdict: is fail, but value 0.01 is pass'],
    [
      { value: 0.07, consecutiveFailures: 0 },
      'checks.error-rate.consecutiveFailures: is 0, but this measurement fails',
    ],
    [{ value: 0.03, consecutiveFailures: 2 }, 'a inconclusive measurement ends the run'],
  ])('refuses a snapshot whose verdict or count contradicts its value: %j', async (check, message) => {
    const error = await decide(spiky, facts({ checks: { 'error-rate': check } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotError);
    expect((error as Error).message).toContain(message);
  });

  it('`kubestead query` judges one measurement with the same rules', async () => {
    const m = (value: number) => ({ status: 'ok' as const, value, min: null, max: 0.05, provider: 'prom', query: 'q' });
    expect(await checkVerdict(spiky, 'error-rate', m(0.01))).toEqual({ verdict: 'pass' });
    expect((await checkVerdict(spiky, 'error-rate', m(0.03))).verdict).toBe('inconclusive');
    expect((await checkVerdict(spiky, 'error-rate', m(0.07))).verdict).toBe('fail');
  });
});

describe('an inconclusive pause waits for a person', () => {
  const at = { nowMs: Date.parse('2026-01-01T00:10:00Z'), weightOf: () => 10 };
  const pause = (rule: string) => ({
    action: 'pause' as const,
    reasons: [{ rule, message: '' }],
    step: 0,
    nextStep: null,
  });
  it('sets manualPause, which a resume lifts, accepting the band for the rest of the step', () => {
    expect(decided({ phase: 'Progressing' }, pause('inconclusive'), at)).toMatchObject({ manualPause: true });
    expect(decided({ phase: 'Progressing' }, pause('metric-unavailable'), at).manualPause).toBeUndefined();
    const hold = { action: 'hold' as const, reasons: [], step: 0, nextStep: null };
    expect(decided({ phase: 'Paused', manualPause: true }, hold, { ...at, override: 'resume' })).toMatchObject({
      manualPause: false,
      inconclusiveAccepted: true,
    });
    const advance = { action: 'advance' as const, reasons: [], step: 0, nextStep: 1 };
    expect(decided({ inconclusiveAccepted: true }, advance, at)).toHaveProperty('inconclusiveAccepted', undefined);
  });
});

describe('validation of the band and the limit', () => {
  const spec = (check: string) =>
    policyYaml(`targetRef: {kind: Deployment, name: web}
steps: [{weight: 10}]
providers: {prom: {prometheus: {address: "http://prom:9090"}}}
checks:
  - {name: errors, provider: prom, query: up, ${check}}`);
  it.each([
    [
      'max: 0.05, inconclusive: {max: 0.05}',
      'p.yaml:9: spec.checks[0].inconclusive.max: inconclusive.max 0.05 must be below max 0.05',
    ],
    [
      'max: 0.05, inconclusive: {min: 0.01}',
      "p.yaml:9: spec.checks[0].inconclusive.min: inconclusive.min needs the check's min: the band lies between them",
    ],
    [
      'min: 0.9, inconclusive: {min: 0.8}',
      'p.yaml:9: spec.checks[0].inconclusive.min: inconclusive.min 0.8 must be above min 0.9',
    ],
    [
      'min: 0, max: 1, inconclusive: {min: 0.6, max: 0.4}',
      'p.yaml:9: spec.checks[0].inconclusive.min: inconclusive.min 0.6 is above inconclusive.max 0.4',
    ],
    ['max: 0.05, inconclusive: {}', 'p.yaml:9: spec.checks[0].inconclusive: an inconclusive band needs max or min'],
    ['max: 1, failureLimit: -1', 'p.yaml:9: spec.checks[0].failureLimit'],
    ['max: 1, failureLimit: 1.5', 'p.yaml:9: spec.checks[0].failureLimit'],
    ['max: 1, inconclusive: {max: 0.5, mx: 1}', 'unknown field "mx"'],
  ])('%s', (check, message) => {
    expect(loadPolicies(spec(check), 'p.yaml').errors.join('\n')).toContain(message);
  });

  it('accepts a band inside the bounds', () => {
    expect(
      loadPolicies(spec('min: 0, max: 1, failureLimit: 3, inconclusive: {min: 0.2, max: 0.8}'), 'p.yaml').errors,
    ).toEqual([]);
  });
});
