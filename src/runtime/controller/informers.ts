import type {
  CoreV1Event,
  KubernetesListObject,
  KubernetesObject,
  V1Deployment,
  V1Pod,
  V1ReplicaSet,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import type { PolicyObject } from '../../adapters/kube/cache.js';
import { SupervisedInformer, type SupervisionOptions } from './informer.js';
import { POLICY_RESOURCE } from '../../adapters/kube/names.js';
import { type KubeClients } from '../../adapters/kube/clients.js';

/** Warning Events only: the tick counts them on canary pods; Normal Events (ours among them) would only cost memory. */
export const EVENT_FIELD_SELECTOR = 'type=Warning';

/** The six informers the controller runs, all namespaces or one. */
export interface Informers {
  policies: SupervisedInformer<PolicyObject>;
  deployments: SupervisedInformer<V1Deployment>;
  replicaSets: SupervisedInformer<V1ReplicaSet>;
  pods: SupervisedInformer<V1Pod>;
  events: SupervisedInformer<CoreV1Event>;
  /** HorizontalPodAutoscalers as autoscaling/v2 (one made as v1 is served as v2 too): docs/hpa.md. */
  autoscalers: SupervisedInformer<V2HorizontalPodAutoscaler>;
}

const scoped = (prefix: string, resource: string, namespace?: string): string =>
  namespace ? `${prefix}/namespaces/${namespace}/${resource}` : `${prefix}/${resource}`;

const decoder =
  (type: string) =>
  (object: unknown): unknown =>
    ObjectSerializer.deserialize(object, type) as unknown;

/*
 * What the cache keeps. A thousand policies mean thousands of pods and ReplicaSets held for as long as
 * the process runs, and the controller reads little of them: no object keeps its managedFields (on a
 * real API server often the largest part of the metadata), a pod keeps its metadata and status (owner,
 * labels, deletion, readiness, restarts; never its spec), a ReplicaSet everything but its pod template
 * (its owner, labels, revision and counts are what is read). Writes never start from a cached object:
 * they read the object first.
 */
const withoutManagedFields = <T extends KubernetesObject>(object: T): T =>
  object.metadata?.managedFields ? { ...object, metadata: { ...object.metadata, managedFields: undefined } } : object;

export const podForCache = (pod: V1Pod): V1Pod =>
  withoutManagedFields({ apiVersion: pod.apiVersion, kind: pod.kind, metadata: pod.metadata, status: pod.status });

export const replicaSetForCache = (rs: V1ReplicaSet): V1ReplicaSet =>
  withoutManagedFields(rs.spec?.template ? { ...rs, spec: { ...rs.spec, template: undefined } } : rs);

/** Objects per list page: one page's body at a time, not a whole cluster's pods in one response. */
export const LIST_PAGE_SIZE = 500;

type Page = { limit: number; _continue?: string };

/**
 * The continue token of a list page: `_continue` in client-node's typed lists, `continue` in a custom resource's plain
 * JSON.
 */
const continueOf = (list: KubernetesListObject<KubernetesObject>): string | undefined =>
  list.metadata?._continue ?? (list.metadata as { continue?: string } | undefined)?.continue;

/**
 * A list in pages of LIST_PAGE_SIZE (limit and continue, as client-go's pager does), joined: the
 * pages share the first one's resourceVersion, which the watch starts from. An expired continue
 * token fails the list; the informer restarts and lists again.
 */
async function allPages<T extends KubernetesObject>(
  listPage: (page: Page) => Promise<KubernetesListObject<T>>,
): Promise<KubernetesListObject<T>> {
  const first = await listPage({ limit: LIST_PAGE_SIZE });
  const items = [...first.items];
  for (let token = continueOf(first); token;) {
    const next = await listPage({ limit: LIST_PAGE_SIZE, _continue: token });
    items.push(...next.items);
    token = continueOf(next);
  }
  return { ...first, items, metadata: { ...first.metadata, _continue: undefined } };
}

/**
 * `policySelector` (a label selector, `--shard-selector`'s) filters the policies on the API server, in the list and the
 * watch: a policy outside it is never held, and one relabelled out of it arrives as a deletion. The other informers
 * cannot be filtered by it: the labels are the policy's, not its workload's.
 */
export function createInformers(
  clients: KubeClients,
  namespace: string | undefined,
  supervision: SupervisionOptions,
  policySelector?: string,
): Informers {
  return {
    policies: policyInformer(clients, namespace, supervision, policySelector),
    ...workloadInformers(clients, namespace, supervision),
    events: eventInformer(clients, namespace, supervision),
    autoscalers: autoscalerInformer(clients, namespace, supervision),
  };
}

/** The RolloutPolicy informer (the controller's, and the dashboard's live updates), of the policies `labelSelector` selects. */
export function policyInformer(
  clients: KubeClients,
  ns: string | undefined,
  supervision: SupervisionOptions,
  labelSelector?: string,
) {
  const { group, version, plural } = POLICY_RESOURCE;
  const crd = { group, version, plural, ...(labelSelector ? { labelSelector } : {}) };
  const listPolicies = (page: Page): Promise<KubernetesListObject<PolicyObject>> =>
    (ns
      ? clients.custom.listNamespacedCustomObject({ ...crd, namespace: ns, ...page })
      : clients.custom.listClusterCustomObject({ ...crd, ...page })) as Promise<KubernetesListObject<PolicyObject>>;
  return new SupervisedInformer(
    {
      name: 'policies',
      path: scoped(`/apis/${group}/${version}`, plural, ns),
      ...(labelSelector ? { labelSelector } : {}),
      keep: withoutManagedFields,
      list: () => allPages(listPolicies),
    },
    supervision,
  );
}

/** The Deployments, ReplicaSets and pods the ticks read, each kept as small as the tick needs it. */
function workloadInformers(clients: KubeClients, ns: string | undefined, supervision: SupervisionOptions) {
  const { apps, core } = clients;
  const deployments = new SupervisedInformer(
    {
      name: 'deployments',
      path: scoped('/apis/apps/v1', 'deployments', ns),
      decode: decoder('V1Deployment'),
      keep: withoutManagedFields,
      list: () =>
        allPages((page) =>
          ns ? apps.listNamespacedDeployment({ namespace: ns, ...page }) : apps.listDeploymentForAllNamespaces(page),
        ),
    },
    supervision,
  );
  const replicaSets = new SupervisedInformer(
    {
      name: 'replicasets',
      path: scoped('/apis/apps/v1', 'replicasets', ns),
      decode: decoder('V1ReplicaSet'),
      keep: replicaSetForCache,
      list: () =>
        allPages((page) =>
          ns ? apps.listNamespacedReplicaSet({ namespace: ns, ...page }) : apps.listReplicaSetForAllNamespaces(page),
        ),
    },
    supervision,
  );
  const pods = new SupervisedInformer(
    {
      name: 'pods',
      path: scoped('/api/v1', 'pods', ns),
      decode: decoder('V1Pod'),
      keep: podForCache,
      list: () =>
        allPages((page) =>
          ns ? core.listNamespacedPod({ namespace: ns, ...page }) : core.listPodForAllNamespaces(page),
        ),
    },
    supervision,
  );
  return { deployments, replicaSets, pods };
}

/** Warning Events only (the field selector): what pod health counts. */
function eventInformer(clients: KubeClients, ns: string | undefined, supervision: SupervisionOptions) {
  const warnings = { fieldSelector: EVENT_FIELD_SELECTOR };
  return new SupervisedInformer(
    {
      name: 'events',
      path: scoped('/api/v1', 'events', ns),
      decode: decoder('CoreV1Event'),
      fieldSelector: EVENT_FIELD_SELECTOR,
      keep: withoutManagedFields,
      list: () =>
        allPages((page) =>
          ns
            ? clients.core.listNamespacedEvent({ namespace: ns, ...warnings, ...page })
            : clients.core.listEventForAllNamespaces({ ...warnings, ...page }),
        ),
    },
    supervision,
  );
}

/** The HPAs of the namespace (or all), watched: a user's HPA of a target is found without a poll (docs/hpa.md). */
function autoscalerInformer(clients: KubeClients, ns: string | undefined, supervision: SupervisionOptions) {
  const { autoscaling } = clients;
  return new SupervisedInformer(
    {
      name: 'horizontalpodautoscalers',
      path: scoped('/apis/autoscaling/v2', 'horizontalpodautoscalers', ns),
      decode: decoder('V2HorizontalPodAutoscaler'),
      keep: withoutManagedFields,
      list: () =>
        allPages((page) =>
          ns
            ? autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: ns, ...page })
            : autoscaling.listHorizontalPodAutoscalerForAllNamespaces(page),
        ),
    },
    supervision,
  );
}

export const informerList = (informers: Informers): Array<SupervisedInformer<never>> =>
  Object.values(informers) as Array<SupervisedInformer<never>>;
