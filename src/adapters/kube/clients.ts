import {
  AppsV1Api,
  AutoscalingV2Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  NetworkingV1Api,
  type KubeConfig,
} from '@kubernetes/client-node';

/**
 * The API clients of the process, made once (a client is cheap, but each one made per tick or per
 * router was work and garbage for nothing): the tick, the routers, the audit store and the
 * informers share them.
 */
export interface KubeClients {
  readonly config: KubeConfig;
  readonly apps: AppsV1Api;
  /** HorizontalPodAutoscalers, read and written as autoscaling/v2 (an HPA made as v1 reads as v2). */
  readonly autoscaling: AutoscalingV2Api;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly networking: NetworkingV1Api;
  readonly coordination: CoordinationV1Api;
}

export function kubeClients(config: KubeConfig): KubeClients {
  return {
    config,
    apps: config.makeApiClient(AppsV1Api),
    autoscaling: config.makeApiClient(AutoscalingV2Api),
    core: config.makeApiClient(CoreV1Api),
    custom: config.makeApiClient(CustomObjectsApi),
    networking: config.makeApiClient(NetworkingV1Api),
    coordination: config.makeApiClient(CoordinationV1Api),
  };
}
