import { isRecord, type KObject } from './types.js';

type Condition = {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastUpdateTime: string;
  lastTransitionTime: string;
};

export interface RolloutFacts {
  desired: number;
  maxUnavailable: number;
  paused: boolean;
  newRs: KObject | undefined;
  all: KObject[];
  /** The new ReplicaSet was created in this pass. */
  created: boolean;
  now: string;
  nowMs: number;
}

function num(o: KObject | undefined, key: string): number {
  const status = o && isRecord(o.status) ? o.status : {};
  return typeof status[key] === 'number' ? status[key] : 0;
}

function sum(list: KObject[], key: string): number {
  return list.reduce((n, rs) => n + num(rs, key), 0);
}

function setCondition(
  conditions: Condition[],
  next: Omit<Condition, 'lastTransitionTime' | 'lastUpdateTime'>,
  now: string,
  progressed: boolean,
): Condition[] {
  const old = conditions.find((c) => c.type === next.type);
  const same = old && old.status === next.status && old.reason === next.reason;
  const condition: Condition = {
    ...next,
    lastUpdateTime: same && !progressed ? old.lastUpdateTime : now,
    lastTransitionTime: old && old.status === next.status ? old.lastTransitionTime : now,
  };
  return [...conditions.filter((c) => c.type !== next.type), condition];
}

type ConditionCore = Omit<Condition, 'lastTransitionTime' | 'lastUpdateTime'>;

function deadlineExceeded(d: KObject, f: RolloutFacts, prior: Condition | undefined): boolean {
  if (!prior || prior.status !== 'True') return false;
  const spec = isRecord(d.spec) ? d.spec : {};
  const deadline = typeof spec.progressDeadlineSeconds === 'number' ? spec.progressDeadlineSeconds : 600;
  return f.nowMs - Date.parse(prior.lastUpdateTime) > deadline * 1000;
}

function progressing(
  d: KObject,
  f: RolloutFacts,
  counts: Record<string, number>,
  prior: Condition | undefined,
): ConditionCore {
  const rsName = f.newRs?.metadata.name ?? '';
  const make = (status: string, reason: string, message: string): ConditionCore => ({
    type: 'Progressing',
    status,
    reason,
    message,
  });
  if (f.paused) return make('Unknown', 'DeploymentPaused', 'Deployment is paused');
  const complete =
    counts.updatedReplicas === f.desired && counts.replicas === f.desired && counts.availableReplicas === f.desired;
  if (complete) return make('True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`);
  if (f.created) return make('True', 'NewReplicaSetCreated', `Created new replica set "${rsName}"`);
  if (prior?.reason === 'ProgressDeadlineExceeded') return prior;
  if (deadlineExceeded(d, f, prior))
    return make('False', 'ProgressDeadlineExceeded', `ReplicaSet "${rsName}" has timed out progressing.`);
  return make('True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`);
}

/** The Deployment status a deployment controller writes for the current ReplicaSets. */
export function deploymentStatus(d: KObject, f: RolloutFacts): Record<string, unknown> {
  const old = isRecord(d.status) ? d.status : {};
  const counts = {
    replicas: sum(f.all, 'replicas'),
    updatedReplicas: num(f.newRs, 'replicas'),
    readyReplicas: sum(f.all, 'readyReplicas'),
    availableReplicas: sum(f.all, 'availableReplicas'),
  };
  const progressed =
    f.created ||
    (['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas'] as const).some(
      (k) => old[k] !== counts[k] && !(old[k] === undefined && counts[k] === 0),
    );
  let conditions = Array.isArray(old.conditions) ? (old.conditions as Condition[]) : [];
  const available = counts.availableReplicas >= f.desired - f.maxUnavailable;
  conditions = setCondition(
    conditions,
    available
      ? {
          type: 'Available',
          status: 'True',
          reason: 'MinimumReplicasAvailable',
          message: 'Deployment has minimum availability.',
        }
      : {
          type: 'Available',
          status: 'False',
          reason: 'MinimumReplicasUnavailable',
          message: 'Deployment does not have minimum availability.',
        },
    f.now,
    false,
  );
  const prior = conditions.find((c) => c.type === 'Progressing');
  const next = progressing(d, f, counts, progressed ? undefined : prior);
  conditions = setCondition(conditions, next, f.now, progressed);
  conditions.sort((a, b) => (a.type === 'Available' ? -1 : b.type === 'Available' ? 1 : 0));
  const status: Record<string, unknown> = {
    observedGeneration: d.metadata.generation,
    ...Object.fromEntries(Object.entries(counts).filter(([, v]) => v > 0)),
    conditions,
  };
  const unavailable = Math.max(0, f.desired - counts.availableReplicas);
  if (unavailable > 0) status.unavailableReplicas = unavailable;
  if (old.collisionCount !== undefined) status.collisionCount = old.collisionCount;
  return status;
}
