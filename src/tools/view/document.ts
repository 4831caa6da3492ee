import type { AuditEntry } from '../../pipeline/record/audit/entry.js';
import type { PolicyStatus } from '../../pipeline/policy/status.js';
import { stepLabel } from '../../pipeline/policy/vocabulary.js';

/**
 * The status document: one policy as `kubestead status -o json` prints it and the dashboard's JSON API
 * serves it (`GET /api/v1/policies/NS/NAME`; the list has the summary part of each). Built from the
 * policy object and, for the detail, its audit chain and rollback reports: nothing here reads a cluster.
 */
export const DOCUMENT_KIND = 'PolicyStatusDocument';
export const DOCUMENT_VERSION = 1;

/** The fields of a RolloutPolicy the document reads (from the cluster: anything may be missing). */
export interface PolicyObjectView {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    creationTimestamp?: string | Date;
    generation?: number;
  };
  spec?: {
    interval?: string;
    steps?: Array<{ weight?: number; soak?: string; pause?: { duration?: string } }>;
    mode?: string;
  };
  status?: PolicyStatus;
}

export interface PolicySummary {
  kind: typeof DOCUMENT_KIND;
  version: typeof DOCUMENT_VERSION;
  namespace: string;
  name: string;
  uid: string | null;
  createdAt: string | null;
  phase: string | null;
  /** The step in progress: its 0-based index, as people read it (`2/3`), and the step count. */
  step: { index: number; label: string; count: number } | null;
  /** The canary's weight in percent: asked (status.canaryWeight) and given (status.effectiveWeight). */
  weight: { asked: number | null; given: number | null };
  revisions: { stable: string | null; canary: string | null };
  stepStartedAt: string | null;
  lastDecision: PolicyStatus['lastDecision'] | null;
  checks: NonNullable<PolicyStatus['checks']>;
  conditions: NonNullable<PolicyStatus['conditions']>;
  lastOverride: PolicyStatus['lastOverride'] | null;
  report: string | null;
  mode: string;
}

export interface StepView {
  index: number;
  label: string;
  kind: 'weight' | 'pause';
  weight: number | null;
  /** A weight step's soak or a timed pause's duration (null: `pause: {}` waits for a person). */
  duration: string | null;
  state: 'done' | 'current' | 'pending';
}

export interface SeriesPoint {
  time: string;
  value: number | null;
  status: string;
  seq: number;
  step: number;
}

export interface RolloutView {
  revision: string | null;
  startedAt: string | null;
  /** Each check's values at each recorded tick of this rollout, against its bounds. */
  checks: Record<string, { min: number | null; max: number | null; points: SeriesPoint[] }>;
  /** The rollout's entries: what happened, oldest first. */
  timeline: Array<{
    seq: number;
    time: string;
    kind: string;
    action: string;
    step: string;
    message: string;
    actor: string | null;
  }>;
}

export interface AuditView {
  entries: number;
  head: string | null;
  verified: boolean;
  /** `OK shop/web: 9 entries, …` or `FAIL …` (kubestead audit verify's verdict), or why there is none. */
  summary: string;
}

export interface ReportView {
  name: string;
  seq: number;
  rolledBackAt: string;
  reasons: string[];
}

export interface PolicyDetail extends PolicySummary {
  steps: StepView[];
  rollout: RolloutView | null;
  overrides: Array<{ action: string; actor: string | null; time: string; seq: number }>;
  audit: AuditView | null;
  reports: ReportView[];
}

const iso = (value: string | Date | undefined): string | null =>
  value === undefined ? null : value instanceof Date ? value.toISOString() : value;

const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value);

function identity(policy: PolicyObjectView): Pick<PolicySummary, 'namespace' | 'name' | 'uid' | 'createdAt' | 'mode'> {
  const meta = policy.metadata ?? {};
  return {
    namespace: meta.namespace ?? 'default',
    name: meta.name ?? '',
    uid: orNull(meta.uid),
    createdAt: iso(meta.creationTimestamp),
    mode: policy.spec?.mode ?? 'active',
  };
}

function stepOf(policy: PolicyObjectView): PolicySummary['step'] {
  const index = policy.status?.currentStep;
  const count = policy.spec?.steps?.length ?? 0;
  return index === undefined ? null : { index, label: stepLabel(index, count), count };
}

/** The summary of a policy: what the list of policies shows (from the object alone). */
export function summarize(policy: PolicyObjectView): PolicySummary {
  const status = policy.status ?? {};
  return {
    kind: DOCUMENT_KIND,
    version: DOCUMENT_VERSION,
    ...identity(policy),
    phase: orNull(status.phase),
    step: stepOf(policy),
    weight: { asked: orNull(status.canaryWeight), given: orNull(status.effectiveWeight) },
    revisions: { stable: orNull(status.stableRevision), canary: orNull(status.canaryRevision) },
    stepStartedAt: orNull(status.stepStartedAt),
    lastDecision: orNull(status.lastDecision),
    checks: status.checks ?? {},
    conditions: status.conditions ?? [],
    lastOverride: orNull(status.lastOverride),
    report: orNull(status.report),
  };
}

function stepState(index: number, status: PolicyStatus): StepView['state'] {
  const current = status.currentStep;
  if (status.phase === 'Succeeded' || status.phase === 'Promoting') return 'done';
  if (current === undefined || index > current) return 'pending';
  if (index < current) return 'done';
  return status.phase === 'Progressing' || status.phase === 'Paused' ? 'current' : 'pending';
}

/** The policy's steps as a timeline: done, the current one, those to come. */
export function stepsOf(policy: PolicyObjectView): StepView[] {
  const steps = policy.spec?.steps ?? [];
  let held: number | null = null;
  return steps.map((step, index) => {
    if (step.weight !== undefined) held = step.weight;
    return {
      index,
      label: stepLabel(index, steps.length),
      kind: step.pause ? 'pause' : 'weight',
      weight: step.pause ? held : (step.weight ?? null),
      duration: step.pause ? (step.pause.duration ?? null) : (step.soak ?? '5m'),
      state: stepState(index, policy.status ?? {}),
    };
  });
}

/** The entries of the newest rollout: from its canary's start (or restart) on. */
export function newestRollout(chain: AuditEntry[]): AuditEntry[] {
  const starts = ['canary-started', 'restarted'];
  for (let i = chain.length - 1; i >= 0; i -= 1) {
    const entry = chain[i]!;
    if (entry.kind === 'event' && starts.includes(entry.decision?.reasons[0]?.rule ?? '')) return chain.slice(i);
  }
  return [];
}

function seriesOf(entries: AuditEntry[]): RolloutView['checks'] {
  const checks: RolloutView['checks'] = {};
  for (const entry of entries) {
    for (const [name, m] of Object.entries(entry.snapshot?.checks ?? {})) {
      const series = (checks[name] ??= { min: m.min, max: m.max, points: [] });
      Object.assign(series, { min: m.min, max: m.max });
      if (series.points.some((p) => p.seq === entry.seq)) continue;
      const step = entry.snapshot?.rollout.step ?? entry.decision?.step ?? 0;
      series.points.push({ time: m.observedAt ?? entry.time, value: m.value, status: m.status, seq: entry.seq, step });
    }
  }
  return checks;
}

/** The newest rollout as the chain has it: its checks' values at each recorded tick, and its timeline. */
export function rolloutOf(chain: AuditEntry[], stepCount: number): RolloutView | null {
  const entries = newestRollout(chain);
  if (entries.length === 0) return null;
  return {
    revision: entries[0]!.revision,
    startedAt: entries[0]!.time,
    checks: seriesOf(entries),
    timeline: entries.map((e) => ({
      seq: e.seq,
      time: e.time,
      kind: e.kind,
      action: e.kind === 'event' ? (e.decision?.reasons[0]?.rule ?? 'event') : (e.decision?.action ?? e.kind),
      step: stepLabel(e.decision?.step ?? 0, stepCount),
      message: e.message,
      actor: e.actor,
    })),
  };
}

/** The detail of a policy: the summary, its steps, the newest rollout, overrides, the audit chain and reports. */
export function detailOf(
  policy: PolicyObjectView,
  chain: { entries: AuditEntry[]; audit: AuditView } | null,
  reports: ReportView[],
): PolicyDetail {
  const entries = chain?.entries ?? [];
  return {
    ...summarize(policy),
    steps: stepsOf(policy),
    rollout: rolloutOf(entries, policy.spec?.steps?.length ?? 0),
    overrides: entries
      .filter((e) => e.kind === 'override')
      .map((e) => ({ action: e.message.split(' by ')[0] ?? '', actor: e.actor, time: e.time, seq: e.seq }))
      .slice(-20),
    audit: chain?.audit ?? null,
    reports,
  };
}
