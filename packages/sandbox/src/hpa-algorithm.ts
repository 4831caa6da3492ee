/**
 * The arithmetic of Kubernetes' HorizontalPodAutoscaler controller (pkg/controller/podautoscaler:
 * replica_calculator.go and horizontal.go), as pure functions of what one sync sees and of what the
 * controller remembers between syncs (its recommendations and its scale events). Time is passed in
 * (milliseconds), never read. The names, reasons and messages are the real controller's.
 */

/** Changes within 10 % of the target are not acted on (--horizontal-pod-autoscaler-tolerance). */
export const TOLERANCE = 0.1;
/** --horizontal-pod-autoscaler-downscale-stabilization: the scale-down window when behavior sets none. */
export const DOWNSCALE_STABILIZATION_SECONDS = 300;

/** One pod of the target as the replica calculator sees it; `usageMilli` undefined when it has no metric. */
export interface PodSample {
  name: string;
  /** Deleted or Failed: left out entirely. */
  ignored: boolean;
  /** Pending, or not yet Ready: counted as 0 % on a scale-up, left out otherwise. */
  unready: boolean;
  /** The sum of its containers' CPU requests, in millicores; undefined when a container has none. */
  requestMilli: number | undefined;
  usageMilli: number | undefined;
}

export interface ResourceResult {
  replicas: number;
  /** The current utilization, in percent of the requests (status.currentMetrics[].resource.current.averageUtilization). */
  utilization: number;
  /** The average usage per pod, in millicores (current.averageValue). */
  rawMilli: number;
}

/** GetResourceUtilizationRatio: usage over requests of the pods that have both. */
function utilizationRatio(
  usage: Map<string, number>,
  requests: Map<string, number>,
  target: number,
): { ratio: number; utilization: number; rawMilli: number } {
  let used = 0;
  let requested = 0;
  let entries = 0;
  for (const [name, value] of usage) {
    const request = requests.get(name);
    if (request === undefined) continue;
    used += value;
    requested += request;
    entries += 1;
  }
  if (requested === 0) throw new Error('no metrics returned matched known pods');
  const utilization = Math.trunc((used * 100) / requested);
  return { ratio: utilization / target, utilization, rawMilli: Math.trunc(used / entries) };
}

function grouped(pods: PodSample[]): {
  ready: number;
  unready: string[];
  missing: string[];
  usage: Map<string, number>;
} {
  const out = { ready: 0, unready: [] as string[], missing: [] as string[], usage: new Map<string, number>() };
  for (const pod of pods) {
    if (pod.ignored) continue;
    if (pod.unready) out.unready.push(pod.name);
    else if (pod.usageMilli === undefined) out.missing.push(pod.name);
    else {
      out.usage.set(pod.name, pod.usageMilli);
      out.ready += 1;
    }
  }
  return out;
}

function requestsOf(pods: PodSample[]): Map<string, number> {
  const requests = new Map<string, number>();
  for (const pod of pods) {
    if (pod.requestMilli === undefined) throw new Error(`missing request for cpu in container of Pod ${pod.name}`);
    requests.set(pod.name, pod.requestMilli);
  }
  return requests;
}

/**
 * ReplicaCalculator.GetResourceReplicas for CPU utilization: ceil(ready × usage / target), unless
 * within the tolerance; unready pods count as 0 % on a scale-up, pods without a metric as 100 % on
 * a scale-down and 0 % on a scale-up; a re-count that would turn the direction keeps the current size.
 */
export function resourceReplicas(current: number, targetUtilization: number, pods: PodSample[]): ResourceResult {
  if (pods.length === 0) throw new Error('no pods returned by selector while calculating replica count');
  const groups = grouped(pods);
  if (groups.usage.size === 0) throw new Error('did not receive metrics for targeted pods (pods might be unready)');
  const requests = requestsOf(pods.filter((p) => !p.ignored));
  const first = utilizationRatio(groups.usage, requests, targetUtilization);
  const keep = { replicas: current, utilization: first.utilization, rawMilli: first.rawMilli };
  const scaleUpWithUnready = groups.unready.length > 0 && first.ratio > 1;
  if (!scaleUpWithUnready && groups.missing.length === 0) {
    if (Math.abs(1 - first.ratio) <= TOLERANCE) return keep;
    return { ...keep, replicas: Math.ceil(first.ratio * groups.ready) };
  }
  const replicas = recount(current, first.ratio, { ...groups, requests, scaleUpWithUnready }, targetUtilization);
  return { ...keep, replicas };
}

/** Missing metrics count as the full request on a scale-down and 0 on a scale-up; unready pods 0 on a scale-up. */
function fillIn(
  usage: Map<string, number>,
  groups: { missing: string[]; unready: string[]; requests: Map<string, number>; scaleUpWithUnready: boolean },
  firstRatio: number,
): void {
  for (const name of groups.missing) {
    if (firstRatio < 1) usage.set(name, groups.requests.get(name) ?? 0);
    else if (firstRatio > 1) usage.set(name, 0);
  }
  if (groups.scaleUpWithUnready) for (const name of groups.unready) usage.set(name, 0);
}

/** The second pass: missing metrics as 100 % down / 0 % up, unready pods as 0 % up; never turns the direction. */
function recount(
  current: number,
  firstRatio: number,
  groups: ReturnType<typeof grouped> & { requests: Map<string, number>; scaleUpWithUnready: boolean },
  targetUtilization: number,
): number {
  const { usage, requests } = groups;
  fillIn(usage, groups, firstRatio);
  const { ratio } = utilizationRatio(usage, requests, targetUtilization);
  const turns = (firstRatio < 1 && ratio > 1) || (firstRatio > 1 && ratio < 1);
  if (Math.abs(1 - ratio) <= TOLERANCE || turns) return current;
  const replicas = Math.ceil(ratio * usage.size);
  if ((ratio < 1 && replicas > current) || (ratio > 1 && replicas < current)) return current;
  return replicas;
}

export type SelectPolicy = 'Max' | 'Min' | 'Disabled';

export interface ScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: SelectPolicy;
  policies?: ScalingPolicy[];
}

export type FullRules = Required<ScalingRules>;

/** autoscaling/v2 defaulting (GenerateHPAScaleUpRules): 0 s window, Max of 4 pods or 100 % per 15 s. */
export function scaleUpRules(rules: ScalingRules = {}): FullRules {
  return {
    stabilizationWindowSeconds: rules.stabilizationWindowSeconds ?? 0,
    selectPolicy: rules.selectPolicy ?? 'Max',
    policies: rules.policies ?? [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  };
}

/** GenerateHPAScaleDownRules, with the controller's window (300 s) where none is set: 100 % per 15 s. */
export function scaleDownRules(rules: ScalingRules = {}): FullRules {
  return {
    stabilizationWindowSeconds: rules.stabilizationWindowSeconds ?? DOWNSCALE_STABILIZATION_SECONDS,
    selectPolicy: rules.selectPolicy ?? 'Max',
    policies: rules.policies ?? [{ type: 'Percent', value: 100, periodSeconds: 15 }],
  };
}

export interface Recommendation {
  replicas: number;
  at: number;
}

export interface ScaleEvent {
  change: number;
  at: number;
}

/** What the controller remembers of one HPA between syncs (in memory, as the real one). */
export interface HpaMemory {
  recommendations: Recommendation[];
  scaleUps: ScaleEvent[];
  scaleDowns: ScaleEvent[];
}

export interface Verdict {
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface Normalized {
  replicas: number;
  ableToScale: Verdict;
  scalingLimited: Verdict;
}

export interface NormalizeInput {
  current: number;
  desired: number;
  min: number;
  max: number;
  /** spec.behavior; undefined takes the controller's older path (scale-down window, 2× or 4 pods up). */
  behavior: { scaleUp: FullRules; scaleDown: FullRules } | undefined;
  now: number;
}

const READY: Verdict = { status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
const WITHIN: Omit<Verdict, 'status'> = {
  reason: 'DesiredWithinRange',
  message: 'the desired count is within the acceptable range',
};
const TOO_MANY = {
  reason: 'TooManyReplicas',
  message: 'the desired replica count is more than the maximum replica count',
};
const TOO_FEW = {
  reason: 'TooFewReplicas',
  message: 'the desired replica count is less than the minimum replica count',
};
const UP_LIMIT = {
  reason: 'ScaleUpLimit',
  message: 'the desired replica count is increasing faster than the maximum scale rate',
};
const DOWN_LIMIT = {
  reason: 'ScaleDownLimit',
  message: 'the desired replica count is decreasing faster than the maximum scale rate',
};
const DOWN_STABILIZED = {
  reason: 'ScaleDownStabilized',
  message: 'recent recommendations were higher than current one, applying the highest recent recommendation',
};
const UP_STABILIZED = {
  reason: 'ScaleUpStabilized',
  message: 'recent recommendations were lower than current one, applying the lowest recent recommendation',
};

/** Records a recommendation, reusing the slot of one older than `cutoff` as the controller does. */
function record(memory: HpaMemory, replicas: number, now: number, isOld: (r: Recommendation) => boolean): void {
  const old = memory.recommendations.findLastIndex(isOld);
  if (old >= 0) memory.recommendations[old] = { replicas, at: now };
  else memory.recommendations.push({ replicas, at: now });
}

/** The limits of the older path (convertDesiredReplicasWithRules): up to max(2 × current, 4) per sync. */
function limitWithRules(input: NormalizeInput, desired: number): { replicas: number; reason: string; message: string } {
  const scaleUpLimit = Math.max(2 * input.current, 4);
  const [maximum, limit] = input.max > scaleUpLimit ? [scaleUpLimit, UP_LIMIT] : [input.max, TOO_MANY];
  if (desired < input.min) return { replicas: input.min, ...TOO_FEW };
  if (desired > maximum) return { replicas: maximum, ...limit };
  return { replicas: desired, ...WITHIN };
}

function limited(stabilized: number, result: { replicas: number; reason: string; message: string }): Verdict {
  return { status: result.replicas === stabilized ? 'False' : 'True', reason: result.reason, message: result.message };
}

/** normalizeDesiredReplicas (no spec.behavior): the highest recommendation of the last 300 s, then the limits. */
function normalizeWithoutBehavior(input: NormalizeInput, memory: HpaMemory): Normalized {
  const cutoff = input.now - DOWNSCALE_STABILIZATION_SECONDS * 1000;
  let stabilized = input.desired;
  for (const r of memory.recommendations) if (r.at >= cutoff && r.replicas > stabilized) stabilized = r.replicas;
  record(memory, input.desired, input.now, (r) => r.at < cutoff);
  const ableToScale = stabilized === input.desired ? READY : { status: 'True' as const, ...DOWN_STABILIZED };
  const result = limitWithRules(input, stabilized);
  return { replicas: result.replicas, ableToScale, scalingLimited: limited(stabilized, result) };
}

/** stabilizeRecommendationWithBehaviors: between the lowest recent (up window) and highest recent (down window). */
function stabilize(input: NormalizeInput, memory: HpaMemory, up: FullRules, down: FullRules): number {
  const upCutoff = input.now - up.stabilizationWindowSeconds * 1000;
  const downCutoff = input.now - down.stabilizationWindowSeconds * 1000;
  let upRecommendation = input.desired;
  let downRecommendation = input.desired;
  for (const r of memory.recommendations) {
    if (r.at > upCutoff) upRecommendation = Math.min(r.replicas, upRecommendation);
    if (r.at > downCutoff) downRecommendation = Math.max(r.replicas, downRecommendation);
  }
  record(memory, input.desired, input.now, (r) => r.at < upCutoff && r.at < downCutoff);
  return Math.min(Math.max(input.current, upRecommendation), downRecommendation);
}

/** The replicas added (or removed) by the events of the last `periodSeconds`. */
function changeInPeriod(events: ScaleEvent[], periodSeconds: number, now: number): number {
  const cutoff = now - periodSeconds * 1000;
  return events.filter((e) => e.at > cutoff).reduce((sum, e) => sum + e.change, 0);
}

/** calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors. */
function rateLimit(memory: HpaMemory, rules: FullRules, up: boolean, at: { current: number; now: number }): number {
  const { current, now } = at;
  if (rules.selectPolicy === 'Disabled') return current;
  // Max picks the largest change: the highest limit up, the lowest limit down (Min the reverse)
  const pickHigher = (rules.selectPolicy === 'Max') === up;
  let result = pickHigher ? -Infinity : Infinity;
  for (const policy of rules.policies) {
    const start =
      current -
      changeInPeriod(memory.scaleUps, policy.periodSeconds, now) +
      changeInPeriod(memory.scaleDowns, policy.periodSeconds, now);
    const sign = up ? 1 : -1;
    const proposed =
      policy.type === 'Pods'
        ? start + sign * policy.value
        : up
          ? Math.ceil(start * (1 + policy.value / 100))
          : Math.trunc(start * (1 - policy.value / 100));
    result = pickHigher ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/** convertDesiredReplicasWithBehaviorRate: the policies' rate, then min/max. */
function limitWithBehavior(
  input: NormalizeInput,
  memory: HpaMemory,
  desired: number,
  rules: { scaleUp: FullRules; scaleDown: FullRules },
): { replicas: number; reason: string; message: string } {
  if (desired > input.current) {
    const upLimit = Math.max(rateLimit(memory, rules.scaleUp, true, input), input.current);
    const [maximum, limit] = input.max > upLimit ? [upLimit, UP_LIMIT] : [input.max, TOO_MANY];
    if (desired > maximum) return { replicas: maximum, ...limit };
  } else if (desired < input.current) {
    const downLimit = Math.min(rateLimit(memory, rules.scaleDown, false, input), input.current);
    const [minimum, limit] = input.min < downLimit ? [downLimit, DOWN_LIMIT] : [input.min, TOO_FEW];
    if (desired < minimum) return { replicas: minimum, ...limit };
  }
  return { replicas: desired, ...WITHIN };
}

/** normalizeDesiredReplicasWithBehaviors. */
function normalizeWithBehavior(
  input: NormalizeInput,
  memory: HpaMemory,
  rules: { scaleUp: FullRules; scaleDown: FullRules },
): Normalized {
  const stabilized = stabilize(input, memory, rules.scaleUp, rules.scaleDown);
  const why = input.desired >= input.current ? UP_STABILIZED : DOWN_STABILIZED;
  const ableToScale = stabilized === input.desired ? READY : { status: 'True' as const, ...why };
  const result = limitWithBehavior(input, memory, stabilized, rules);
  return { replicas: result.replicas, ableToScale, scalingLimited: limited(stabilized, result) };
}

/** The replicas to set after stabilization and limits, with the AbleToScale and ScalingLimited verdicts. */
export function normalizeReplicas(input: NormalizeInput, memory: HpaMemory): Normalized {
  return input.behavior
    ? normalizeWithBehavior(input, memory, input.behavior)
    : normalizeWithoutBehavior(input, memory);
}

/** storeScaleEvent: remembers a rescale for the policies' periods, dropping events older than the longest one. */
export function storeScaleEvent(
  memory: HpaMemory,
  behavior: NormalizeInput['behavior'],
  scale: { from: number; to: number; now: number },
): void {
  const { from, to, now } = scale;
  if (!behavior || from === to) return;
  const up = to > from;
  const rules = up ? behavior.scaleUp : behavior.scaleDown;
  const longest = Math.max(0, ...rules.policies.map((p) => p.periodSeconds)) * 1000;
  const key = up ? 'scaleUps' : 'scaleDowns';
  memory[key] = [...memory[key].filter((e) => e.at >= now - longest), { change: Math.abs(to - from), at: now }];
}

/** recordInitialRecommendation: a new HPA starts from the target's current size as its first recommendation. */
export function newMemory(current: number, now: number): HpaMemory {
  return { recommendations: [{ replicas: current, at: now }], scaleUps: [], scaleDowns: [] };
}
