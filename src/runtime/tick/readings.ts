import type { TickPoint } from '../../pipeline/record/audit/report/build.js';
import type { FactSnapshot } from '../../pipeline/facts/snapshot.js';

/** Ticks kept per rollout (a 1 s interval for over half an hour); older ones drop off the front. */
const MAX_TICKS = 2000;
/** Rollouts kept (one per policy: a new canary revision replaces the last). */
const MAX_POLICIES = 10_000;

interface Rollout {
  revision: string | null;
  ticks: Array<{ time: string; step: number; checks: FactSnapshot['checks'] }>;
}

/**
 * Every tick's check readings of each policy's current rollout, in memory: the audit chain has only the
 * ticks that changed something, and a rollback report shows every tick (docs/audit.md). A restarted
 * controller starts again from its first tick; the report then has the chain's points before it.
 */
export class TickReadings {
  private readonly rollouts = new Map<string, Rollout>();

  add(uid: string, snapshot: FactSnapshot, revision: string | null): void {
    let rollout = this.rollouts.get(uid);
    if (!rollout || rollout.revision !== revision) {
      this.rollouts.delete(uid);
      if (this.rollouts.size >= MAX_POLICIES) this.rollouts.delete(this.rollouts.keys().next().value!);
      rollout = { revision, ticks: [] };
      this.rollouts.set(uid, rollout);
    }
    rollout.ticks.push({ time: snapshot.time, step: snapshot.rollout.step, checks: snapshot.checks });
    if (rollout.ticks.length > MAX_TICKS) rollout.ticks.shift();
  }

  /** Each check's reading at every tick of the policy's rollout of `revision`, oldest first. */
  of(uid: string, revision: string | null): Record<string, TickPoint[]> {
    const rollout = this.rollouts.get(uid);
    if (!rollout || rollout.revision !== revision) return {};
    const checks: Record<string, TickPoint[]> = {};
    for (const tick of rollout.ticks) {
      for (const [name, m] of Object.entries(tick.checks))
        (checks[name] ??= []).push({ time: tick.time, value: m.value, status: m.status, step: tick.step });
    }
    return checks;
  }

  forget(uid: string): void {
    this.rollouts.delete(uid);
  }
}
