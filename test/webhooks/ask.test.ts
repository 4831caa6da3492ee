import { describe, expect, it } from 'vitest';
import { passedAfter, passKey, webhooksToAsk, type WebhookStage } from '../../src/pipeline/facts/webhooks.js';
import type { PolicySpec } from '../../src/pipeline/policy/schema.js';
import type { WebhookSpec } from '../../src/pipeline/policy/webhooks.js';
import type { WebhookAnswer } from '../../src/adapters/webhooks/call.js';

const TYPES = [
  'preRollout',
  'rollout',
  'confirmRollout',
  'confirmTrafficIncrease',
  'confirmPromotion',
  'postRollout',
  'rollback',
] as const;
const hooks: WebhookSpec[] = TYPES.map((type) => ({
  name: type.toLowerCase(),
  type,
  url: 'http://h/',
  timeout: '10s',
}));
/** Three steps of 60 s soak. */
const spec = { steps: [{}, {}, {}], webhooks: hooks } as unknown as PolicySpec;
const stage = (step: number, elapsed: number, passed: string[] = []): WebhookStage => ({
  step,
  plan: { kind: 'weight', weight: 10, soakSeconds: 60 },
  stepElapsedSeconds: elapsed,
  revision: 'r1',
  passed,
});
const asked = (s: WebhookStage) => webhooksToAsk(spec, s).map((h) => h.type);

describe('which webhooks a tick asks', () => {
  it.each([
    ['first step, not soaked', stage(0, 10), ['preRollout', 'rollout', 'confirmRollout', 'rollback']],
    [
      'first step, soaked',
      stage(0, 60),
      ['preRollout', 'rollout', 'confirmRollout', 'confirmTrafficIncrease', 'rollback'],
    ],
    ['middle step, not soaked', stage(1, 10), ['rollout', 'rollback']],
    ['middle step, soaked', stage(1, 61), ['rollout', 'confirmTrafficIncrease', 'rollback']],
    ['last step, soaked', stage(2, 60), ['rollout', 'confirmPromotion', 'rollback']],
    [
      'first step, preRollout and confirmRollout passed',
      stage(0, 10, ['r1/prerollout', 'r1/confirmrollout@0']),
      ['rollout', 'rollback'],
    ],
    [
      'a pass of another rollout does not count',
      stage(0, 10, ['r0/prerollout']),
      ['preRollout', 'rollout', 'confirmRollout', 'rollback'],
    ],
    [
      'a gate passed at step 0 is asked again at step 1',
      stage(1, 60, ['r1/confirmtrafficincrease@0']),
      ['rollout', 'confirmTrafficIncrease', 'rollback'],
    ],
  ])('%s', (_, s, expected) => {
    expect(asked(s)).toEqual(expected);
  });
});

const answer = (ok: boolean): WebhookAnswer =>
  ({ type: 'rollout', ok, code: ok ? 200 : 500, latencyMs: 1, deliveryId: 'd' }) as unknown as WebhookAnswer;

describe('what passed after a tick', () => {
  it.each([
    ['a preRollout answered 2xx passes once per rollout', 'preRollout', true, ['r1/prerollout']],
    ['a gate answered 2xx passes at its step', 'confirmPromotion', true, ['r1/confirmpromotion@2']],
    ['a gate not answered 2xx does not pass', 'confirmPromotion', false, []],
    ['rollout webhooks are never memoised', 'rollout', true, []],
    ['rollback webhooks are never memoised', 'rollback', true, []],
  ])('%s', (_, type, ok, expected) => {
    const hook = hooks.find((h) => h.type === type)!;
    const s = stage(2, 60, ['r0/prerollout']);
    expect(passedAfter(s, [hook], { [hook.name]: answer(ok) })).toEqual(expected);
    expect(passKey(hook, s).startsWith('r1/')).toBe(true);
  });
});
