import { z } from 'zod';
import type { PolicyIssue } from './issues.js';
import { isObj, type Obj } from './objects.js';
import { doc } from './schema-parts.js';

export const CANARY_SCALES = ['proportional', 'autoscaled'] as const;
export type CanaryScale = (typeof CANARY_SCALES)[number];

/**
 * `spec.canaryScale` (docs/hpa.md): how a weighted router's canary is sized when the target has an HPA.
 * `proportional` (the default): Kubestead gives it its share of primary's current count; `autoscaled`: the user's
 * HPA scales it on its own load, and Kubestead writes its /scale only to start it (from 0) and to end it (to 0).
 */
export const canaryScaleSchema = z
  .enum(CANARY_SCALES)
  .meta(
    doc(
      "How a weighted router's canary is sized: `proportional` (default) is the step's share of primary's current " +
        "replicas (at least 1, within the user's HPA's bounds), re-derived every tick; `autoscaled` leaves its count " +
        "to the user's HPA (Kubestead only starts it from 0 and ends it at 0). Replica routing is always " +
        'proportional: its pod share is its traffic share.',
      'canaryScale: autoscaled',
    ),
  )
  .optional();

/** The canary's sizing of a spec (proportional when unset). */
export const canaryScaleOf = (spec: { canaryScale?: CanaryScale }): CanaryScale => spec.canaryScale ?? 'proportional';

/** `autoscaled` needs a weighted router: with replica routing (the default) the pod count is the traffic share. */
export function canaryScaleIssues(spec: Obj): PolicyIssue[] {
  if (spec.canaryScale !== 'autoscaled') return [];
  const routing = isObj(spec.trafficRouting) ? Object.keys(spec.trafficRouting) : ['replicas'];
  if (spec.strategy === 'blueGreen')
    return [{ path: ['spec', 'canaryScale'], message: 'canaryScale: autoscaled is for canary steps, not blueGreen' }];
  if (!routing.includes('replicas')) return [];
  return [
    {
      path: ['spec', 'canaryScale'],
      message:
        'canaryScale: autoscaled needs a weighted router (istio, gatewayAPI, smi, nginx, …): with replica routing the ' +
        "canary's pod share is its traffic share, so Kubestead sizes it",
    },
  ];
}
