import { describe, expect, it } from 'vitest';
import {
  adopted,
  canaryStarted,
  decided,
  promoted,
  steppedTo,
  withdrawn,
} from '../../src/pipeline/actuate/transitions.js';
import type { Decision } from '../../src/pipeline/decide/decision.js';
import type { PolicyStatus } from '../../src/pipeline/policy/status.js';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const decision = (action: Decision['action'], rule = 'x', nextStep: number | null = null): Decision => ({
  action,
  reasons: [{ rule, message: rule }],
  step: 0,
  nextStep,
});
const at = { nowMs: T0, weightOf: (step: number) => [5, 25, 50][step] ?? 0 };
const progressing: PolicyStatus = {
  phase: 'Progressing',
  currentStep: 0,
  canaryWeight: 5,
  stepStartedAt: iso(T0 - 60_000),
  pausedSeconds: 0,
};
const paused: PolicyStatus = { ...progressing, phase: 'Paused', pausedSince: iso(T0 - 30_000), pausedSeconds: 10 };

describe('the rollout state machine: every phase change', () => {
  it.each<[string, PolicyStatus, Decision, Partial<PolicyStatus>]>([
    [
      'an advance enters the next step, its clock at 0',
      progressing,
      decision('advance', 'advance', 1),
      {
        phase: 'Progressing',
        currentStep: 1,
        canaryWeight: 25,
        stepStartedAt: iso(T0),
        pausedSeconds: 0,
        manualPause: false,
      },
    ],
    [
      'a hold after a pause adds the pause to the paused seconds',
      paused,
      decision('hold', 'soak'),
      { phase: 'Progressing', pausedSeconds: 40, pausedSince: undefined },
    ],
    [
      'a pause stops the soak clock',
      progressing,
      decision('pause', 'manual-pause'),
      { phase: 'Paused', pausedSince: iso(T0) },
    ],
    ['a pause step keeps its clock running', progressing, decision('pause', 'pause-step'), { phase: 'Paused' }],
    [
      'a rollback ends the pause and the weight',
      paused,
      decision('rollback', 'check-breach'),
      { phase: 'RolledBack', canaryWeight: 0, manualPause: false, pausedSeconds: 40 },
    ],
    [
      'a promote starts promoting',
      progressing,
      decision('promote', 'advance'),
      { phase: 'Promoting', manualPause: false },
    ],
  ])('%s', (_, status, d, expected) => {
    const change = decided(status, d, at);
    expect(change).toMatchObject(expected);
    if (!('pausedSince' in expected) && d.action === 'pause' && d.reasons[0]?.rule === 'pause-step')
      expect(change.pausedSince).toBeUndefined();
  });

  it('a pause override sets the manual pause; resume and promote lift it', () => {
    expect(decided(progressing, decision('pause', 'manual-pause'), { ...at, override: 'pause' }).manualPause).toBe(
      true,
    );
    expect(
      decided({ ...paused, manualPause: true }, decision('hold', 'soak'), { ...at, override: 'resume' }).manualPause,
    ).toBe(false);
  });

  it('adoption, a canary start, a step, a withdrawal and a promotion', () => {
    expect(adopted('abc', 3)).toEqual({ phase: 'Idle', stableRevision: 'abc', canaryWeight: 0, canaryReplicas: 3 });
    expect(canaryStarted('def', 5, iso(T0))).toMatchObject({
      phase: 'Progressing',
      currentStep: 0,
      canaryRevision: 'def',
      canaryWeight: 5,
      checks: undefined,
      lastDecision: undefined,
    });
    expect(steppedTo(2, 50, iso(T0))).toMatchObject({
      phase: 'Progressing',
      currentStep: 2,
      canaryWeight: 50,
      stepStartedAt: iso(T0),
    });
    expect(withdrawn()).toMatchObject({ phase: 'Idle', canaryWeight: 0, canaryRevision: undefined });
    expect(promoted('def')).toMatchObject({ phase: 'Succeeded', stableRevision: 'def', canaryWeight: 0 });
  });
});
