import { describe, expect, it } from 'vitest';
import { scenario } from './scenario.js';
import { imageOf } from './support.js';

/** spec.fastRevert against the sandbox: back to the image promoted before, at once. */
const env = scenario();

describe('fast revert', () => {
  it('a revert to the revision promoted before is promoted without steps, and status keeps the history', async () => {
    const f = await env.fixture();
    const adopted = await f.adoptedBy(env.spec({ fastRevert: { revisions: 2 } }));
    const first = adopted.stableRevision!;
    expect(adopted.promotedRevisions).toEqual([first]);
    await f.setImage('app:2');
    const released = await f.tickUntil((s) => s.phase === 'Succeeded', 60_000);
    expect(released.promotedRevisions).toEqual([released.stableRevision, first]);
    const advancedBefore = (await f.eventReasons()).filter((r) => r === 'Advanced').length;
    expect(advancedBefore).toBe(1); // the release walked its steps

    await f.setImage('app:1');
    await f.tick(); // the canary starts at step 0 with the old revision
    expect(await f.status()).toMatchObject({ phase: 'Progressing', currentStep: 0, canaryRevision: first });
    await f.settle();
    await f.clock.advance(1_000); // one second: no soak is over
    await f.tick();
    const decided = await f.status();
    expect(decided.lastDecision?.action).toBe('promote');
    // The revert first; the soak it went past is listed after it.
    expect(decided.lastDecision?.reasons.map((r) => r.rule)).toEqual(['fast-revert', 'soak']);
    expect(decided.lastDecision?.reasons[0]?.message).toBe(
      `revert to revision ${first}, promoted 1 promotion(s) ago: promoted at once, without steps`,
    );
    const done = await f.tickUntil((s) => s.phase === 'Succeeded', 1_000);
    expect(done.stableRevision).toBe(first);
    expect(done.promotedRevisions).toEqual([first, released.stableRevision]);
    expect(imageOf(await f.deployment('app-primary'))).toBe('app:1');
    expect((await f.eventReasons()).filter((r) => r === 'Advanced')).toHaveLength(advancedBefore);
  });

  it('without fastRevert the same revert walks every step', async () => {
    const f = await env.fixture();
    await f.adoptedBy(env.spec());
    await f.setImage('app:2');
    await f.tickUntil((s) => s.phase === 'Succeeded', 60_000);
    await f.setImage('app:1');
    await f.tick();
    await f.settle();
    await f.clock.advance(1_000);
    await f.tick();
    expect(await f.status()).toMatchObject({ phase: 'Progressing', currentStep: 0 });
    expect((await f.status()).promotedRevisions).toBeUndefined();
  });
});
