import type { KObject } from './types.js';
import { isRecord } from './types.js';

/**
 * HorizontalPodAutoscalers are stored as autoscaling/v2 and served at v2 and v1, converted as the API server
 * does: v1's targetCPUUtilizationPercentage is v2's cpu Utilization metric, and the v2 fields v1 cannot hold
 * travel in the annotations the API server uses for them.
 */

type Obj = Record<string, unknown>;

const METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
const CURRENT_METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';

const rec = (v: unknown): Obj => (isRecord(v) ? v : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isRecord) : []);

function isCpuUtilization(metric: Obj): boolean {
  const resource = rec(metric.resource);
  return metric.type === 'Resource' && resource.name === 'cpu' && rec(resource.target).type === 'Utilization';
}

function parseAnnotation(annotations: Record<string, string>, key: string): unknown {
  const text = annotations[key];
  delete annotations[key];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** autoscaling/v1 → v2 (the stored form). */
function fromV1(object: KObject): KObject {
  const spec = rec(object.spec);
  const status = rec(object.status);
  const annotations = { ...object.metadata.annotations };
  const { targetCPUUtilizationPercentage: pct, ...restSpec } = spec;
  const otherMetrics = list(parseAnnotation(annotations, METRICS_ANNOTATION));
  const cpu =
    typeof pct === 'number'
      ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: pct } } }]
      : [];
  const metrics = [...cpu, ...otherMetrics];
  const behavior = parseAnnotation(annotations, BEHAVIOR_ANNOTATION);
  const { currentCPUUtilizationPercentage: current, ...restStatus } = status;
  const otherCurrent = list(parseAnnotation(annotations, CURRENT_METRICS_ANNOTATION));
  const currentCpu =
    typeof current === 'number'
      ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: current } } }]
      : [];
  const conditions = parseAnnotation(annotations, CONDITIONS_ANNOTATION);
  const currentMetrics = [...currentCpu, ...otherCurrent];
  return {
    ...object,
    apiVersion: 'autoscaling/v2',
    metadata: { ...object.metadata, annotations: Object.keys(annotations).length ? annotations : undefined },
    spec: { ...restSpec, ...(metrics.length ? { metrics } : {}), ...(behavior ? { behavior } : {}) },
    ...(object.status === undefined
      ? {}
      : {
          status: {
            ...restStatus,
            ...(currentMetrics.length ? { currentMetrics } : {}),
            ...(Array.isArray(conditions) ? { conditions } : {}),
          },
        }),
  };
}

/** Keeps what v1 cannot hold in an annotation (behavior is one object, the rest lists). */
function keep(annotations: Record<string, string>, key: string, values: Obj[]): void {
  if (values.length === 0) return;
  annotations[key] = JSON.stringify(key === BEHAVIOR_ANNOTATION ? values[0] : values);
}

/** autoscaling/v2 (stored) → v1. */
function toV1(object: KObject): KObject {
  const { metrics, behavior, ...spec } = rec(object.spec);
  const { currentMetrics, conditions, ...status } = rec(object.status);
  const annotations: Record<string, string> = { ...object.metadata.annotations };
  const cpu = list(metrics).find(isCpuUtilization);
  const currentCpu = list(currentMetrics).find((m) => m.type === 'Resource' && rec(m.resource).name === 'cpu');
  keep(
    annotations,
    METRICS_ANNOTATION,
    list(metrics).filter((m) => m !== cpu),
  );
  keep(annotations, BEHAVIOR_ANNOTATION, isRecord(behavior) ? [behavior] : []);
  keep(
    annotations,
    CURRENT_METRICS_ANNOTATION,
    list(currentMetrics).filter((m) => m !== currentCpu),
  );
  keep(annotations, CONDITIONS_ANNOTATION, list(conditions));
  const utilization = rec(rec(currentCpu?.resource).current).averageUtilization;
  const target = rec(rec(cpu?.resource).target).averageUtilization;
  return {
    ...object,
    apiVersion: 'autoscaling/v1',
    metadata: { ...object.metadata, annotations: Object.keys(annotations).length ? annotations : undefined },
    spec: { ...spec, ...(typeof target === 'number' ? { targetCPUUtilizationPercentage: target } : {}) },
    status: {
      ...status,
      currentReplicas: status.currentReplicas ?? 0,
      desiredReplicas: status.desiredReplicas ?? 0,
      ...(typeof utilization === 'number' ? { currentCPUUtilizationPercentage: utilization } : {}),
    },
  };
}

export const hpaCodec = {
  toStorage: (object: KObject): KObject => (object.apiVersion === 'autoscaling/v1' ? fromV1(object) : object),
  fromStorage: (object: KObject, version?: string): KObject => (version === 'v1' ? toV1(object) : object),
};

/** The API server's defaults for autoscaling/v2: minReplicas 1, and a cpu target of 80 % when there is no metric. */
export function defaultHpa(object: KObject): void {
  const spec = rec(object.spec);
  object.spec = spec;
  if (spec.minReplicas === undefined || spec.minReplicas === null) spec.minReplicas = 1;
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
    ];
  }
}

function metricTarget(metric: Obj, current: Obj | undefined): string {
  const resource = rec(metric.resource);
  const target = rec(resource.target);
  const now = rec(rec(current?.resource).current);
  if (metric.type !== 'Resource') return `<unknown>/<unknown> (${String(metric.type)})`;
  if (target.type === 'Utilization') {
    const shown = typeof now.averageUtilization === 'number' ? `${now.averageUtilization}%` : '<unknown>';
    return `${String(resource.name)}: ${shown}/${String(target.averageUtilization)}%`;
  }
  const value = target.type === 'AverageValue' ? target.averageValue : target.value;
  const shown = typeof (now.averageValue ?? now.value) === 'string' ? (now.averageValue ?? now.value) : '<unknown>';
  return `${String(resource.name)}: ${String(shown)}/${String(value)}`;
}

/** The TARGETS column of `kubectl get hpa`: each metric's current/target, at most two then "+ N more...". */
export function hpaTargets(o: KObject): string {
  const metrics = list(rec(o.spec).metrics);
  if (metrics.length === 0) return '<none>';
  const current = list(rec(o.status).currentMetrics);
  const shown = metrics.slice(0, 2).map((m) => {
    const name = rec(m.resource).name;
    return metricTarget(
      m,
      current.find((c) => c.type === m.type && rec(c.resource).name === name),
    );
  });
  const more = metrics.length > 2 ? ` + ${metrics.length - 2} more...` : '';
  return shown.join(', ') + more;
}

export function hpaReference(o: KObject): string {
  const ref = rec(rec(o.spec).scaleTargetRef);
  return `${String(ref.kind)}/${String(ref.name)}`;
}
