import { formatDuration, parseDuration } from '../../pipeline/policy/duration.js';
import { stepLabel } from '../../pipeline/policy/vocabulary.js';

/** The fields of a RolloutPolicy the view reads (from the cluster: anything may be missing). */
export interface PolicyView {
  metadata: { name?: string; namespace?: string };
  spec?: {
    interval?: string;
    /** Blue-green: two stages, the preview and the switch (docs/strategies.md). */
    blueGreen?: unknown;
    steps?: Array<{ weight?: number; soak?: string; pause?: { duration?: string } }>;
  };
  status?: {
    phase?: string;
    currentStep?: number;
    /** The current step's kind as people read it (`A/B x-canary=insider`, `mirror 100 %`). */
    stage?: string;
    canaryWeight?: number;
    effectiveWeight?: number;
    stepStartedAt?: string;
    lastDecision?: {
      action?: string;
      reasons?: Array<{ rule?: string; check?: string; message?: string }>;
      time?: string;
    };
    checks?: Record<string, CheckView>;
    conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }>;
    /** The user's HPA of the target (docs/hpa.md). */
    autoscaler?: {
      name?: string;
      minReplicas?: number;
      maxReplicas?: number;
      currentReplicas?: number;
      desiredReplicas?: number;
    };
  };
}

/** `status.checks.<name>`: a check's reading as of the last tick, and since when it reads so. */
export interface CheckView {
  status?: string;
  value?: number | null;
  min?: number | null;
  max?: number | null;
  unchangedSince?: string;
  error?: string;
  /** pass, fail, inconclusive or unavailable (docs/checks.md, "Failure limits and the inconclusive band"). */
  verdict?: string;
  consecutiveFailures?: number;
}

/**
 * The controller as its leader Lease shows it: status is not written when a reading repeats, so
 * whether the checks are being measured now is told by whether a controller is alive.
 */
export type ControllerSeen =
  { lease: string; holder: string; renewedAt: number; durationSeconds: number } | { lease: string; unreadable: string };

type Tone = 'good' | 'bad' | 'warn' | 'dim';
const COLORS: Record<Tone, string> = { good: '\x1b[32m', bad: '\x1b[31m', warn: '\x1b[33m', dim: '\x1b[2m' };
const PHASE_TONES: Record<string, Tone> = {
  Succeeded: 'good',
  Progressing: 'good',
  Promoting: 'good',
  RolledBack: 'bad',
  Failed: 'bad',
  Paused: 'warn',
};
const DEFAULT_SOAK_SECONDS = 300;
const BAR_WIDTH = 20;

export interface ViewOptions {
  color: boolean;
  /** The time the soak progress is measured at (ms). */
  now: number;
  /** A log entry rather than a live screen: no soak bar, no decision time, no ages (the demo's plain lines). */
  log?: boolean;
  /** The controller's leader Lease, read beside the policy (`kubestead status`). */
  controller?: ControllerSeen;
}

function paint(text: string, tone: Tone | undefined, options: ViewOptions): string {
  return options.color && tone ? `${COLORS[tone]}${text}\x1b[0m` : text;
}

const num = (value: number | null | undefined): string =>
  value === null || value === undefined ? '-' : String(Math.round(value * 10_000) / 10_000);

/** A weight or pause step is told by the weight and the pause line already; an A/B or mirror step by its stage. */
const stageOf = (stage: string | undefined): string => (stage && !/^(weight|pause)\b/.test(stage) ? ` (${stage})` : '');

/** How many steps a rollout of this spec has: a blue-green policy's two stages, or its steps. */
const stepsOf = (spec: PolicyView['spec']): number | undefined => (spec?.blueGreen ? 2 : spec?.steps?.length);

function headline(policy: PolicyView, options: ViewOptions): string {
  const { status = {} } = policy;
  const steps = stepsOf(policy.spec);
  const step =
    status.currentStep === undefined ? '' : `  step ${stepLabel(status.currentStep, steps)}${stageOf(status.stage)}`;
  const effective =
    status.effectiveWeight !== undefined && status.effectiveWeight !== status.canaryWeight
      ? ` (effective ${num(status.effectiveWeight)}%)`
      : '';
  const weight = status.canaryWeight === undefined ? '' : `  weight ${num(status.canaryWeight)}%${effective}`;
  const phase = status.phase ?? 'no status yet';
  return (
    `${policy.metadata.namespace ?? 'default'}/${policy.metadata.name ?? '?'}  ` +
    `${paint(phase, PHASE_TONES[phase], options)}${step}${weight}`
  );
}

type StepView = NonNullable<NonNullable<PolicyView['spec']>['steps']>[number];

const isNumber = (value: number | null | undefined): value is number => typeof value === 'number';

/** Seconds the step lasts (soak, or a timed pause), or null for an untimed pause. */
function stepSeconds(step: StepView): number | null {
  if (step.pause) return step.pause.duration ? parseDuration(step.pause.duration) : null;
  return step.soak ? parseDuration(step.soak) : DEFAULT_SOAK_SECONDS;
}

function currentStep(policy: PolicyView): StepView | undefined {
  const index = policy.status?.currentStep;
  return policy.status?.phase === 'Progressing' && index !== undefined ? policy.spec?.steps?.[index] : undefined;
}

/** The soak bar of the current step, or null when there is nothing to show. */
function soakLine(policy: PolicyView, options: ViewOptions): string | null {
  const step = currentStep(policy);
  const started = Date.parse(policy.status?.stepStartedAt ?? '');
  if (!step || Number.isNaN(started)) return null;
  const total = stepSeconds(step);
  if (total === null) return '  pause    waiting for `kubestead resume` or `promote`';
  const elapsed = Math.max(0, (options.now - started) / 1000);
  const filled = Math.min(BAR_WIDTH, Math.floor((elapsed / total) * BAR_WIDTH));
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
  return (
    `  ${step.pause ? 'pause' : 'soak '}    ${bar} ${formatDuration(Math.min(elapsed, total))} of ` +
    `${formatDuration(total)}`
  );
}

const secondsSince = (iso: string | undefined, now: number): number | null => {
  const at = Date.parse(iso ?? '');
  return Number.isNaN(at) ? null : Math.max(0, Math.round((now - at) / 1000));
};

/** An age in whole seconds: `0s`, `13s`, `2m5s`. */
const age = (seconds: number): string => (seconds < 1 ? '0s' : formatDuration(seconds));

/**
 * How old the latest measurement is. Checks are measured every interval while a controller leads;
 * status keeps only when a reading changed, so the age comes from the interval and the leader Lease.
 */
function measuredLine(policy: PolicyView, options: ViewOptions): string | null {
  const seen = options.controller;
  const phase = policy.status?.phase;
  if (!seen || options.log || (phase !== 'Progressing' && phase !== 'Paused')) return null;
  const every = policy.spec?.interval ?? '30s';
  if ('unreadable' in seen)
    return `  checks   measured every ${every} while a controller runs (its lease ${seen.lease}: ${seen.unreadable})`;
  const renewed = Math.max(0, Math.round((options.now - seen.renewedAt) / 1000));
  if (renewed > seen.durationSeconds) {
    return (
      `  checks   ${paint('not measured now', 'bad', options)}: no controller leads (lease ${seen.lease} of ` +
      `${seen.holder} expired, renewed ${age(renewed)} ago)`
    );
  }
  return (
    `  checks   measured every ${every}, the latest at most ${every} ago (${seen.holder} leads; lease renewed ` +
    `${age(renewed)} ago)`
  );
}

/** `ok`, `ABOVE MAX`, `BELOW MIN (2 in a row)` (a run its failureLimit counts), `INCONCLUSIVE`. */
function verdictOf(value: number, check: CheckView): string {
  const run = check.consecutiveFailures ? ` (${check.consecutiveFailures} in a row)` : '';
  if (isNumber(check.max) && value > check.max) return `ABOVE MAX${run}`;
  if (isNumber(check.min) && value < check.min) return `BELOW MIN${run}`;
  return check.verdict === 'inconclusive' ? 'INCONCLUSIVE' : 'ok';
}

const toneOf = (verdict: string): Tone => (verdict === 'ok' ? 'good' : verdict === 'INCONCLUSIVE' ? 'warn' : 'bad');

/** `error-rate  0.002  max 0.05  ok`, `… 0.4  max 0.05  ABOVE MAX`, `… unavailable: timeout`. */
function checkLine(name: string, check: CheckView, width: number, options: ViewOptions): string {
  const bounds = [
    isNumber(check.min) ? `min ${num(check.min)}` : '',
    isNumber(check.max) ? `max ${num(check.max)}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const label = `  ${name.padEnd(width)}`;
  if (check.status !== 'ok' || !isNumber(check.value)) {
    return `${label}  ${paint(`unavailable${check.error ? `: ${check.error}` : ''}`, 'warn', options)}  ${bounds}`;
  }
  const verdict = verdictOf(check.value, check);
  const since = options.log ? null : secondsSince(check.unchangedSince, options.now);
  const unchanged = since === null ? '' : `  ${paint(`unchanged ${age(since)}`, 'dim', options)}`;
  return (
    `${label}  ${num(check.value).padEnd(8)}  ${bounds.padEnd(12)}  ` +
    `${paint(verdict, toneOf(verdict), options)}${unchanged}`
  );
}

function decisionLines(policy: PolicyView, options: ViewOptions): string[] {
  const decision = policy.status?.lastDecision;
  if (!decision?.action) return [];
  const time = decision.time && !options.log ? ` ${paint(`(${decision.time})`, 'dim', options)}` : '';
  const tone: Tone | undefined =
    decision.action === 'rollback' ? 'bad' : decision.action === 'pause' ? 'warn' : undefined;
  const reasons = (decision.reasons ?? []).map((r) => `    - ${r.message ?? r.rule ?? ''}`);
  return [`  decision ${paint(decision.action, tone, options)}${time}`, ...reasons];
}

/** `  degraded Forbidden: HTTP 403: …` while the Degraded condition is True. */
function degradedLines(policy: PolicyView, options: ViewOptions): string[] {
  const degraded = policy.status?.conditions?.find((c) => c.type === 'Degraded' && c.status === 'True');
  return degraded ? [`  degraded ${paint(`${degraded.reason ?? ''}: ${degraded.message ?? ''}`, 'bad', options)}`] : [];
}

/** `  frozen inside the deny window …; opens at …` while the Frozen condition is True (docs/operating.md). */
function frozenLines(policy: PolicyView, options: ViewOptions): string[] {
  const frozen = policy.status?.conditions?.find((c) => c.type === 'Frozen' && c.status === 'True');
  return frozen ? [`  ${paint(frozen.message ?? 'frozen', 'warn', options)}`] : [];
}

/** `  autoscaler HPA web: 2–10 replicas, current 6, desired 6` when the target has an HPA (docs/hpa.md). */
function autoscalerLines(policy: PolicyView): string[] {
  const hpa = policy.status?.autoscaler;
  if (!hpa?.name) return [];
  const count = (n: number | undefined): string => (n === undefined ? '?' : String(n));
  return [
    `  autoscaler HPA ${hpa.name}: ${count(hpa.minReplicas)}–${count(hpa.maxReplicas)} replicas, current ` +
      `${count(hpa.currentReplicas)}, desired ${count(hpa.desiredReplicas)}`,
  ];
}

/** What `kubestead status` and the demo show for a policy: phase, step, weight, soak, checks, last decision. */
export function renderPolicy(policy: PolicyView, options: ViewOptions): string[] {
  const checks = Object.entries(policy.status?.checks ?? {});
  const width = Math.max(8, ...checks.map(([name]) => name.length));
  const soak = options.log ? null : soakLine(policy, options);
  const measured = measuredLine(policy, options);
  return [
    headline(policy, options),
    ...(soak ? [soak] : []),
    ...(measured ? [measured] : []),
    ...autoscalerLines(policy),
    ...checks.map(([name, check]) => checkLine(name, check, width, options)),
    ...decisionLines(policy, options),
    ...frozenLines(policy, options),
    ...degradedLines(policy, options),
  ];
}

/** Writes successive renderings: in place on a TTY, as plain blocks otherwise (only when they change). */
export class LiveView {
  private shown: string[] = [];

  constructor(private readonly out: NodeJS.WritableStream & { isTTY?: boolean }) {}

  show(lines: string[]): void {
    if (lines.join('\n') === this.shown.join('\n')) return;
    if (this.out.isTTY && this.shown.length > 0) this.out.write(`\x1b[${this.shown.length}F\x1b[J`);
    else if (this.shown.length > 0) this.out.write('\n');
    this.out.write(`${lines.join('\n')}\n`);
    this.shown = lines;
  }
}
