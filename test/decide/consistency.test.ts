import { describe, expect, it } from 'vitest';
import { decide } from '../../src/pipeline/decide/decide.js';
import { SnapshotError } from '../../src/pipeline/facts/snapshot.js';
import { defaultSnapshot, mergeSnapshot } from '../../src/tools/policytest/defaults.js';
import { compiledFixture } from '../helpers.js';

// checkout: steps 5 (5m), 25 (10m), pause {}, 50.
const checkout = compiledFixture('policies/checkout.yaml');
const facts = (partial: Record<string, unknown>, step = 0) =>
  mergeSnapshot(defaultSnapshot(checkout.spec, step), partial);

async function issuesOf(snapshot: unknown): Promise<string[]> {
  const error = await decide(checkout, snapshot).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SnapshotError);
  return (error as SnapshotError).issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('a snapshot that contradicts its policy is bad input', () => {
  it.each([
    [
      'a step count the policy does not have',
      { rollout: { stepCount: 99 } },
      0,
      'rollout.stepCount: is 99, but the policy has 4 step(s)',
    ],
    [
      'a timed pause where the policy waits for resume',
      { rollout: { soakSeconds: 0 } },
      2,
      'rollout.soakSeconds: is 0, but step 3/4 of the policy is a pause without duration (soakSeconds null: it waits for resume)',
    ],
    [
      'a weight step where the policy pauses',
      { rollout: { stepKind: 'weight', soakSeconds: 300 } },
      2,
      'rollout.stepKind: is "weight", but step 3/4 of the policy is a pause step',
    ],
    [
      'another weight',
      { rollout: { weight: 30 } },
      1,
      'rollout.weight: is 30, but step 2/4 of the policy has weight 25',
    ],
    [
      'another soak',
      { rollout: { soakSeconds: 60 } },
      1,
      'rollout.soakSeconds: is 60, but step 2/4 of the policy has soakSeconds 600',
    ],
  ])('%s', async (_, partial, step, issue) => {
    expect(await issuesOf(facts(partial, step))).toEqual([issue]);
  });

  it('a snapshot that agrees is decided', async () => {
    await expect(decide(checkout, facts({ rollout: { stepElapsedSeconds: 600 } }, 1))).resolves.toMatchObject({
      action: 'advance',
    });
  });
});
