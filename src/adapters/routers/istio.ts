import type { IDestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule';
import type { TrafficRoutingSpec } from '../../pipeline/policy/schema.js';
import { describeShares } from './tracks.js';
import {
  selectRoutes,
  routeShares,
  withoutSplit,
  serviceOfHost,
  type Tracks,
  type VirtualServiceSpec,
} from './istio-routes.js';
import { CustomObjects, readModifyWrite, sameJson, type CustomKind, type CustomObject } from '../kube/objects.js';
import type { RouterProblem, RouterWeight } from './router.js';
import { HASH_LABEL, isProblem, PRIMARY_ROLE, ROLE_LABEL } from './services.js';
import type { IntegerSplit } from '../../pipeline/policy/weights.js';
import { must, type RouteBackend, type RouteEnv } from './weighted-router.js';
import { carried, type Extras } from './extras.js';
import { extrasOf, withExtras, withoutExtras } from './istio-extras.js';

/**
 * Istio `networking.istio.io/v1` VirtualService: the selected HTTP routes get two destinations,
 * `<svc>-primary` and `<svc>-canary` (or, with a DestinationRule, the stable and canary subsets
 * of the Service) at relative integer weights. Matches, retries, timeouts, headers, mirrors,
 * other routes and fields Kubestead does not know are kept exactly.
 */

export const VIRTUAL_SERVICES: CustomKind = {
  group: 'networking.istio.io',
  version: 'v1',
  plural: 'virtualservices',
  kind: 'VirtualService',
};
export const DESTINATION_RULES: CustomKind = {
  group: 'networking.istio.io',
  version: 'v1',
  plural: 'destinationrules',
  kind: 'DestinationRule',
};

type IstioSettings = NonNullable<TrafficRoutingSpec['istio']>;
type DestinationRuleSpec = NonNullable<IDestinationRule['spec']>;
type Subset = NonNullable<DestinationRuleSpec['subsets']>[number];

/**
 * The VirtualService, its spec without Kubestead's additions (istio-extras.ts) and which of that spec's HTTP routes
 * carry the split.
 */
interface SelectedRoutes {
  vs: CustomObject<VirtualServiceSpec>;
  base: VirtualServiceSpec;
  indexes: number[];
}

const NO_SPLIT: IntegerSplit = { canary: 0, primary: 100, total: 100 };

export class IstioBackend implements RouteBackend {
  readonly kind = 'istio' as const;

  constructor(private readonly settings: IstioSettings) {}

  usesServices(): boolean {
    return this.settings.destinationRule === undefined;
  }

  async prepare(env: RouteEnv, hash: string): Promise<RouterProblem | null> {
    const routes = await this.routes(env);
    if (isProblem(routes)) return routes;
    const mirrored = this.mirrorProblem(env, routes);
    if (mirrored) return mirrored;
    return this.settings.destinationRule ? this.prepareSubsets(env, hash) : null;
  }

  async setSplit(env: RouteEnv, split: IntegerSplit, extras: Extras): Promise<RouterWeight> {
    const objects = this.virtualServices(env);
    const tracks = this.tracks(env);
    const written = await readModifyWrite(
      () => this.mustRoutes(env),
      (found): SelectedRoutes | undefined => {
        const spec = withExtras(found.base, { indexes: found.indexes, tracks }, split, extras);
        return sameJson(spec, found.vs.spec) ? undefined : { ...found, vs: { ...found.vs, spec } };
      },
      async (next) => this.mustSelected(env, await objects.replace(next.vs)),
    );
    return this.shareIn(env, written);
  }

  async release(env: RouteEnv): Promise<void> {
    await readModifyWrite(
      () => this.routes(env),
      (found): CustomObject<VirtualServiceSpec> | undefined => {
        if (isProblem(found)) return undefined;
        const spec = withoutSplit(found.base, found.indexes, this.tracks(env));
        return sameJson(spec, found.vs.spec) ? undefined : { ...found.vs, spec };
      },
      (next) => this.virtualServices(env).replace(next),
    );
  }

  async readWeight(env: RouteEnv, candidates?: Extras[]): Promise<RouterWeight> {
    const found = await this.mustRoutes(env);
    const share = this.shareIn(env, found);
    if (!candidates) return share;
    const tracks = this.tracks(env);
    const live = JSON.stringify(extrasOf(found.vs.spec ?? {}, tracks));
    const carries = carried(
      candidates,
      (extras) =>
        JSON.stringify(
          extrasOf(withExtras(found.base, { indexes: found.indexes, tracks }, NO_SPLIT, extras), tracks),
        ) === live,
    );
    return { ...share, carries };
  }

  private shareIn(env: RouteEnv, { base, indexes }: SelectedRoutes): RouterWeight {
    return describeShares(routeShares(base, indexes, this.tracks(env)), this.where(env), env.names.service);
  }

  /**
   * A mirror step adds an entry to a route's `mirrors`; Istio takes `mirror` or `mirrors`, not both: a route the
   * user mirrors with `mirror` cannot carry it.
   */
  private mirrorProblem(env: RouteEnv, { base, indexes }: SelectedRoutes): RouterProblem | null {
    if (!env.target.spec.steps.some((step) => step.mirror !== undefined)) return null;
    const index = indexes.find((i) => base.http?.[i]?.mirror !== undefined);
    if (index === undefined) return null;
    const route = base.http?.[index];
    return {
      reason: 'RouteConflict',
      message:
        `${this.where(env)} ${route?.name ? `route "${route.name}"` : `http[${index}]`} mirrors with "mirror"; the ` +
        `policy's mirror step adds to "mirrors", and Istio takes one of the two: write yours as ` +
        `mirrors: [{destination: …}]`,
    };
  }

  async pinnedHash(env: RouteEnv): Promise<string | undefined> {
    const rule = this.settings.destinationRule;
    if (!rule) return undefined;
    const dr = await new CustomObjects<DestinationRuleSpec>(
      env.clients.custom,
      DESTINATION_RULES,
      env.target.namespace,
    ).get(rule.name);
    return dr?.spec?.subsets?.find((s: Subset) => s.name === rule.canarySubsetName)?.labels?.[HASH_LABEL];
  }

  private tracks(env: RouteEnv): Tracks {
    const rule = this.settings.destinationRule;
    const { names, target } = env;
    return rule
      ? {
          by: 'subset',
          names,
          namespace: target.namespace,
          stable: rule.stableSubsetName,
          canary: rule.canarySubsetName,
        }
      : { by: 'service', names, namespace: target.namespace };
  }

  private where(env: RouteEnv): string {
    return `VirtualService ${env.target.namespace}/${this.settings.virtualService.name}`;
  }

  private virtualServices(env: RouteEnv): CustomObjects<VirtualServiceSpec> {
    return new CustomObjects(env.clients.custom, VIRTUAL_SERVICES, env.target.namespace);
  }

  private async routes(env: RouteEnv): Promise<SelectedRoutes | RouterProblem> {
    const vs = await this.virtualServices(env).get(this.settings.virtualService.name);
    if (!vs) return { reason: 'RouteMissing', message: `${this.where(env)} does not exist` };
    return this.selected(env, vs);
  }

  private selected(env: RouteEnv, vs: CustomObject<VirtualServiceSpec>): SelectedRoutes | RouterProblem {
    const base = withoutExtras(vs.spec ?? {}, this.tracks(env));
    const indexes = selectRoutes(base, this.settings.virtualService.routes, this.tracks(env), this.where(env));
    return Array.isArray(indexes) ? { vs, base, indexes } : indexes;
  }

  private async mustRoutes(env: RouteEnv): Promise<SelectedRoutes> {
    return must(await this.routes(env));
  }

  private mustSelected(env: RouteEnv, vs: CustomObject<VirtualServiceSpec>): SelectedRoutes {
    return must(this.selected(env, vs));
  }

  /**
   * The stable subset selects primary pods, the canary subset the canary ReplicaSet's: their labels are Kubestead's.
   */
  private async prepareSubsets(env: RouteEnv, hash: string): Promise<RouterProblem | null> {
    const rule = this.settings.destinationRule;
    if (!rule) return null;
    const objects = new CustomObjects<DestinationRuleSpec>(env.clients.custom, DESTINATION_RULES, env.target.namespace);
    const where = `DestinationRule ${env.target.namespace}/${rule.name}`;
    let problem: RouterProblem | null = null;
    await readModifyWrite(
      () => objects.get(rule.name),
      (dr) => {
        problem = subsetProblem(dr, env, where, [rule.stableSubsetName, rule.canarySubsetName]);
        if (problem || !dr) return undefined;
        const labels: Record<string, Record<string, string>> = {
          [rule.stableSubsetName]: { [ROLE_LABEL]: PRIMARY_ROLE },
          [rule.canarySubsetName]: { [HASH_LABEL]: hash },
        };
        const subsets = (dr.spec?.subsets ?? []).map((s: Subset) =>
          s.name !== undefined && labels[s.name] ? { ...s, labels: labels[s.name] } : s,
        );
        return sameJson(subsets, dr.spec?.subsets)
          ? undefined
          : { ...dr, spec: { ...(dr.spec as DestinationRuleSpec), subsets } };
      },
      (next) => objects.replace(next),
    );
    return problem;
  }
}

function subsetProblem(
  dr: CustomObject<DestinationRuleSpec> | undefined,
  env: RouteEnv,
  where: string,
  wanted: string[],
): RouterProblem | null {
  if (!dr) return { reason: 'RouteMissing', message: `${where} does not exist` };
  if (serviceOfHost(dr.spec?.host, env.target.namespace) !== env.names.service) {
    return {
      reason: 'RouteMismatch',
      message: `${where} is for host ${dr.spec?.host ?? '(none)'}, not for Service ${env.names.service}`,
    };
  }
  const names = (dr.spec?.subsets ?? []).map((s: Subset) => s.name);
  const missing = wanted.find((name) => !names.includes(name));
  return missing === undefined
    ? null
    : {
        reason: 'RouteMissing',
        message: `${where} has no subset named "${missing}" (subsets: ${names.join(', ') || 'none'})`,
      };
}
