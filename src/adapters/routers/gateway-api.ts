import type { IHTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import type { TrafficRoutingSpec } from '../../pipeline/policy/schema.js';
import { CustomObjects, readModifyWrite, sameJson, type CustomKind, type CustomObject } from '../kube/objects.js';
import type { RouterProblem, RouterWeight } from './router.js';
import { isProblem, type ServiceNames } from './services.js';
import type { IntegerSplit } from '../../pipeline/policy/weights.js';
import { coverage, describeShares, shareOfRoute, templateOf, type Role } from './tracks.js';
import { must, type RouteBackend, type RouteEnv } from './weighted-router.js';
import { carried, type Extras } from './extras.js';
import { ruleExtrasOf, withoutRuleExtras, withRuleExtras } from './gateway-extras.js';

/**
 * Gateway API `gateway.networking.k8s.io/v1` HTTPRoute (Envoy Gateway, Linkerd ≥ 2.14, Istio):
 * the rules whose backendRefs point at the target's Service get two refs, `<svc>-primary` and
 * `<svc>-canary`, at relative integer weights. Other rules and fields are left as they are.
 */

export const HTTP_ROUTES: CustomKind = {
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  plural: 'httproutes',
  kind: 'HTTPRoute',
};

export type HttpRouteSpec = IHTTPRoute['spec'];
type Rule = NonNullable<HttpRouteSpec['rules']>[number];
type BackendRef = NonNullable<Rule['backendRefs']>[number];
type Settings = NonNullable<TrafficRoutingSpec['gatewayAPI']>;

/** A backendRef's part in the split: a core Service in the route's namespace, by name. */
export function roleOfRef(ref: BackendRef, names: ServiceNames, namespace: string): Role {
  const isService = (ref.group ?? '') === '' && (ref.kind ?? 'Service') === 'Service';
  if (!isService || (ref.namespace !== undefined && ref.namespace !== namespace)) return 'other';
  if (ref.name === names.primary) return 'primary';
  if (ref.name === names.canary) return 'canary';
  return ref.name === names.service ? 'unsplit' : 'other';
}

/** The rules to split: those whose backendRefs all point at the target's Service (or Kubestead's two). */
export function selectRules(
  spec: HttpRouteSpec,
  names: ServiceNames,
  namespace: string,
  where: string,
): number[] | RouterProblem {
  const rules = spec.rules ?? [];
  const kinds = rules.map((rule) => coverage((rule.backendRefs ?? []).map((ref) => roleOfRef(ref, names, namespace))));
  const mixed = kinds.indexOf('some');
  if (mixed >= 0) {
    return {
      reason: 'RouteMismatch',
      message:
        `${where} rules[${mixed}] sends traffic to other backends besides Service ${names.service}; Kubestead ` +
        `splits only rules whose backends are the target's Service`,
    };
  }
  const chosen = kinds.flatMap((kind, index) => (kind === 'all' ? [index] : []));
  return chosen.length > 0
    ? chosen
    : { reason: 'RouteMismatch', message: `${where} has no rule with a backendRef to Service ${names.service}` };
}

export function withRuleSplit(
  spec: HttpRouteSpec,
  indexes: number[],
  split: IntegerSplit,
  env: Pick<RouteEnv, 'names' | 'target'>,
): HttpRouteSpec {
  const { names } = env;
  const namespace = env.target.namespace;
  const rules = (spec.rules ?? []).map((rule, index) => {
    const refs = rule.backendRefs ?? [];
    const template = templateOf(refs, (ref) => roleOfRef(ref, names, namespace));
    if (!indexes.includes(index) || !template) return rule;
    const backendRefs = [
      { ...template, name: names.primary, weight: split.primary },
      { ...template, name: names.canary, weight: split.canary },
    ];
    return { ...rule, backendRefs };
  });
  return { ...spec, rules };
}

/** The split rules back to one backendRef, the user's Service (its weight left to the default). */
export function withoutRuleSplit(
  spec: HttpRouteSpec,
  indexes: number[],
  env: Pick<RouteEnv, 'names' | 'target'>,
): HttpRouteSpec {
  const rules = (spec.rules ?? []).map((rule, index) => {
    const template = templateOf(rule.backendRefs ?? [], (ref) => roleOfRef(ref, env.names, env.target.namespace));
    if (!indexes.includes(index) || !template) return rule;
    const { weight: _weight, ...rest } = template;
    return { ...rule, backendRefs: [{ ...rest, name: env.names.service }] };
  });
  return { ...spec, rules };
}

/**
 * The HTTPRoute, its spec without Kubestead's additions (gateway-extras.ts) and which of that spec's rules carry the
 * split.
 */
interface SelectedRules {
  route: CustomObject<HttpRouteSpec>;
  base: HttpRouteSpec;
  indexes: number[];
}

const NO_SPLIT: IntegerSplit = { canary: 0, primary: 100, total: 100 };

/** The rules at `indexes` split, with the additions `extras` asks for. */
function withTraffic(found: SelectedRules, split: IntegerSplit, env: RouteEnv, extras: Extras): HttpRouteSpec {
  return withRuleExtras(withRuleSplit(found.base, found.indexes, split, env), found.indexes, env.names, extras);
}

export class GatewayApiBackend implements RouteBackend {
  readonly kind = 'gatewayAPI' as const;

  constructor(private readonly settings: Settings) {}

  usesServices(): boolean {
    return true;
  }

  async prepare(env: RouteEnv): Promise<RouterProblem | null> {
    const found = await this.rules(env);
    return isProblem(found) ? found : null;
  }

  async setSplit(env: RouteEnv, split: IntegerSplit, extras: Extras): Promise<RouterWeight> {
    const written = await readModifyWrite(
      () => this.mustRules(env),
      (found): SelectedRules | undefined => {
        const spec = withTraffic(found, split, env, extras);
        return sameJson(spec, found.route.spec) ? undefined : { ...found, route: { ...found.route, spec } };
      },
      async (next) => must(this.selected(env, await this.routes(env).replace(next.route))),
    );
    return this.shareIn(env, written);
  }

  async release(env: RouteEnv): Promise<void> {
    await readModifyWrite(
      () => this.rules(env),
      (found): CustomObject<HttpRouteSpec> | undefined => {
        if (isProblem(found)) return undefined;
        const spec = withoutRuleSplit(found.base, found.indexes, env);
        return sameJson(spec, found.route.spec) ? undefined : { ...found.route, spec };
      },
      (next) => this.routes(env).replace(next),
    );
  }

  async readWeight(env: RouteEnv, candidates?: Extras[]): Promise<RouterWeight> {
    const found = await this.mustRules(env);
    const share = this.shareIn(env, found);
    if (!candidates) return share;
    const live = JSON.stringify(ruleExtrasOf(found.route.spec ?? {}, env.names));
    const carries = carried(
      candidates,
      (extras) => JSON.stringify(ruleExtrasOf(withTraffic(found, NO_SPLIT, env, extras), env.names)) === live,
    );
    return { ...share, carries };
  }

  private shareIn(env: RouteEnv, { base, indexes }: SelectedRules): RouterWeight {
    const rules = base.rules ?? [];
    const roleOf = (ref: BackendRef) => roleOfRef(ref, env.names, env.target.namespace);
    // An unset weight is 1 (the CRD's default).
    const shares = indexes.map((i) =>
      shareOfRoute(`rules[${i}]`, rules[i]?.backendRefs ?? [], roleOf, (ref) => ref.weight ?? 1),
    );
    return describeShares(shares, this.where(env), env.names.service);
  }

  private where(env: RouteEnv): string {
    return `HTTPRoute ${env.target.namespace}/${this.settings.httpRoute.name}`;
  }

  private routes(env: RouteEnv): CustomObjects<HttpRouteSpec> {
    return new CustomObjects(env.clients.custom, HTTP_ROUTES, env.target.namespace);
  }

  private async rules(env: RouteEnv): Promise<SelectedRules | RouterProblem> {
    const route = await this.routes(env).get(this.settings.httpRoute.name);
    if (!route) return { reason: 'RouteMissing', message: `${this.where(env)} does not exist` };
    return this.selected(env, route);
  }

  private selected(env: RouteEnv, route: CustomObject<HttpRouteSpec>): SelectedRules | RouterProblem {
    const base = withoutRuleExtras(route.spec ?? {}, env.names);
    const indexes = selectRules(base, env.names, env.target.namespace, this.where(env));
    return Array.isArray(indexes) ? { route, base, indexes } : indexes;
  }

  private async mustRules(env: RouteEnv): Promise<SelectedRules> {
    return must(await this.rules(env));
  }
}
