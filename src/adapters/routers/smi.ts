import type { TrafficRoutingSpec } from '../../pipeline/policy/schema.js';
import { CustomObjects, readModifyWrite, sameJson, type CustomKind, type CustomObject } from '../kube/objects.js';
import type { RouterProblem, RouterWeight } from './router.js';
import { isProblem, type ServiceNames } from './services.js';
import type { IntegerSplit } from '../../pipeline/policy/weights.js';
import { coverage, describeShares, shareOfRoute, type Role } from './tracks.js';
import { RouterStateError, type RouteBackend, type RouteEnv } from './weighted-router.js';

/**
 * SMI `split.smi-spec.io` TrafficSplit, as Linkerd's SMI extension serves it (v1alpha1 and
 * v1alpha2, one storage): the apex `spec.service` stays the user's Service; the backends become
 * `<svc>-primary` and `<svc>-canary` at integer weights. Kubestead writes v1alpha2 (integer
 * weights) and reads either form, including v1alpha1 quantities such as `500m`.
 */

export const TRAFFIC_SPLITS: CustomKind = {
  group: 'split.smi-spec.io',
  version: 'v1alpha2',
  plural: 'trafficsplits',
  kind: 'TrafficSplit',
};

export interface TrafficSplitSpec {
  service?: string;
  backends?: Array<{ service?: string; weight?: number | string; [field: string]: unknown }>;
  [field: string]: unknown;
}
type Backend = NonNullable<TrafficSplitSpec['backends']>[number];
type Settings = NonNullable<TrafficRoutingSpec['smi']>;

const QUANTITY = /^(\d+(?:\.\d+)?)(m|k)?$/;

/** A backend weight in thousandths: 5 → 5000, "500m" → 500, "1k" → 1000000; NaN for what is not a weight. */
export function milliWeight(weight: number | string | undefined): number {
  if (typeof weight === 'number') return weight * 1000;
  const match = QUANTITY.exec(weight ?? '');
  if (!match) return Number.NaN;
  const scale = match[2] === 'm' ? 1 : match[2] === 'k' ? 1_000_000 : 1000;
  return Number(match[1]) * scale;
}

function roleOfBackend(backend: Backend, names: ServiceNames): Role {
  if (backend.service === names.primary) return 'primary';
  if (backend.service === names.canary) return 'canary';
  return backend.service === names.service ? 'unsplit' : 'other';
}

export function splitProblem(spec: TrafficSplitSpec, names: ServiceNames, where: string): RouterProblem | null {
  if (spec.service !== names.service) {
    return {
      reason: 'RouteMismatch',
      message: `${where} splits Service ${spec.service ?? '(none)'}, not the target's Service ${names.service}`,
    };
  }
  const kind = coverage((spec.backends ?? []).map((b) => roleOfBackend(b, names)));
  return kind === 'some'
    ? {
        reason: 'RouteMismatch',
        message: `${where} has backends other than Service ${names.service}; Kubestead owns the backends of the split`,
      }
    : null;
}

export class SmiBackend implements RouteBackend {
  readonly kind = 'smi' as const;

  constructor(private readonly settings: Settings) {}

  usesServices(): boolean {
    return true;
  }

  async prepare(env: RouteEnv): Promise<RouterProblem | null> {
    const found = await this.split(env);
    return isProblem(found) ? found : null;
  }

  async setSplit(env: RouteEnv, split: IntegerSplit): Promise<RouterWeight> {
    const { names } = env;
    const written = await readModifyWrite(
      () => this.mustSplit(env),
      (ts) => {
        const backends = [
          { service: names.primary, weight: split.primary },
          { service: names.canary, weight: split.canary },
        ];
        return sameJson(backends, ts.spec?.backends)
          ? undefined
          : { ...ts, apiVersion: apiVersionOf(TRAFFIC_SPLITS), spec: { ...ts.spec, backends } };
      },
      (next) => this.splits(env).replace(next),
    );
    return this.shareIn(env, written);
  }

  async release(env: RouteEnv): Promise<void> {
    await readModifyWrite(
      () => this.split(env),
      (ts): CustomObject<TrafficSplitSpec> | undefined => {
        if (isProblem(ts)) return undefined;
        const backends = [{ service: env.names.service, weight: 100 }];
        return sameJson(backends, ts.spec?.backends)
          ? undefined
          : { ...ts, apiVersion: apiVersionOf(TRAFFIC_SPLITS), spec: { ...ts.spec, backends } };
      },
      (next) => this.splits(env).replace(next),
    );
  }

  async readWeight(env: RouteEnv): Promise<RouterWeight> {
    return this.shareIn(env, await this.mustSplit(env));
  }

  private shareIn(env: RouteEnv, ts: CustomObject<TrafficSplitSpec>): RouterWeight {
    const share = shareOfRoute(
      'backends',
      ts.spec?.backends ?? [],
      (b) => roleOfBackend(b, env.names),
      (b) => milliWeight(b.weight) / 1000,
    );
    return describeShares([share], this.where(env), env.names.service);
  }

  private where(env: RouteEnv): string {
    return `TrafficSplit ${env.target.namespace}/${this.settings.trafficSplit.name}`;
  }

  private splits(env: RouteEnv): CustomObjects<TrafficSplitSpec> {
    return new CustomObjects(env.clients.custom, TRAFFIC_SPLITS, env.target.namespace);
  }

  private async split(env: RouteEnv): Promise<CustomObject<TrafficSplitSpec> | RouterProblem> {
    const ts = await this.splits(env).get(this.settings.trafficSplit.name);
    if (!ts) return { reason: 'RouteMissing', message: `${this.where(env)} does not exist` };
    return splitProblem(ts.spec ?? {}, env.names, this.where(env)) ?? ts;
  }

  private async mustSplit(env: RouteEnv): Promise<CustomObject<TrafficSplitSpec>> {
    const found = await this.split(env);
    if (isProblem(found)) throw new RouterStateError(found);
    return found;
  }
}

function apiVersionOf(type: CustomKind): string {
  return `${type.group}/${type.version}`;
}
