import type { V1HTTPIngressPath, V1Ingress, V1IngressBackend, V1IngressRule, V1Service } from '@kubernetes/client-node';
import type { TrafficRoutingSpec } from '../../pipeline/policy/schema.js';
import { deleteIfPresent, orMissing } from '../kube/errors.js';
import { readModifyWrite, sameJson } from '../kube/objects.js';
import type { RouterProblem, RouterWeight } from './router.js';
import { isProblem, type ServiceNames } from './services.js';
import { describeShare, shareOf, type IntegerSplit } from '../../pipeline/policy/weights.js';
import { RouterStateError, type RouteBackend, type RouteEnv } from './weighted-router.js';
import { isOwnedByKubestead, ownedMetadata } from '../kube/names.js';
import { canaryName } from '../../pipeline/policy/vocabulary.js';
import { carried, type Extras } from './extras.js';
import {
  expectedExtras,
  isOwnMirror,
  matchAnnotations,
  MIRROR_TARGET,
  mirrorProblem,
  mirrorUrl,
  nginxExtrasOf,
  withMirror,
  withoutMatch,
} from './nginx-extras.js';

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
const NOT_COPIED = new Set(['kubectl.kubernetes.io/last-applied-configuration', MIRROR_TARGET]);

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

/**
 * The `<ingress>-canary` Ingress for a split: a copy of the user's target paths, to `<svc>-canary`, with an A/B
 * step's match.
 */
export function canaryIngress(user: V1Ingress, env: RouteEnv, split: IntegerSplit, extras: Extras = {}): V1Ingress {
  const name = canaryName(user.metadata?.name ?? '');
  const copied = Object.fromEntries(
    Object.entries(withoutMatch(user.metadata?.annotations ?? {})).filter(([k]) => !NOT_COPIED.has(k)),
  );
  const annotations = {
    ...copied,
    ...matchAnnotations(extras.match),
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

/** The port number the user's Ingress sends the target's traffic to (a named port resolved on the Service). */
function targetPort(user: V1Ingress, env: RouteEnv): number {
  const paths = (user.spec?.rules ?? []).flatMap((r) => r.http?.paths ?? []);
  const backend = [...paths.map((p) => p.backend), user.spec?.defaultBackend].find((b) => isTargets(b, env.names));
  return portNumber(backend?.service?.port ?? {}, env.service);
}

function portNumber(port: { number?: number; name?: string }, service: V1Service): number {
  if (port.number !== undefined) return port.number;
  const ports = service.spec?.ports ?? [];
  return (ports.find((p) => p.name === port.name) ?? ports[0])?.port ?? 80;
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
    if (!env.target.spec.steps.some((step) => step.mirror !== undefined)) return null;
    return mirrorProblem(user, this.where(env), (b) => isTargets(b, env.names), this.ownMirror(env));
  }

  async setSplit(env: RouteEnv, split: IntegerSplit, extras: Extras = {}): Promise<RouterWeight> {
    const { networking } = env.clients;
    const namespace = env.target.namespace;
    await readModifyWrite(
      () => this.mustUser(env),
      (user) => {
        const mirror = extras.mirror === undefined ? undefined : this.mirrorTarget(env, user);
        const next = this.userWith(env, user, env.names.primary, mirror);
        return sameJson(next.spec, user.spec) && sameJson(next.metadata, user.metadata) ? undefined : next;
      },
      (body: V1Ingress) => networking.replaceNamespacedIngress({ name: this.settings.ingress.name, namespace, body }),
    );
    const user = await this.mustUser(env);
    const wanted = canaryIngress(user, env, split, extras);
    const canary = await readModifyWrite(
      () => this.readCanary(env),
      (live): V1Ingress | undefined => {
        if (!live) return split.canary === 0 && extras.match === undefined ? undefined : wanted;
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

  async readWeight(env: RouteEnv, candidates?: Extras[]): Promise<RouterWeight> {
    const user = await this.mustUser(env);
    const canary = await this.readCanary(env);
    const share = this.shareIn(env, canary);
    if (!candidates) return share;
    const live = JSON.stringify(nginxExtrasOf(canary, user, this.ownMirror(env)));
    const mirror = this.mirrorTarget(env, user);
    const carries = carried(candidates, (extras) => JSON.stringify(expectedExtras(extras, mirror)) === live);
    return { ...share, carries };
  }

  /** The user's Ingress sending the target's paths to `service`, with Kubestead's mirror-target `mirror` or none. */
  private userWith(env: RouteEnv, user: V1Ingress, service: string, mirror: string | undefined): V1Ingress {
    const next = withBackends(user, env.names, service, false);
    const annotations = withMirror(user.metadata?.annotations, mirror, this.ownMirror(env));
    return { ...next, metadata: { ...next.metadata, annotations } };
  }

  /** The mirror-target URL: the canary Service, at the port the user's Ingress names for the target. */
  private mirrorTarget(env: RouteEnv, user: V1Ingress): string {
    return mirrorUrl(env.names, env.target.namespace, targetPort(user, env));
  }

  private ownMirror(env: RouteEnv): (value: string | undefined) => boolean {
    return (value) => isOwnMirror(value, env.names, env.target.namespace);
  }

  private where(env: RouteEnv): string {
    return `Ingress ${env.target.namespace}/${this.settings.ingress.name}`;
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
        const next = this.userWith(env, user, env.names.service, undefined);
        return sameJson(next.spec, user.spec) && sameJson(next.metadata, user.metadata) ? undefined : next;
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
