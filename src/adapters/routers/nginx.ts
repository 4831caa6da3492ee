import type { V1HTTPIngressPath, V1Ingress, V1IngressBackend, V1IngressRule } from '@kubernetes/client-node';
import type { TrafficRoutingSpec } from '../../pipeline/policy/schema.js';
import { deleteIfPresent, orMissing } from '../kube/errors.js';
import { readModifyWrite, sameJson } from '../kube/objects.js';
import type { RouterProblem, RouterWeight } from './router.js';
import { isProblem, type ServiceNames } from './services.js';
import { describeShare, shareOf, type IntegerSplit } from '../../pipeline/policy/weights.js';
import { RouterStateError, type RouteBackend, type RouteEnv } from './weighted-router.js';
import { isOwnedByKubestead, ownedMetadata } from '../kube/names.js';
import { canaryName } from '../../pipeline/policy/vocabulary.js';

/**
 * ingress-nginx canary: the user's Ingress sends the target's paths to `<svc>-primary`, and a
 * `<ingress>-canary` Ingress (a copy holding only those paths, to `<svc>-canary`) carries
 * `canary: "true"`, `canary-weight` and `canary-weight-total`. The copy is deleted when a rollout
 * ends. (The community ingress-nginx project is in maintenance; Gateway API is the recommended path.)
 */

const PREFIX = 'nginx.ingress.kubernetes.io/';
export const CANARY = `${PREFIX}canary`;
export const CANARY_WEIGHT = `${PREFIX}canary-weight`;
export const CANARY_WEIGHT_TOTAL = `${PREFIX}canary-weight-total`;
const NOT_COPIED = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

type Settings = NonNullable<TrafficRoutingSpec['nginx']>;

function backendService(backend: V1IngressBackend | undefined): string | undefined {
  return backend?.service?.name;
}

function isTargets(backend: V1IngressBackend | undefined, names: ServiceNames): boolean {
  const service = backendService(backend);
  return service === names.service || service === names.primary;
}

function retarget(backend: V1IngressBackend, service: string): V1IngressBackend {
  return { ...backend, service: { ...backend.service, name: service } };
}

/**
 * The Ingress with the backends that reach the target sent to `service`: all paths kept, or (`onlyTarget`) only those.
 */
function withBackends(ingress: V1Ingress, names: ServiceNames, service: string, onlyTarget: boolean): V1Ingress {
  const mapPath = (path: V1HTTPIngressPath) =>
    isTargets(path.backend, names) ? { ...path, backend: retarget(path.backend, service) } : path;
  const rules = (ingress.spec?.rules ?? []).flatMap((rule): V1IngressRule[] => {
    const paths = (rule.http?.paths ?? []).filter((p) => !onlyTarget || isTargets(p.backend, names)).map(mapPath);
    if (onlyTarget && paths.length === 0) return [];
    return [rule.http ? { ...rule, http: { ...rule.http, paths } } : rule];
  });
  const fallback = ingress.spec?.defaultBackend;
  const defaultBackend =
    fallback && isTargets(fallback, names) ? retarget(fallback, service) : onlyTarget ? undefined : fallback;
  return { ...ingress, spec: { ...ingress.spec, rules, defaultBackend } };
}

/** The number of backends of the Ingress that reach the target's Service. */
export function targetBackends(ingress: V1Ingress, names: ServiceNames): number {
  const paths = (ingress.spec?.rules ?? []).flatMap((r) => r.http?.paths ?? []);
  return (
    paths.filter((p) => isTargets(p.backend, names)).length + (isTargets(ingress.spec?.defaultBackend, names) ? 1 : 0)
  );
}

/** The `<ingress>-canary` Ingress for a split: a copy of the user's target paths, to `<svc>-canary`. */
export function canaryIngress(user: V1Ingress, env: RouteEnv, split: IntegerSplit): V1Ingress {
  const name = canaryName(user.metadata?.name ?? '');
  const copied = Object.fromEntries(
    Object.entries(user.metadata?.annotations ?? {}).filter(([k]) => !NOT_COPIED.has(k)),
  );
  const annotations = {
    ...copied,
    [CANARY]: 'true',
    [CANARY_WEIGHT]: String(split.canary),
    [CANARY_WEIGHT_TOTAL]: String(split.total),
  };
  const spec = withBackends(user, env.names, env.names.canary, true).spec;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { ...ownedMetadata(name, env.target.namespace, env.target.owner), annotations },
    spec,
  };
}

export class NginxBackend implements RouteBackend {
  readonly kind = 'nginx' as const;

  constructor(private readonly settings: Settings) {}

  usesServices(): boolean {
    return true;
  }

  async prepare(env: RouteEnv): Promise<RouterProblem | null> {
    const user = await this.readUser(env);
    if (isProblem(user)) return user;
    const canary = await this.readCanary(env);
    if (canary && !isOwnedByKubestead(canary.metadata)) {
      return {
        reason: 'RouteConflict',
        message: `Ingress ${env.target.namespace}/${this.canaryName()} exists and is not Kubestead's`,
      };
    }
    return null;
  }

  async setSplit(env: RouteEnv, split: IntegerSplit): Promise<RouterWeight> {
    const { networking } = env.clients;
    const namespace = env.target.namespace;
    await readModifyWrite(
      () => this.mustUser(env),
      (user) => {
        const next = withBackends(user, env.names, env.names.primary, false);
        return sameJson(next.spec, user.spec) ? undefined : next;
      },
      (body: V1Ingress) => networking.replaceNamespacedIngress({ name: this.settings.ingress.name, namespace, body }),
    );
    const user = await this.mustUser(env);
    const wanted = canaryIngress(user, env, split);
    const canary = await readModifyWrite(
      () => this.readCanary(env),
      (live): V1Ingress | undefined => {
        if (!live) return split.canary === 0 ? undefined : wanted;
        const same =
          sameJson(live.spec, wanted.spec) && sameJson(live.metadata?.annotations, wanted.metadata?.annotations);
        return same
          ? undefined
          : { ...live, metadata: { ...live.metadata, annotations: wanted.metadata?.annotations }, spec: wanted.spec };
      },
      (body: V1Ingress) =>
        body.metadata?.resourceVersion
          ? networking.replaceNamespacedIngress({ name: this.canaryName(), namespace, body })
          : networking.createNamespacedIngress({ namespace, body }),
    );
    return this.shareIn(env, canary);
  }

  async readWeight(env: RouteEnv): Promise<RouterWeight> {
    await this.mustUser(env);
    return this.shareIn(env, await this.readCanary(env));
  }

  private shareIn(env: RouteEnv, canary: V1Ingress | undefined): RouterWeight {
    const where = `Ingress ${env.target.namespace}/${this.canaryName()}`;
    const annotations = canary?.metadata?.annotations ?? {};
    if (!canary || annotations[CANARY] !== 'true')
      return { weight: 0, detail: `${where}: ${canary ? 'not a canary' : 'absent'}, canary 0%` };
    const weight = Number(annotations[CANARY_WEIGHT] ?? 0);
    // ingress-nginx reads a total below 100 (or none) as 100.
    const total = Math.max(100, Number(annotations[CANARY_WEIGHT_TOTAL] ?? 100));
    return { weight: shareOf(weight, total), detail: `${where}: canary ${describeShare(weight, total)}` };
  }

  async afterFinalize(env: RouteEnv): Promise<void> {
    await deleteIfPresent(
      env.clients.networking.deleteNamespacedIngress({ name: this.canaryName(), namespace: env.target.namespace }),
    );
  }

  async release(env: RouteEnv): Promise<void> {
    await this.afterFinalize(env);
    const namespace = env.target.namespace;
    await readModifyWrite(
      () => this.readUser(env),
      (user): V1Ingress | undefined => {
        if (isProblem(user)) return undefined;
        const next = withBackends(user, env.names, env.names.service, false);
        return sameJson(next.spec, user.spec) ? undefined : next;
      },
      (body: V1Ingress) =>
        env.clients.networking.replaceNamespacedIngress({ name: this.settings.ingress.name, namespace, body }),
    );
  }

  private canaryName(): string {
    return canaryName(this.settings.ingress.name);
  }

  private async readCanary(env: RouteEnv): Promise<V1Ingress | undefined> {
    return orMissing(
      env.clients.networking.readNamespacedIngress({ name: this.canaryName(), namespace: env.target.namespace }),
    );
  }

  private async readUser(env: RouteEnv): Promise<V1Ingress | RouterProblem> {
    const where = `Ingress ${env.target.namespace}/${this.settings.ingress.name}`;
    const user = await orMissing(
      env.clients.networking.readNamespacedIngress({
        name: this.settings.ingress.name,
        namespace: env.target.namespace,
      }),
    );
    if (!user) return { reason: 'RouteMissing', message: `${where} does not exist` };
    return targetBackends(user, env.names) > 0
      ? user
      : { reason: 'RouteMismatch', message: `${where} has no backend to Service ${env.names.service}` };
  }

  private async mustUser(env: RouteEnv): Promise<V1Ingress> {
    const user = await this.readUser(env);
    if (isProblem(user)) throw new RouterStateError(user);
    return user;
  }
}
