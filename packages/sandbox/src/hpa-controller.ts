import type { Api } from './api.js';
import { SYSTEM_USER } from './auth.js';
import { Timers, type SandboxClock } from './clock.js';
import {
  newMemory,
  normalizeReplicas,
  resourceReplicas,
  scaleDownRules,
  scaleUpRules,
  storeScaleEvent,
  type HpaMemory,
  type NormalizeInput,
  type PodSample,
  type Verdict,
} from './hpa-algorithm.js';
import { recordHpaEvent, rescaleEvent, type HpaEvent } from './hpa-events.js';
import { milliQuantity, milliValue, parseQuantity } from './quantity.js';
import type { ResourceType } from './registry.js';
import { toScale, updateScale } from './scale.js';
import { parseLabelSelector } from './selectors.js';
import { isRecord, type KObject } from './types.js';

/**
 * The sandbox's HorizontalPodAutoscaler controller: every sync period it reads each HPA's target through
 * its `/scale`, the simulated CPU load of the target's pods, and sets the replicas as Kubernetes' HPA
 * controller does (hpa-algorithm.ts), then writes the HPA's status and conditions.
 */

/** Simulated CPU use in millicores (a quantity: `400m`, `1.2`): on the scale target, the total of its Ready pods; on a pod (or its template), that pod's own. */
export const CPU_LOAD_ANNOTATION = 'sandbox.kubestead.io/cpu-load';

/**
 * On the scale target, a label selector: its cpu-load is the load of a Service that selects these pods (its own and
 * others', e.g. a canary's), spread evenly over every Ready one of them. Each of its own pods then uses the load over
 * that count, as with a replica-split canary, where a pod's share of traffic is its share of pods.
 */
export const CPU_LOAD_PODS_ANNOTATION = 'sandbox.kubestead.io/cpu-load-pods';

type Obj = Record<string, unknown>;
const rec = (v: unknown): Obj => (isRecord(v) ? v : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isRecord) : []);

interface Condition extends Verdict {
  type: string;
}

interface Outcome {
  desired: number;
  conditions: Condition[];
  currentMetrics?: Obj[];
  rescaled?: boolean;
  /** Why the replicas change, in the words of a real HPA's `SuccessfulRescale` Event. */
  reason?: string;
  /** The Warning Events of this sync (FailedGetScale, FailedGetResourceMetric, FailedComputeMetricsReplicas). */
  warnings?: HpaEvent[];
}

/** A failed metric: the ScalingActive=False condition, and the Events a real HPA writes for it. */
interface MetricFailure {
  error: Condition;
  warnings: HpaEvent[];
}

/** The HPA controller writes as kube-controller-manager's horizontal-pod-autoscaler service account does. */
const HPA_CALLER = {
  user: { ...SYSTEM_USER, username: 'system:serviceaccount:kube-system:horizontal-pod-autoscaler' },
  system: true,
};

const CPU_REASON = 'cpu resource utilization (percentage of request)';

function loadOf(annotations: Record<string, string> | undefined): number | undefined {
  const q = parseQuantity(annotations?.[CPU_LOAD_ANNOTATION]);
  return q ? milliValue(q) : undefined;
}

function isReady(pod: KObject): boolean {
  const status = rec(pod.status);
  return status.phase === 'Running' && list(status.conditions).some((c) => c.type === 'Ready' && c.status === 'True');
}

function requestMilli(pod: KObject): number | undefined {
  let sum = 0;
  for (const c of list(rec(pod.spec).containers)) {
    const q = parseQuantity(rec(rec(c.resources).requests).cpu);
    if (!q) return undefined;
    sum += milliValue(q);
  }
  return sum;
}

function cpuTarget(hpa: KObject): number | undefined {
  for (const m of list(rec(hpa.spec).metrics)) {
    const resource = rec(m.resource);
    const target = rec(resource.target);
    if (m.type === 'Resource' && resource.name === 'cpu' && target.type === 'Utilization')
      return typeof target.averageUtilization === 'number' ? target.averageUtilization : undefined;
  }
  return undefined;
}

function behaviorOf(hpa: KObject): NormalizeInput['behavior'] {
  const behavior = rec(hpa.spec).behavior;
  if (!isRecord(behavior)) return undefined;
  return { scaleUp: scaleUpRules(rec(behavior.scaleUp)), scaleDown: scaleDownRules(rec(behavior.scaleDown)) };
}

function condition(type: string, status: 'True' | 'False', reason: string, message: string): Condition {
  return { type, status, reason, message };
}

function selectorOf(scale: KObject): string {
  const selector = rec(scale.status).selector;
  return typeof selector === 'string' ? selector : '';
}

/**
 * A metric that could not be read: ScalingActive=False (FailedGetResourceMetric), that reason's Warning Event,
 * and, as no metric is left to scale on (the sandbox reads only the cpu one), FailedComputeMetricsReplicas.
 */
function metricFailure(hpa: KObject, message: string): MetricFailure {
  const metrics = Math.max(1, list(rec(hpa.spec).metrics).length);
  return {
    error: condition(
      'ScalingActive',
      'False',
      'FailedGetResourceMetric',
      `the HPA was unable to compute the replica count: ${message}`,
    ),
    warnings: [
      { type: 'Warning', reason: 'FailedGetResourceMetric', message },
      {
        type: 'Warning',
        reason: 'FailedComputeMetricsReplicas',
        message: `invalid metrics (${metrics} invalid out of ${metrics}), first error is: ${message}`,
      },
    ],
  };
}

const ABLE: Condition = condition(
  'AbleToScale',
  'True',
  'SucceededGetScale',
  "the HPA controller was able to get the target's current scale",
);

export class HpaController {
  private readonly timers: Timers;
  private readonly memory = new Map<string, HpaMemory>();

  constructor(
    private readonly api: Api,
    private readonly clock: SandboxClock,
    syncMs: number,
  ) {
    this.timers = new Timers(clock);
    this.timers.every(syncMs, () => this.syncAll());
  }

  close(): void {
    this.timers.close();
  }

  private type(group: string, resource: string): ResourceType {
    const type = this.api.registry.get(group, resource);
    if (!type) throw new Error(`sandbox: ${resource} not registered`);
    return type;
  }

  syncAll(): void {
    const hpas = this.api.store.list('autoscaling/horizontalpodautoscalers');
    const live = new Set<string>();
    for (const hpa of hpas) {
      live.add(hpa.metadata.uid ?? '');
      try {
        this.sync(hpa);
      } catch {
        // a conflict with a concurrent writer: the next sync tries again
      }
    }
    for (const uid of this.memory.keys()) if (!live.has(uid)) this.memory.delete(uid);
  }

  private targetType(hpa: KObject): ResourceType | undefined {
    const ref = rec(rec(hpa.spec).scaleTargetRef);
    const group =
      typeof ref.apiVersion === 'string' && ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0]! : '';
    const type = this.api.registry.byKind(group, String(ref.kind));
    return type?.scale ? type : undefined;
  }

  private sync(hpa: KObject): void {
    const namespace = hpa.metadata.namespace;
    const ref = rec(rec(hpa.spec).scaleTargetRef);
    const type = this.targetType(hpa);
    const target = type ? this.api.find(type, namespace, String(ref.name)) : undefined;
    if (!type || !target) {
      const cause = `${String(ref.kind)}/${String(ref.name)} not found`;
      const message = `the HPA controller was unable to get the target's current scale: ${cause}`;
      this.writeStatus(hpa, 0, {
        desired: 0,
        conditions: [condition('AbleToScale', 'False', 'FailedGetScale', message)],
        warnings: [{ type: 'Warning', reason: 'FailedGetScale', message: cause }],
      });
      return;
    }
    const scale = toScale(type, target);
    const current = Number(rec(scale.spec).replicas ?? 0);
    const outcome = this.decide(hpa, current, target, selectorOf(scale));
    if (outcome.desired !== current && outcome.rescaled) {
      updateScale(
        this.api,
        { type, namespace, name: String(ref.name) },
        { kind: 'Scale', spec: { replicas: outcome.desired } },
        { caller: HPA_CALLER },
      );
      storeScaleEvent(this.memoryOf(hpa, current), behaviorOf(hpa), {
        from: current,
        to: outcome.desired,
        now: this.clock.now(),
      });
      recordHpaEvent(this.api, hpa, rescaleEvent(outcome.desired, outcome.reason ?? ''));
    }
    this.writeStatus(hpa, current, outcome);
  }

  private memoryOf(hpa: KObject, current: number): HpaMemory {
    const uid = hpa.metadata.uid ?? '';
    let memory = this.memory.get(uid);
    if (!memory) {
      memory = newMemory(current, this.clock.now());
      this.memory.set(uid, memory);
    }
    return memory;
  }

  private decide(hpa: KObject, current: number, target: KObject, selector: string): Outcome {
    const spec = rec(hpa.spec);
    const min = typeof spec.minReplicas === 'number' ? spec.minReplicas : 1;
    const max = Number(spec.maxReplicas ?? 0);
    const memory = this.memoryOf(hpa, current);
    if (current === 0 && min !== 0) {
      const message = 'scaling is disabled since the replica count of the target is zero';
      return { desired: 0, conditions: [ABLE, condition('ScalingActive', 'False', 'ScalingDisabled', message)] };
    }
    if (current > max)
      return {
        desired: max,
        rescaled: true,
        conditions: [ABLE],
        reason: 'Current number of replicas above Spec.MaxReplicas',
      };
    if (current < min)
      return {
        desired: min,
        rescaled: true,
        conditions: [ABLE],
        reason: 'Current number of replicas below Spec.MinReplicas',
      };
    const metric = this.cpuReplicas(hpa, current, target, selector);
    if ('error' in metric) return { desired: current, conditions: [ABLE, metric.error], warnings: metric.warnings };
    const now = this.clock.now();
    const normalized = normalizeReplicas(
      { current, desired: metric.replicas, min, max, behavior: behaviorOf(hpa), now },
      memory,
    );
    const active = condition(
      'ScalingActive',
      'True',
      'ValidMetricFound',
      `the HPA was able to successfully calculate a replica count from ${CPU_REASON}`,
    );
    return {
      desired: normalized.replicas,
      rescaled: normalized.replicas !== current,
      reason: normalized.replicas > current ? `${CPU_REASON} above target` : 'All metrics below target',
      currentMetrics: metric.currentMetrics,
      conditions: [
        { type: 'AbleToScale', ...normalized.ableToScale },
        active,
        { type: 'ScalingLimited', ...normalized.scalingLimited },
      ],
    };
  }

  private samples(target: KObject, namespace: string | undefined, selector: string): PodSample[] {
    const matches = parseLabelSelector(selector);
    const all = this.api.store.list('/pods', namespace);
    const pods = all.filter((p) => selector !== '' && matches(p));
    const total = loadOf(target.metadata.annotations);
    const shared = target.metadata.annotations?.[CPU_LOAD_PODS_ANNOTATION];
    const sharing = shared === undefined ? pods : all.filter(parseLabelSelector(shared));
    const ready = sharing.filter((p) => isReady(p) && !p.metadata.deletionTimestamp).length;
    return pods.map((pod) => {
      const phase = rec(pod.status).phase;
      const own = loadOf(pod.metadata.annotations);
      const usage = own ?? (total === undefined || ready === 0 ? undefined : total / ready);
      return {
        name: pod.metadata.name ?? '',
        ignored: pod.metadata.deletionTimestamp !== undefined || phase === 'Failed' || phase === 'Succeeded',
        unready: !isReady(pod),
        requestMilli: requestMilli(pod),
        usageMilli: usage,
      };
    });
  }

  private cpuReplicas(
    hpa: KObject,
    current: number,
    target: KObject,
    selector: string,
  ): { replicas: number; currentMetrics: Obj[] } | MetricFailure {
    const targetUtilization = cpuTarget(hpa);
    const failed = (message: string): MetricFailure => metricFailure(hpa, message);
    if (targetUtilization === undefined)
      return failed('only Resource cpu Utilization metrics are simulated by the sandbox');
    const pods = this.samples(target, hpa.metadata.namespace, selector);
    if (pods.every((p) => p.usageMilli === undefined))
      return failed(
        'failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
      );
    try {
      const result = resourceReplicas(current, targetUtilization, pods);
      const currentMetrics = [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            current: { averageUtilization: result.utilization, averageValue: milliQuantity(result.rawMilli) },
          },
        },
      ];
      return { replicas: result.replicas, currentMetrics };
    } catch (error) {
      return failed(`failed to get cpu utilization: ${(error as Error).message}`);
    }
  }

  private writeStatus(hpa: KObject, current: number, outcome: Outcome): void {
    const fresh = this.api.find(
      this.type('autoscaling', 'horizontalpodautoscalers'),
      hpa.metadata.namespace,
      hpa.metadata.name ?? '',
    );
    if (!fresh) return;
    const old = rec(fresh.status);
    const now = new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const previous = list(old.conditions);
    const conditions = outcome.conditions.map((c) => {
      const before = previous.find((p) => p.type === c.type);
      return { ...c, lastTransitionTime: before && before.status === c.status ? before.lastTransitionTime : now };
    });
    const status: Obj = {
      observedGeneration: fresh.metadata.generation,
      ...(outcome.rescaled ? { lastScaleTime: now } : old.lastScaleTime ? { lastScaleTime: old.lastScaleTime } : {}),
      currentReplicas: current,
      desiredReplicas: outcome.desired,
      ...(outcome.currentMetrics ? { currentMetrics: outcome.currentMetrics } : {}),
      conditions,
    };
    this.api.saveAsSystem(this.type('autoscaling', 'horizontalpodautoscalers'), { ...fresh, status }, 'status');
    for (const warning of outcome.warnings ?? []) recordHpaEvent(this.api, fresh, warning);
  }
}
