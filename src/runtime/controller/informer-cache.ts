import type {
  CoreV1Event,
  KubernetesObject,
  V1Deployment,
  V1Pod,
  V1ReplicaSet,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { scaledDeployment } from '../../adapters/kube/autoscalers.js';
import type { ClusterCache, PolicyObject } from '../../adapters/kube/cache.js';
import { informerList, type Informers } from './informers.js';
import { labelKeys, matchesSelector, ObjectIndex, selectorKeys } from './object-index.js';
import { type PolicyKey } from '../../adapters/kube/names.js';
import { targetOfPrimary } from '../../pipeline/policy/vocabulary.js';

/** The Deployment a policy targets (spec.targetRef.name), read defensively: the spec is not validated here. */
export function targetName(policy: PolicyObject): string | undefined {
  const spec = policy.spec as { targetRef?: { name?: unknown } } | undefined;
  const name = spec?.targetRef?.name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

const targetKey = (namespace: string, name: string): string => `${namespace}\t${name}`;
const involvedKey = (namespace: string, kind: string, name: string): string => `${namespace}\t${kind}/${name}`;

function controllerOwner(object: KubernetesObject, kind: string): string | undefined {
  const refs = object.metadata?.ownerReferences ?? [];
  return (refs.find((r) => r.kind === kind && r.controller === true) ?? refs.find((r) => r.kind === kind))?.name;
}

/** `web-7f9c6d` → `web`: a ReplicaSet's Deployment when the ReplicaSet is not (or no longer) cached. */
const stripHash = (name: string): string => name.replace(/-[a-z0-9]+$/, '');

/**
 * The ClusterCache over the informers' stores, with indexes kept current by their callbacks: ReplicaSets
 * and pods by label pair, Events by involved object, policies by target. Also answers which policies
 * an object concerns, for the queue.
 */
export class InformerCache implements ClusterCache {
  private readonly replicaSetIndex = new ObjectIndex<V1ReplicaSet>(labelKeys);
  private readonly podIndex = new ObjectIndex<V1Pod>(labelKeys);
  private readonly eventIndex = new ObjectIndex<CoreV1Event>((e) => {
    const ref = e.involvedObject;
    return [involvedKey(e.metadata?.namespace ?? '', ref.kind ?? '', ref.name ?? '')];
  });
  private readonly policyIndex = new ObjectIndex<PolicyObject>((p) => {
    const target = targetName(p);
    return target ? [targetKey(p.metadata?.namespace ?? '', target)] : [];
  });

  private readonly autoscalerIndex = new ObjectIndex<V2HorizontalPodAutoscaler>((h) => {
    const deployment = scaledDeployment(h);
    return deployment ? [targetKey(h.metadata?.namespace ?? '', deployment)] : [];
  });

  constructor(readonly informers: Informers) {
    track(informers.replicaSets, this.replicaSetIndex);
    track(informers.pods, this.podIndex);
    track(informers.events, this.eventIndex);
    track(informers.policies, this.policyIndex);
    track(informers.autoscalers, this.autoscalerIndex);
  }

  policy(key: PolicyKey): PolicyObject | undefined {
    return this.informers.policies.store.get(key.name, key.namespace);
  }

  deployment(namespace: string, name: string): V1Deployment | undefined {
    return this.informers.deployments.store.get(name, namespace);
  }

  replicaSets(namespace: string, selector: Record<string, string>): V1ReplicaSet[] {
    return this.replicaSetIndex.lookup(selectorKeys(namespace, selector), (o) => matchesSelector(o, selector));
  }

  pods(namespace: string, selector: Record<string, string>): V1Pod[] {
    return this.podIndex.lookup(selectorKeys(namespace, selector), (o) => matchesSelector(o, selector));
  }

  events(namespace: string, involved: { kind: string; name: string }): CoreV1Event[] {
    return this.eventIndex.lookup([involvedKey(namespace, involved.kind, involved.name)]);
  }

  autoscalers(namespace: string, deployment: string): V2HorizontalPodAutoscaler[] {
    return this.autoscalerIndex.lookup([targetKey(namespace, deployment)]);
  }

  synced(): boolean {
    return informerList(this.informers).every((i) => i.synced());
  }

  /** Every policy in the cache. */
  allPolicies(): PolicyKey[] {
    return this.informers.policies.store.list().map(keyOf);
  }

  /** The policies whose target is this Deployment, or whose `<target>-primary` it is. */
  policiesOfDeployment(namespace: string, name: string): PolicyKey[] {
    const target = targetOfPrimary(name);
    const names = target === undefined ? [name] : [name, target];
    return names.flatMap((n) => this.policyIndex.lookup([targetKey(namespace, n)]).map(keyOf));
  }

  policiesOfReplicaSet(namespace: string, name: string, replicaSet?: V1ReplicaSet): PolicyKey[] {
    const rs = replicaSet ?? this.informers.replicaSets.store.get(name, namespace);
    const deployment = rs ? controllerOwner(rs, 'Deployment') : stripHash(name);
    return deployment ? this.policiesOfDeployment(namespace, deployment) : [];
  }

  policiesOfPod(namespace: string, name: string, pod?: V1Pod): PolicyKey[] {
    const found = pod ?? this.informers.pods.store.get(name, namespace);
    const replicaSet = found ? controllerOwner(found, 'ReplicaSet') : undefined;
    return replicaSet ? this.policiesOfReplicaSet(namespace, replicaSet) : [];
  }

  policiesOfEvent(event: CoreV1Event): PolicyKey[] {
    const { kind, name } = event.involvedObject;
    const namespace = event.involvedObject.namespace ?? event.metadata?.namespace ?? '';
    if (!name) return [];
    if (kind === 'Pod') return this.policiesOfPod(namespace, name);
    if (kind === 'ReplicaSet') return this.policiesOfReplicaSet(namespace, name);
    if (kind === 'Deployment') return this.policiesOfDeployment(namespace, name);
    return [];
  }

  /** The policies of the Deployment an HPA scales (the user's of a target, or Kubestead's of a primary). */
  policiesOfAutoscaler(hpa: V2HorizontalPodAutoscaler): PolicyKey[] {
    const deployment = scaledDeployment(hpa);
    return deployment ? this.policiesOfDeployment(hpa.metadata?.namespace ?? '', deployment) : [];
  }
}

export const keyOf = (object: KubernetesObject): PolicyKey => ({
  namespace: object.metadata?.namespace ?? '',
  name: object.metadata?.name ?? '',
});

function track<T extends KubernetesObject>(
  informer: { on(verb: 'add' | 'update' | 'delete', cb: (o: T) => void): void },
  index: ObjectIndex<T>,
): void {
  informer.on('add', (o) => index.upsert(o));
  informer.on('update', (o) => index.upsert(o));
  informer.on('delete', (o) => index.remove(o));
}
