import { describe, expect, it } from 'vitest';
import type { PolicyStatus } from '../../src/pipeline/policy/status.js';
import { scenario } from './scenario.js';
import { imageOf, type TickFixture } from './support.js';

/**
 * Freeze windows against the sandbox, the controller's ManualClock driven across a window's edges:
 * a deny window from 16:00 to 17:00 Berlin time, that is 15:00 to 16:00 UTC in December.
 */
const env = scenario();
const DENY = { deny: { schedule: '0 16 * * *', duration: '1h', timeZone: 'Europe/Berlin' } };
const OPENS = '2026-12-03T16:00:00.000Z';
const spec = () => env.spec({ windows: [DENY] });

const frozenOf = (s: PolicyStatus) => s.conditions?.find((c) => c.type === 'Frozen');

/** Moves the fixture's clock to `iso` (never back). */
async function moveTo(f: TickFixture, iso: string): Promise<void> {
  const ms = Date.parse(iso) - f.clock.now();
  expect(ms).toBeGreaterThanOrEqual(0);
  await f.clock.advance(ms);
}

/**
 * A release started after an adoption begun at 14:58:00 UTC (a few 1 s ticks) reaches its second
 * (last) step a minute later, before the freeze, and is held there at 15:00:30.
 */
async function heldAtTheEdge(f: TickFixture): Promise<PolicyStatus> {
  const started = await f.startCanary(spec());
  expect(started).toMatchObject({ phase: 'Progressing', currentStep: 0, canaryWeight: 20 });
  expect(frozenOf(started)).toMatchObject({ status: 'False', reason: 'Open' });
  expect(f.clock.now()).toBeLessThan(Date.parse('2026-12-03T14:58:30Z'));
  await f.settle();
  await f.clock.advance(60_000);
  await f.tick();
  expect(await f.status()).toMatchObject({ phase: 'Progressing', currentStep: 1, canaryWeight: 50 });
  await f.settle();
  await moveTo(f, '2026-12-03T15:00:30Z'); // the last step soaked, but the deny window has begun
  await f.tick();
  return f.status();
}

describe('freeze windows, the clock crossing their edges', () => {
  it('a release reaching a deny window holds at its step, and is promoted the moment the window ends', async () => {
    const f = await env.fixture({ start: Date.parse('2026-12-03T14:58:00Z') });
    const held = await heldAtTheEdge(f);
    expect(held).toMatchObject({ phase: 'Progressing', currentStep: 1, canaryWeight: 50 });
    // A hold changes nothing, so status keeps the last decision that did (the advance to step 2/2).
    expect(f.observer.decisions.at(-1)).toBe('active:hold');
    expect(held.lastDecision?.action).toBe('advance');
    expect(frozenOf(held)).toMatchObject({
      status: 'True',
      reason: 'Window',
      message: `frozen inside the deny window "0 16 * * *" (Europe/Berlin, 1h); opens at ${OPENS}`,
    });

    // A second before the window ends: still held, the canary where it was, primary untouched.
    await moveTo(f, '2026-12-03T15:59:59Z');
    await f.tick();
    expect(await f.status()).toMatchObject({
      phase: 'Progressing',
      currentStep: 1,
      lastDecision: { action: 'advance' },
    });
    expect(f.observer.decisions.at(-1)).toBe('active:hold');
    expect(imageOf(await f.deployment('app-primary'))).toBe('app:1');

    await moveTo(f, OPENS);
    await f.tick();
    expect((await f.status()).lastDecision).toMatchObject({ action: 'promote', reasons: [{ rule: 'advance' }] });
    const done = await f.tickUntil((s) => s.phase === 'Succeeded', 10_000);
    expect(frozenOf(done)).toMatchObject({ status: 'False', reason: 'Open' });
    expect(imageOf(await f.deployment('app-primary'))).toBe('app:2');
  });

  it('a template changed inside a deny window starts no canary until the window ends', async () => {
    const f = await env.fixture({ start: Date.parse('2026-12-03T15:30:00Z') });
    const adopted = await f.adoptedBy(spec());
    expect(frozenOf(adopted)).toMatchObject({ status: 'True', reason: 'Window' });
    await f.setImage('app:2');
    const result = await f.tick();
    // Back at the policy's interval (10s), or when the window opens if that is sooner.
    expect(result.requeueAfterMs).toBe(10_000);
    const held = await f.status();
    expect(held.phase).toBe('Idle');
    expect(frozenOf(held)?.reason).toBe('StartHeld');
    expect(frozenOf(held)?.message).toMatch(
      new RegExp(`^new template \\(revision \\S+\\) waits: frozen inside the deny window .*; opens at ${OPENS}$`),
    );
    expect((await f.deployment('app')).spec?.replicas).toBe(0);

    await moveTo(f, '2026-12-03T15:59:55Z');
    expect((await f.tick()).requeueAfterMs).toBe(5_000);
    expect((await f.status()).phase).toBe('Idle');
    const held2 = (await f.events('RolloutPolicy')).filter((e) => e.message?.includes('waits: frozen'));
    expect(held2).toHaveLength(1); // one Event per template and window, not one a tick

    await moveTo(f, OPENS);
    await f.tick();
    const started = await f.status();
    expect(started).toMatchObject({ phase: 'Progressing', currentStep: 0, canaryWeight: 20 });
    expect(frozenOf(started)).toMatchObject({ status: 'False', reason: 'Open' });
    expect((await f.deployment('app')).spec?.replicas).toBeGreaterThan(0);
  });

  it('a breach during the freeze still rolls back', async () => {
    const f = await env.fixture({ start: Date.parse('2026-12-03T14:58:00Z') });
    await heldAtTheEdge(f);
    env.prom.set(0.4);
    try {
      await moveTo(f, '2026-12-03T15:10:00Z');
      await f.tick();
      const status = await f.status();
      expect(status).toMatchObject({ phase: 'RolledBack', canaryWeight: 0 });
      expect(status.lastDecision?.reasons.map((r) => r.rule)).toEqual(['check-breach', 'window']);
      expect(imageOf(await f.deployment('app-primary'))).toBe('app:1');
    } finally {
      env.prom.set(0.001);
    }
  });
});
