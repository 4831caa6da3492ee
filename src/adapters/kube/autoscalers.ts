import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { AutoscalerStatus } from '../../pipeline/policy/status-autoscaler.js';
import { isOwnedByKubestead } from './names.js';

/** HorizontalPodAutoscalers as Kubestead reads them (docs/hpa.md): the one home of what an HPA targets. */

/** The Deployment an HPA scales (its scaleTargetRef, apps/v1 or no group given), or undefined for another kind. */
export function scaledDeployment(hpa: V2HorizontalPodAutoscaler): string | undefined {
  const ref = hpa.spec?.scaleTargetRef;
  if (!ref || ref.kind !== 'Deployment' || !ref.name) return undefined;
  const group = ref.apiVersion?.includes('/') ? ref.apiVersion.split('/')[0] : '';
  return group === 'apps' || group === '' ? ref.name : undefined;
}

/**
 * The user's HPA among those scaling one Deployment: not one Kubestead made, the first by name when there are several
 * (Kubernetes' own HPA controller refuses to scale a target two HPAs share; Kubestead shows the first).
 */
export function usersAutoscaler(
  candidates: readonly V2HorizontalPodAutoscaler[],
): V2HorizontalPodAutoscaler | undefined {
  return candidates
    .filter((h) => !isOwnedByKubestead(h.metadata))
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))[0];
}

/** What status shows of an HPA: its name, bounds and counts (minReplicas defaults to 1 as the API server's). */
export function autoscalerSummary(hpa: V2HorizontalPodAutoscaler): AutoscalerStatus {
  const { currentReplicas, desiredReplicas } = hpa.status ?? {};
  return {
    name: hpa.metadata?.name ?? '',
    minReplicas: hpa.spec?.minReplicas ?? 1,
    maxReplicas: hpa.spec?.maxReplicas ?? 0,
    ...(currentReplicas !== undefined ? { currentReplicas } : {}),
    ...(desiredReplicas !== undefined ? { desiredReplicas } : {}),
  };
}
