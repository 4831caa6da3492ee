import { isDeepStrictEqual } from 'node:util';
import type {
  V1OwnerReference,
  V2HorizontalPodAutoscaler,
  V2HorizontalPodAutoscalerSpec,
} from '@kubernetes/client-node';
import { ownedMetadata } from '../../adapters/kube/names.js';
import { primaryName } from '../policy/vocabulary.js';

/**
 * `<target>-primary`'s own HPA (docs/hpa.md): the user's spec (metrics, bounds, behavior) with primary as its
 * target, labelled as Kubestead's and owned by the policy. The user's HPA stays the source of truth: the copy is
 * rewritten from it whenever they differ.
 */
export function primaryAutoscalerSpec(user: V2HorizontalPodAutoscaler): V2HorizontalPodAutoscalerSpec {
  const spec = structuredClone(user.spec ?? { maxReplicas: 1, scaleTargetRef: { kind: 'Deployment', name: '' } });
  const target = spec.scaleTargetRef.name;
  return { ...spec, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: primaryName(target) } };
}

export function primaryAutoscalerFrom(
  user: V2HorizontalPodAutoscaler,
  namespace: string,
  owner: V1OwnerReference,
): V2HorizontalPodAutoscaler {
  const spec = primaryAutoscalerSpec(user);
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: ownedMetadata(spec.scaleTargetRef.name, namespace, owner),
    spec,
  };
}

/** A spec whose minReplicas is at least `floor` (and at most its maxReplicas). */
export function withFloor(
  spec: V2HorizontalPodAutoscalerSpec,
  floor: number | undefined,
): V2HorizontalPodAutoscalerSpec {
  if (floor === undefined) return spec;
  return { ...spec, minReplicas: Math.min(spec.maxReplicas, Math.max(spec.minReplicas ?? 1, floor)) };
}

/** Whether primary's copy already has the user's spec (the API server's defaults are in both). */
export function inStep(copy: V2HorizontalPodAutoscaler, user: V2HorizontalPodAutoscaler, floor?: number): boolean {
  return isDeepStrictEqual(
    JSON.parse(JSON.stringify(copy.spec)),
    JSON.parse(JSON.stringify(withFloor(primaryAutoscalerSpec(user), floor))),
  );
}

/**
 * The count a new primary starts at: what serves now, or more when the HPA already asks for more (never its
 * minReplicas when more pods serve).
 */
export function servingCount(targetReplicas: number, user: V2HorizontalPodAutoscaler | undefined): number {
  return Math.max(targetReplicas, user?.status?.desiredReplicas ?? 0);
}

/** How the canary is sized while the target has a user's HPA (docs/hpa.md): its bounds and the policy's mode. */
export interface CanarySizing {
  /** The user's HPA's `minReplicas` (1 when unset) and `maxReplicas`. */
  minReplicas: number;
  maxReplicas: number;
  /** What the user's HPA asks for the canary now (its `status.desiredReplicas`; 0 while the canary is at 0). */
  desiredReplicas: number;
  /** `autoscaled` with a weighted router: the user's HPA sizes the running canary. */
  byAutoscaler: boolean;
}

export function canarySizing(
  user: V2HorizontalPodAutoscaler | undefined,
  byAutoscaler: boolean,
): CanarySizing | undefined {
  if (!user?.spec) return undefined;
  const minReplicas = user.spec.minReplicas ?? 1;
  const maxReplicas = Math.max(minReplicas, user.spec.maxReplicas);
  return { minReplicas, maxReplicas, desiredReplicas: user.status?.desiredReplicas ?? 0, byAutoscaler };
}

/**
 * The canary count to give for a share of primary's current count, `live` being its count now. Without an HPA: the
 * share. With one, a canary that runs: its own count when the HPA sizes it (`canaryScale: autoscaled`); otherwise the
 * share, but never under its live count nor what the HPA asks for it (Kubestead only raises a running canary: lowering
 * it is the HPA's, whose scale-down window would write a recent higher count straight back) and within the HPA's bounds (which it would enforce the same way): so the HPA never has a reason to
 * undo Kubestead's write. 0 stays 0 (an ended canary), and a canary at 0 is always started by Kubestead (an HPA does
 * not scale a target at 0).
 */
export function canaryCount(share: number, live: number, sizing: CanarySizing | undefined): number {
  if (share <= 0 || !sizing) return share;
  if (sizing.byAutoscaler && live > 0) return live;
  const floor = live > 0 ? Math.max(sizing.minReplicas, sizing.desiredReplicas, live) : sizing.minReplicas;
  return Math.min(sizing.maxReplicas, Math.max(floor, share));
}

const timeOf = (time: Date | string | undefined): number | undefined => {
  const ms = time instanceof Date ? time.getTime() : Date.parse(time ?? '');
  return Number.isNaN(ms) ? undefined : ms;
};

/**
 * Whether the user's HPA scaled the canary last: at or after primary's HPA last scaled primary (docs/hpa.md). Its count
 * is then the newer verdict, on the canary's own load; raising it to its share of primary's older count would be
 * undone at the HPA's next sync (a canary needing fewer pods than its share: the two would alternate). Once primary
 * scales again, its share is the newer one.
 */
export function canaryScaledLast(
  user: V2HorizontalPodAutoscaler | undefined,
  primary: V2HorizontalPodAutoscaler | undefined,
): boolean {
  const canary = timeOf(user?.status?.lastScaleTime);
  if (canary === undefined) return false;
  const stable = timeOf(primary?.status?.lastScaleTime);
  return stable === undefined || canary >= stable;
}
