import type { V1Deployment, V1ReplicaSet, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { KubeClients } from '../kube/clients.js';
import { deleteIfPresent, orMissing } from '../kube/errors.js';
import { readModifyWrite, sameJson } from '../kube/objects.js';
import type { RouterProblem, RouterTarget } from './router.js';
import { isOwnedByKubestead, ownedMetadata } from '../kube/names.js';
import { canaryName, primaryName } from '../../pipeline/policy/vocabulary.js';

/**
 * The Services Kubestead creates and owns beside the user's: `<svc>-primary` selects the primary
 * Deployment's pods (label `kubestead.io/role: primary`), `<svc>-canary` the canary ReplicaSet's
 * (its `pod-template-hash`). Ports are the user's Service's; the user's Service is left alone.
 */

export const ROLE_LABEL = 'kubestead.io/role';
export const PRIMARY_ROLE = 'primary';
export const HASH_LABEL = 'pod-template-hash';
const REVISION = 'deployment.kubernetes.io/revision';

export interface ServiceNames {
  /** The user's Service. */
  service: string;
  primary: string;
  canary: string;
}

export function serviceNames(service: string): ServiceNames {
  return { service, primary: primaryName(service), canary: canaryName(service) };
}

export function isProblem(value: object): value is RouterProblem {
  return 'reason' in value && 'message' in value;
}

async function readTarget(clients: KubeClients, target: RouterTarget): Promise<V1Deployment | RouterProblem> {
  const deployment = await orMissing(
    clients.apps.readNamespacedDeployment({ name: target.canary, namespace: target.namespace }),
  );
  return (
    deployment ?? { reason: 'TargetMissing', message: `Deployment ${target.namespace}/${target.canary} does not exist` }
  );
}

/**
 * A user's Service selector without the term blue-green with replica routing adds to it (ServiceSwitchRouter): the
 * selector as its owner wrote it.
 */
export function userSelector(selector: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(selector ?? {}).filter(([key]) => key !== ROLE_LABEL && key !== HASH_LABEL));
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  const entries = Object.entries(userSelector(selector));
  return entries.length > 0 && entries.every(([key, value]) => labels[key] === value);
}

function selectorText(selector: Record<string, string> | undefined): string {
  return (
    Object.entries(selector ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',') || '(none)'
  );
}

/**
 * The user's Service of the target: the one named in the policy, or else the one Service that
 * selects the target's pods. Kubestead's own Services are never candidates.
 */
export async function resolveUserService(
  clients: KubeClients,
  target: RouterTarget,
  named: string | undefined,
): Promise<V1Service | RouterProblem> {
  const deployment = await readTarget(clients, target);
  if (isProblem(deployment)) return deployment;
  const labels = deployment.spec?.template.metadata?.labels ?? {};
  const where = `Deployment ${target.namespace}/${target.canary}`;
  if (named !== undefined) return namedService(clients, target, named, labels);
  const services = (await clients.core.listNamespacedService({ namespace: target.namespace })).items;
  const candidates = services.filter((s) => !isOwnedByKubestead(s.metadata) && selects(s.spec?.selector, labels));
  if (candidates.length === 1 && candidates[0]) return candidates[0];
  if (candidates.length === 0)
    return { reason: 'ServiceMissing', message: `no Service in ${target.namespace} selects the pods of ${where}` };
  const names = candidates
    .map((s) => s.metadata?.name ?? '')
    .sort()
    .join(', ');
  return {
    reason: 'ServiceAmbiguous',
    message: `several Services select the pods of ${where} (${names}); name one in the policy's trafficRouting service`,
  };
}

async function namedService(
  clients: KubeClients,
  target: RouterTarget,
  named: string,
  labels: Record<string, string>,
): Promise<V1Service | RouterProblem> {
  const service = await orMissing(clients.core.readNamespacedService({ name: named, namespace: target.namespace }));
  if (!service)
    return {
      reason: 'ServiceMissing',
      message: `Service ${target.namespace}/${named} named by the policy does not exist`,
    };
  if (!selects(service.spec?.selector, labels)) {
    return {
      reason: 'ServiceMismatch',
      message:
        `Service ${target.namespace}/${named} (selector ${selectorText(service.spec?.selector)}) does not ` +
        `select the pods of Deployment ${target.namespace}/${target.canary}`,
    };
  }
  return service;
}

function revisionOf(rs: V1ReplicaSet): number {
  return Number(rs.metadata?.annotations?.[REVISION] ?? 0);
}

/** The pod-template-hash of the target's current ReplicaSet: the label that tells canary pods apart. */
export async function canaryTemplateHash(clients: KubeClients, target: RouterTarget): Promise<string | RouterProblem> {
  const deployment = await readTarget(clients, target);
  if (isProblem(deployment)) return deployment;
  const matchLabels = deployment.spec?.selector.matchLabels ?? {};
  const labelSelector = Object.entries(matchLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const sets = (
    await clients.apps.listNamespacedReplicaSet({ namespace: target.namespace, labelSelector })
  ).items.filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.uid === deployment.metadata?.uid));
  const wanted = Number(deployment.metadata?.annotations?.[REVISION] ?? Number.NaN);
  const current = sets.find((rs) => revisionOf(rs) === wanted) ?? sets.sort((a, b) => revisionOf(b) - revisionOf(a))[0];
  const hash = current?.metadata?.labels?.[HASH_LABEL];
  return (
    hash ?? {
      reason: 'ReplicaSetMissing',
      message: `Deployment ${target.namespace}/${target.canary} has no ReplicaSet with a ${HASH_LABEL} yet`,
    }
  );
}

export function copiedPorts(ports: V1ServicePort[] | undefined): V1ServicePort[] {
  return (ports ?? []).map((p) => ({
    name: p.name,
    port: p.port,
    targetPort: p.targetPort ?? p.port,
    protocol: p.protocol ?? 'TCP',
    appProtocol: p.appProtocol,
  }));
}

export interface WantedService {
  name: string;
  selector: Record<string, string>;
  ports: V1ServicePort[];
}

function wantedServices(user: V1Service, names: ServiceNames, hash: string): WantedService[] {
  const selector = userSelector(user.spec?.selector);
  const ports = copiedPorts(user.spec?.ports);
  return [
    { name: names.primary, selector: { ...selector, [ROLE_LABEL]: PRIMARY_ROLE }, ports },
    { name: names.canary, selector: { ...selector, [HASH_LABEL]: hash }, ports },
  ];
}

/** Creates `<svc>-primary` and `<svc>-canary`, or brings their selectors and ports up to date. */
export async function ensureServices(
  clients: KubeClients,
  target: RouterTarget,
  user: V1Service,
  hash: string,
): Promise<RouterProblem | null> {
  const names = serviceNames(user.metadata?.name ?? '');
  for (const wanted of wantedServices(user, names, hash)) {
    const problem = await ensureService(clients, target, wanted);
    if (problem) return problem;
  }
  return null;
}

/** Creates a Service Kubestead owns, or brings its selector and ports up to date; refuses to take over another's. */
export async function ensureService(
  clients: KubeClients,
  target: RouterTarget,
  wanted: WantedService,
): Promise<RouterProblem | null> {
  const { namespace } = target;
  const read = () => orMissing(clients.core.readNamespacedService({ name: wanted.name, namespace }));
  const live = await read();
  if (live && !isOwnedByKubestead(live.metadata)) {
    return {
      reason: 'ServiceConflict',
      message:
        `Service ${namespace}/${wanted.name} exists and is not Kubestead's; rename it or name another Service ` +
        `in the policy`,
    };
  }
  if (!live) {
    const body: V1Service = {
      metadata: ownedMetadata(wanted.name, namespace, target.owner),
      spec: { type: 'ClusterIP', selector: wanted.selector, ports: wanted.ports },
    };
    await clients.core.createNamespacedService({ namespace, body });
    return null;
  }
  await readModifyWrite(
    async () => (await read()) ?? live,
    (current) => {
      if (sameJson(current.spec?.selector, wanted.selector) && sameJson(copiedPorts(current.spec?.ports), wanted.ports))
        return undefined;
      return { ...current, spec: { ...current.spec, selector: wanted.selector, ports: wanted.ports } };
    },
    (body) => clients.core.replaceNamespacedService({ name: wanted.name, namespace, body }),
  );
  return null;
}

/** Deletes `<svc>-primary` and `<svc>-canary` where they are Kubestead's. */
export async function deleteOwnedServices(
  clients: KubeClients,
  env: { target: RouterTarget; names: ServiceNames },
): Promise<void> {
  const namespace = env.target.namespace;
  for (const name of [env.names.primary, env.names.canary]) {
    const live = await orMissing(clients.core.readNamespacedService({ name, namespace }));
    if (live && isOwnedByKubestead(live.metadata))
      await deleteIfPresent(clients.core.deleteNamespacedService({ name, namespace }));
  }
}

/** The pod-template-hash `<svc>-canary` selects now, if Kubestead's Service exists. */
export async function pinnedServiceHash(
  clients: KubeClients,
  env: { target: RouterTarget; names: ServiceNames },
): Promise<string | undefined> {
  const live = await orMissing(
    clients.core.readNamespacedService({ name: env.names.canary, namespace: env.target.namespace }),
  );
  return isOwnedByKubestead(live?.metadata) ? live?.spec?.selector?.[HASH_LABEL] : undefined;
}

/**
 * The preview Service (`blueGreen.previewService`): created and owned by Kubestead, the user's Service's ports and
 * selector with the canary ReplicaSet's pod-template-hash, so that it reaches the new version's pods only.
 */
export async function ensurePreviewService(
  clients: KubeClients,
  target: RouterTarget,
  user: V1Service,
  hash: string,
): Promise<RouterProblem | null> {
  const name = target.spec.blueGreen?.previewService;
  if (!name) return null;
  const selector = { ...userSelector(user.spec?.selector), [HASH_LABEL]: hash };
  return ensureService(clients, target, { name, selector, ports: copiedPorts(user.spec?.ports) });
}

/**
 * A preview Service already made follows the canary's newest ReplicaSet. Its first write can come before the
 * Deployment controller has made the ReplicaSet of a new template (it then names the old one), so routers call this
 * on every tick: it writes only when the selector's hash is not `hash`.
 */
export async function refreshPreviewService(
  clients: KubeClients,
  target: RouterTarget,
  user: V1Service,
  hash: string,
): Promise<RouterProblem | null> {
  const name = target.spec.blueGreen?.previewService;
  if (!name) return null;
  const live = await orMissing(clients.core.readNamespacedService({ name, namespace: target.namespace }));
  if (!live || !isOwnedByKubestead(live.metadata) || live.spec?.selector?.[HASH_LABEL] === hash) return null;
  return ensurePreviewService(clients, target, user, hash);
}

/** The preview Service goes with the rollout (promotion complete, rollback) and with the policy. */
export async function deletePreviewService(clients: KubeClients, target: RouterTarget): Promise<void> {
  const name = target.spec.blueGreen?.previewService;
  if (!name) return;
  const { namespace } = target;
  const live = await orMissing(clients.core.readNamespacedService({ name, namespace }));
  if (live && isOwnedByKubestead(live.metadata))
    await deleteIfPresent(clients.core.deleteNamespacedService({ name, namespace }));
}
