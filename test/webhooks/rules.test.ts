import { describe, expect, it } from 'vitest';
import { decide } from '../../src/pipeline/decide/decide.js';
import { SnapshotError } from '../../src/pipeline/facts/snapshot.js';
import { loadPolicies } from '../../src/pipeline/policy/load.js';
import { defaultSnapshot, mergeSnapshot } from '../../src/tools/policytest/defaults.js';
import { compiledFixture, policyYaml } from '../helpers.js';

/** fixtures/policies/webhooks.yaml: two steps of 2m soak; acceptance, load, traffic-gate, release-gate, done, stop. */
const hooks = compiledFixture('policies/webhooks.yaml');
/** The default snapshot of the step the partial names (its weight and soak), with the partial merged in. */
const facts = (partial: { rollout?: { step?: number } } & Record<string, unknown>) =>
  mergeSnapshot(defaultSnapshot(hooks.spec, partial.rollout?.step ?? 0), partial);
const soaked = (step: number) => ({ rollout: { step, stepElapsedSeconds: 120 } });
const good = { checks: { 'error-rate': { value: 0.01 } } };
const bad = { checks: { 'error-rate': { value: 0.09 } } };
const failed = (type: string, error = 'HTTP 503 Service Unavailable') => ({ type, ok: false, code: 503, error });
const answered = (type: string, code = 200) => ({ type, ok: true, code });

describe('webhook answers decide through the rule set', () => {
  it.each([
    [
      'a failing preRollout rolls back',
      { webhooks: { acceptance: failed('preRollout') } },
      'rollback',
      'webhook-failed',
    ],
    [
      'a passing preRollout changes nothing',
      { webhooks: { acceptance: answered('preRollout') }, ...good },
      'hold',
      'soak',
    ],
    [
      'a failing load webhook is a failed check',
      { webhooks: { load: failed('rollout') }, ...good },
      'rollback',
      'webhook-failed',
    ],
    [
      'a rollback webhook answering 2xx rolls back',
      { webhooks: { stop: answered('rollback', 202) } },
      'rollback',
      'webhook-rollback',
    ],
    [
      'a rollback webhook answering 404 does not',
      { webhooks: { stop: failed('rollback', 'HTTP 404 Not Found') }, ...good, ...soaked(0) },
      'advance',
      'advance',
    ],
    [
      'a closed traffic gate holds a soaked step',
      { webhooks: { 'traffic-gate': failed('confirmTrafficIncrease') }, ...good, ...soaked(0) },
      'hold',
      'gate',
    ],
    [
      'a closed traffic gate does not speak while the step soaks',
      { webhooks: { 'traffic-gate': failed('confirmTrafficIncrease') }, ...good },
      'hold',
      'soak',
    ],
    [
      'an open traffic gate advances',
      { webhooks: { 'traffic-gate': answered('confirmTrafficIncrease') }, ...good, ...soaked(0) },
      'advance',
      'advance',
    ],
    [
      'a closed promotion gate holds the last step',
      { webhooks: { 'release-gate': failed('confirmPromotion') }, ...good, ...soaked(1) },
      'hold',
      'gate',
    ],
    [
      'a closed promotion gate does not hold an earlier step',
      { webhooks: { 'release-gate': failed('confirmPromotion') }, ...good, ...soaked(0) },
      'advance',
      'advance',
    ],
    [
      'a breach while the promotion gate holds still rolls back (flagger #1801)',
      { webhooks: { 'release-gate': failed('confirmPromotion') }, ...bad, ...soaked(1) },
      'rollback',
      'check-breach',
    ],
    [
      'a rollback webhook while a gate holds rolls back',
      { webhooks: { 'release-gate': failed('confirmPromotion'), stop: answered('rollback') }, ...good, ...soaked(1) },
      'rollback',
      'webhook-rollback',
    ],
    [
      'the gate holds a promote override too',
      { webhooks: { 'release-gate': failed('confirmPromotion') }, ...good, ...soaked(1), override: 'promote' },
      'hold',
      'gate',
    ],
    [
      'an abort goes through a gate',
      { webhooks: { 'release-gate': failed('confirmPromotion') }, ...good, ...soaked(1), override: 'abort' },
      'rollback',
      'override-abort',
    ],
    [
      'an open promotion gate resumes where the rollout stood: it promotes',
      { webhooks: { 'release-gate': answered('confirmPromotion') }, ...good, ...soaked(1) },
      'promote',
      'advance',
    ],
    [
      'postRollout is recorded and changes nothing',
      { webhooks: { done: failed('postRollout') }, ...good, ...soaked(0) },
      'advance',
      'advance',
    ],
  ])('%s', async (_, partial, action, rule) => {
    const decision = await decide(hooks, facts(partial));
    expect(decision.action).toBe(action);
    expect(decision.reasons[0]?.rule).toBe(rule);
  });

  it('says which webhook and why, from its answer', async () => {
    const gate = await decide(
      hooks,
      facts({ webhooks: { 'release-gate': failed('confirmPromotion', 'HTTP 423 Locked') }, ...good, ...soaked(1) }),
    );
    expect(gate.reasons[0]).toEqual({
      rule: 'gate',
      message: 'waiting for gate release-gate (confirmPromotion: HTTP 423 Locked) at step 2/2',
    });
    const pre = await decide(hooks, facts({ webhooks: { acceptance: failed('preRollout', 'timeout after 20s') } }));
    expect(pre.reasons[0]).toEqual({
      rule: 'webhook-failed',
      message: 'preRollout webhook acceptance failed (timeout after 20s): rolling back before any traffic moves',
    });
    const stop = await decide(hooks, facts({ webhooks: { stop: answered('rollback', 202) } }));
    expect(stop.reasons[0]?.message).toBe('rollback webhook stop answered HTTP 202: rolling back');
  });

  it('a policy without webhooks has no webhook rule, and an answer of a webhook it lacks decides nothing', async () => {
    const plain = compiledFixture('policies/spiky.yaml');
    expect(plain.reasons.filter((r) => r.webhook)).toEqual([]);
    const decision = await decide(
      plain,
      mergeSnapshot(defaultSnapshot(plain.spec, 0), { webhooks: { x: failed('preRollout') } }),
    );
    expect(decision.reasons.map((r) => r.rule)).not.toContain('webhook-failed');
  });

  it.each([
    [{ x: { type: 'preRollout', ok: false } }, 'webhooks.x: a webhook answer that is not ok says why in "error"'],
    [{ x: { type: 'gate', ok: true } }, 'webhooks.x.type'],
    [{ x: { type: 'rollback', ok: true, code: 99 } }, 'webhooks.x.code'],
  ])('refuses a malformed answer %j', async (webhooks, message) => {
    const error = await decide(hooks, facts({ webhooks })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotError);
    expect((error as Error).message).toContain(message);
  });
});

describe('validation of webhooks', () => {
  const spec = (hooks: string) =>
    policyYaml(`targetRef: {kind: Deployment, name: web}
steps: [{weight: 10}]
webhooks:
${hooks}`);
  it.each([
    ['  - {name: a, type: gate, url: "http://g"}', 'p.yaml:8: spec.webhooks[0].type'],
    ['  - {name: a, type: rollback, url: "ftp://g"}', 'p.yaml:8: spec.webhooks[0].url: expected an http(s) URL'],
    [
      '  - {name: a, type: rollback, url: "http://u:p@g"}',
      'p.yaml:8: spec.webhooks[0].url: a URL may not carry credentials',
    ],
    ['  - {name: A_b, type: rollback, url: "http://g"}', 'p.yaml:8: spec.webhooks[0].name: expected a DNS label'],
    ['  - {name: a, type: rollback, url: "http://g", timout: 5s}', 'unknown field "timout"'],
    ['  - {name: a, type: rollback, url: "http://g", timeout: 9h}', 'spec.webhooks[0].timeout'],
    [
      '  - {name: a, type: rollback, url: "http://g"}\n  - {name: a, type: preRollout, url: "http://h"}',
      'p.yaml:9: spec.webhooks[1].name: duplicate webhook name "a" (first at webhooks[0])',
    ],
  ])('%s', (hooksYaml, message) => {
    expect(loadPolicies(spec(hooksYaml), 'p.yaml').errors.join('\n')).toContain(message);
  });

  it('accepts the fixture, with defaults', () => {
    expect(hooks.spec.webhooks?.map((w) => [w.name, w.type, w.timeout])).toEqual([
      ['acceptance', 'preRollout', '20s'],
      ['load', 'rollout', '10s'],
      ['traffic-gate', 'confirmTrafficIncrease', '10s'],
      ['release-gate', 'confirmPromotion', '10s'],
      ['done', 'postRollout', '10s'],
      ['stop', 'rollback', '10s'],
    ]);
  });
});
