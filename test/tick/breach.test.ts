import { describe, expect, it } from 'vitest';
import { AuditRecorder } from '../../src/pipeline/record/audit/index.js';
import { readChainLines } from '../../src/pipeline/record/audit/export.js';
import { systemClock } from '../../src/lib/clock/clock.js';
import type { Decision } from '../../src/pipeline/decide/decision.js';
import { silentLogger } from '../../src/lib/log/logger.js';
import type { DecisionRecord, Recorder } from '../../src/pipeline/record/recorder.js';
import { firstBreaches } from '../../src/runtime/tick/breach.js';
import { scenario } from './scenario.js';
import { kubeClients } from '../../src/adapters/kube/clients.js';

const env = scenario();

class KeepingRecorder implements Recorder {
  records: DecisionRecord[] = [];
  record(entry: DecisionRecord): Promise<Record<string, never>> {
    this.records.push(entry);
    return Promise.resolve({});
  }
}

const breach = { rule: 'check-breach', check: 'errors', message: 'errors = 0.4 is above max 0.05' };
const rollback: Decision = {
  action: 'rollback',
  reasons: [breach, { rule: 'soak', message: 'soaking 10s of 1m' }],
  step: 0,
  nextStep: null,
};
const shown = (value: number, bounds: { min?: number; max?: number } = { max: 0.05 }) => ({
  checks: { errors: { status: 'ok' as const, value, min: bounds.min ?? null, max: bounds.max ?? null } },
});

describe('a first breach of a check is a record', () => {
  it('firstBreaches: a breach of a check that status shows within bounds (or not at all) is a first one; one it shows out of bounds is not', () => {
    expect(firstBreaches(rollback, {})).toEqual([breach]);
    expect(firstBreaches(rollback, shown(0.01))).toEqual([breach]);
    expect(firstBreaches(rollback, shown(0.3))).toEqual([]);
    expect(firstBreaches(rollback, shown(0.5, { min: 0.9 }))).toEqual([]);
    expect(
      firstBreaches(rollback, { checks: { errors: { status: 'unavailable', value: null, min: null, max: 0.05 } } }),
    ).toEqual([breach]);
    expect(firstBreaches({ ...rollback, reasons: [{ rule: 'soak', message: 'soaking' }] }, {})).toEqual([]);
  });

  it('the tick records the breach once, before the rollback it causes, with the value in its message and an Event', async () => {
    const recorder = new KeepingRecorder();
    const f = await env.fixture({ recorder });
    await f.startCanary(env.spec());
    await f.settle();
    try {
      env.prom.set(0.4);
      for (let i = 0; i < 3; i++) {
        await f.clock.advance(10_000);
        await f.tick();
      }
    } finally {
      env.prom.set(0.001);
    }
    const kinds = recorder.records.map((r) => `${r.kind}:${r.decision.action}`);
    expect(kinds.filter((k) => k.startsWith('breach'))).toEqual(['breach:rollback']);
    expect(kinds.slice(-2)).toEqual(['breach:rollback', 'decision:rollback']);
    const record = recorder.records.find((r) => r.kind === 'breach');
    expect(record).toMatchObject({
      message: 'first breach: errors = 0.4 is above max 0.05',
      decision: { action: 'rollback', reasons: [{ rule: 'check-breach', check: 'errors' }] },
    });
    expect(record?.snapshot?.checks.errors).toMatchObject({ status: 'ok', value: 0.4, max: 0.05 });
    expect(await f.status()).toMatchObject({ phase: 'RolledBack' });
    expect((await f.events('RolloutPolicy')).filter((e) => e.reason === 'Breach').map((e) => e.message)).toEqual([
      'first breach: errors = 0.4 is above max 0.05',
    ]);
  });

  it("the audit recorder stores it as an entry of kind breach in the policy's chain", async () => {
    const recorder = new AuditRecorder(env.sandbox.kubeConfig(), systemClock, silentLogger);
    try {
      const f = await env.fixture({ recorder });
      await f.startCanary(env.spec());
      await f.settle();
      try {
        env.prom.set(0.4);
        await f.clock.advance(10_000);
        await f.tick();
      } finally {
        env.prom.set(0.001);
      }
      const entries = (await readChainLines(kubeClients(env.sandbox.kubeConfig()), f.namespace, 'app')).map(
        (line) => JSON.parse(line) as { kind: string; message: string },
      );
      expect(entries.filter((e) => e.kind === 'breach').map((e) => e.message)).toEqual([
        'first breach: errors = 0.4 is above max 0.05',
      ]);
      expect(entries.map((e) => e.kind).slice(-2)).toEqual(['breach', 'decision']);
    } finally {
      await recorder.stop();
    }
  });
});
