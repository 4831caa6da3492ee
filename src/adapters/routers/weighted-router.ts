import type { V1Service } from '@kubernetes/client-node';
import { inexpressibleWeight } from '../../pipeline/policy/routing.js';
import type { KubeClients } from '../kube/clients.js';
import { parseDuration } from '../../pipeline/policy/duration.js';
import type { Extras } from './extras.js';
import type {
  RouterContext,
  RouterKind,
  RouterProblem,
  RouterTarget,
  RouterWeight,
  Traffic,
  TrafficRouter,
} from './router.js';
import {
  canaryTemplateHash,
  deleteOwnedServices,
  deletePreviewService,
  ensurePreviewService,
  refreshPreviewService,
  ensureServices,
  isProblem,
  pinnedServiceHash,
  resolveUserService,
  serviceNames,
  type ServiceNames,
} from './services.js';
import { integerSplit, podsForWeight, type IntegerSplit } from '../../pipeline/policy/weights.js';

export type WeightedKind = Exclude<RouterKind, 'replicas'>;

/** What a router's own module works with, resolved once by the shared part. */
export interface RouteEnv {
  target: RouterTarget;
  clients: KubeClients;
  /** The user's Service, as read. */
  service: V1Service;
  /** Its name and the names of Kubestead's two beside it. */
  names: ServiceNames;
  /** The canary track's pod-template-hash, as prepare() pinned it (session affinity's cookie value). */
  hash?: string;
}

/** The part of a weighted router that knows its object kind (VirtualService, HTTPRoute, …). */
export interface RouteBackend {
  readonly kind: WeightedKind;
  /** Whether traffic goes to `<svc>-primary` / `<svc>-canary` (Istio subsets route by pod labels instead). */
  usesServices(): boolean;
  /** Checks the user's router objects and readies them; `hash` is the canary ReplicaSet's pod-template-hash. */
  prepare(env: RouteEnv, hash: string): Promise<RouterProblem | null>;
  /**
   * Writes the two integer weights and the additions `extras` asks for (removing any other of Kubestead's), in one
   * write, and returns the canary's share as the write left them (the written object, or the one read when it
   * already held them); throws RouterStateError when the objects are not there.
   */
  setSplit(env: RouteEnv, split: IntegerSplit, extras: Extras): Promise<RouterWeight>;
  /** The live share; with `candidates`, `carries`: the first of them the live additions are exactly. */
  readWeight(env: RouteEnv, candidates?: Extras[]): Promise<RouterWeight>;
  /** End of a rollout, after all traffic is on primary: remove what was created for this rollout only. */
  afterFinalize?(env: RouteEnv): Promise<void>;
  /** The policy is going: the user's objects send to the user's Service again. */
  release(env: RouteEnv): Promise<void>;
  /** Where the router itself pins the canary track (Istio subsets), when it does not use Services. */
  pinnedHash?(env: RouteEnv): Promise<string | undefined>;
}

/** A router object is missing or no longer points at the target: the actuator retries on a later tick. */
export class RouterStateError extends Error {
  constructor(readonly problem: RouterProblem) {
    super(problem.message);
    this.name = 'RouterStateError';
  }
}

/** What was found, or a RouterStateError for the problem found instead. */
export function must<T extends object>(found: T | RouterProblem): T {
  if (isProblem(found)) throw new RouterStateError(found);
  return found;
}

const ALL_TO_PRIMARY: IntegerSplit = { canary: 0, primary: 100, total: 100 };

/**
 * The flow every weighted router shares (docs/architecture.md, "Traffic and lifecycle"). Call order, as the actuator
 * does it:
 * prepare() once the primary Deployment is ready and then on every tick before any weight
 * change (it pins `<svc>-canary` to the current canary ReplicaSet); setWeight(w > 0) only once
 * the canary's pods are ready; on rollback setWeight(0) and getWeight() reading 0 before the
 * canary is scaled down; on promotion setWeight(0) only once primary runs the new template and
 * is ready; then finalize(). release() when the policy is deleted, before primary goes.
 */
export class WeightedRouter implements TrafficRouter {
  readonly kind: WeightedKind;
  readonly weighted = true;
  private readonly clients: KubeClients;
  private env: RouteEnv | undefined;

  constructor(
    private readonly backend: RouteBackend,
    private readonly ctx: RouterContext,
  ) {
    this.kind = backend.kind;
    this.clients = ctx.clients;
  }

  async prepare(): Promise<RouterProblem | null> {
    const env = await this.resolve();
    if (isProblem(env)) return env;
    const newest = await canaryTemplateHash(this.clients, this.ctx.target);
    if (typeof newest !== 'string') return newest;
    const hash = await this.pinFor(env, newest);
    env.hash = hash;
    // The user's objects first: while they are missing or wrong, nothing is created.
    const problem =
      (await this.backend.prepare(env, hash)) ??
      (this.backend.usesServices() ? await ensureServices(this.clients, this.ctx.target, env.service, hash) : null);
    return problem ?? refreshPreviewService(this.clients, this.ctx.target, env.service, hash);
  }

  canaryReplicas(weight: number, stableReplicas: number): number {
    return podsForWeight(weight, stableReplicas);
  }

  async setWeight(weight: number): Promise<RouterWeight> {
    return this.setTraffic({ weight });
  }

  async setTraffic(traffic: Traffic): Promise<RouterWeight> {
    const why = this.inexpressible(traffic.weight);
    const split = integerSplit(traffic.weight);
    if (why !== null || split === null) throw new Error(why ?? `weight ${traffic.weight} cannot be split`);
    const env = await this.resolved();
    const problem = traffic.stage
      ? await ensurePreviewService(this.clients, env.target, env.service, env.hash ?? (await this.canaryHash(env)))
      : null;
    if (problem) throw new RouterStateError(problem);
    return this.backend.setSplit(env, split, await this.extrasFor(env, traffic));
  }

  async getWeight(candidates?: Traffic[]): Promise<RouterWeight> {
    const env = await this.resolved();
    const extras = candidates ? await Promise.all(candidates.map((c) => this.extrasFor(env, c))) : undefined;
    return this.backend.readWeight(env, extras);
  }

  /** What a step's traffic adds: its match or mirror, and session affinity while the canary has a weight. */
  private async extrasFor(env: RouteEnv, traffic: Traffic): Promise<Extras> {
    const affinity = this.ctx.target.spec.trafficRouting.sessionAffinity;
    const sticky = affinity !== undefined && traffic.weight > 0;
    return {
      ...(traffic.match ? { match: traffic.match } : {}),
      ...(traffic.mirror !== undefined ? { mirror: traffic.mirror } : {}),
      ...(sticky
        ? {
            affinity: {
              cookieName: affinity.cookieName,
              value: env.hash ?? (await this.canaryHash(env)),
              maxAgeSeconds: parseDuration(affinity.maxAge) ?? 0,
            },
          }
        : {}),
    };
  }

  /** The canary track's hash when prepare() has not run in this router's life (it pins it). */
  private async canaryHash(env: RouteEnv): Promise<string> {
    const newest = await canaryTemplateHash(this.clients, this.ctx.target);
    if (typeof newest !== 'string') throw new RouterStateError(newest);
    env.hash = await this.pinFor(env, newest);
    return env.hash;
  }

  inexpressible(weight: number): string | null {
    return inexpressibleWeight(this.kind, weight);
  }

  async finalize(): Promise<void> {
    const env = await this.resolved();
    await this.backend.setSplit(env, ALL_TO_PRIMARY, {});
    await this.backend.afterFinalize?.(env);
    await deletePreviewService(this.clients, env.target);
  }

  async release(): Promise<void> {
    const env = await this.resolved();
    await this.backend.release(env);
    await deleteOwnedServices(this.clients, env);
    await deletePreviewService(this.clients, env.target);
  }

  /**
   * The ReplicaSet the canary track selects: the newest one, except while the canary has traffic,
   * when it stays on the one it has (its successor's pods may not be ready; the controller sets
   * the weight to 0 first, and the next prepare() moves the track).
   */
  private async pinFor(env: RouteEnv, newest: string): Promise<string> {
    const pinned = this.backend.usesServices()
      ? await pinnedServiceHash(this.clients, env)
      : await this.backend.pinnedHash?.(env);
    if (pinned === undefined || pinned === newest) return newest;
    const live = await this.backend.readWeight(env).catch((error: unknown) => {
      if (error instanceof RouterStateError) return { weight: 0 };
      throw error;
    });
    return live.weight > 0 ? pinned : newest;
  }

  private async resolve(): Promise<RouteEnv | RouterProblem> {
    const named = namedService(this.ctx.target, this.kind);
    const service = await resolveUserService(this.clients, this.ctx.target, named);
    if (isProblem(service)) return service;
    this.env = {
      target: this.ctx.target,
      clients: this.clients,
      service,
      names: serviceNames(service.metadata?.name ?? ''),
    };
    return this.env;
  }

  private async resolved(): Promise<RouteEnv> {
    if (this.env) return this.env;
    const env = await this.resolve();
    if (isProblem(env)) throw new RouterStateError(env);
    return env;
  }
}

function namedService(target: RouterTarget, kind: WeightedKind): string | undefined {
  return target.spec.trafficRouting[kind]?.service?.name;
}
