import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { crdYaml } from '../gen/crd.js';
import { POLICY_RESOURCE, policyPath } from '../../adapters/kube/names.js';
import { PACKAGE_ROOT } from '../../lib/root.js';
import type { PolicyView } from '../view/policy-view.js';

/** The policy the demo applies (fixtures/policies/shop-demo.yaml): its namespace and name are the shop's. */
export const DEMO_POLICY_FILE = join(PACKAGE_ROOT, 'fixtures', 'policies', 'shop-demo.yaml');
export const SHOP = { namespace: 'shop', name: 'shop', image: 'kubestead.example/shop' } as const;

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const LABELS = { app: SHOP.name };

/** The demo's RolloutPolicy as applied: the example file, its Prometheus provider pointed at `metricsUrl`. */
export interface DemoPolicyObject extends PolicyView {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: PolicyView['spec'] & { providers: Record<string, { prometheus?: { address: string } }> };
}

export async function readDemoPolicy(metricsUrl: string): Promise<DemoPolicyObject> {
  const policy = parse(await readFile(DEMO_POLICY_FILE, 'utf8')) as DemoPolicyObject;
  for (const provider of Object.values(policy.spec.providers))
    if (provider.prometheus) provider.prometheus.address = metricsUrl;
  return policy;
}

/** The RolloutPolicy CRD, as `kubectl apply -f crds/` installs it. */
export async function installPolicyCrd(kubeConfig: KubeConfig): Promise<void> {
  await kubeConfig
    .makeApiClient(ApiextensionsV1Api)
    .createCustomResourceDefinition({ body: parse(crdYaml()) as V1CustomResourceDefinition });
}

/** The `shop` app as a user has it before installing Kubestead: a Deployment of 3 pods and its Service. */
export async function createShop(kubeConfig: KubeConfig): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: SHOP.namespace } } });
  await kubeConfig.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace: SHOP.namespace,
    body: {
      metadata: { name: SHOP.name, labels: LABELS },
      spec: {
        replicas: 3,
        selector: { matchLabels: LABELS },
        template: {
          metadata: { labels: LABELS },
          spec: { containers: [{ name: 'shop', image: `${SHOP.image}:1`, ports: [{ containerPort: 8080 }] }] },
        },
      },
    },
  });
  await core.createNamespacedService({
    namespace: SHOP.namespace,
    body: { metadata: { name: SHOP.name }, spec: { selector: LABELS, ports: [{ port: 80, targetPort: 8080 }] } },
  });
}

/** A release: the shop Deployment's image becomes `shop:VERSION` (what `kubectl set image` does). */
export async function releaseShop(kubeConfig: KubeConfig, version: string): Promise<void> {
  const body = { spec: { template: { spec: { containers: [{ name: 'shop', image: `${SHOP.image}:${version}` }] } } } };
  await kubeConfig
    .makeApiClient(AppsV1Api)
    .patchNamespacedDeployment({ name: SHOP.name, namespace: SHOP.namespace, body }, MERGE);
}

/** The demo policy as read back: the view's fields, and where its audit chain and rollback report are. */
export type DemoPolicyState = PolicyView & {
  status?: PolicyView['status'] & { report?: string; audit?: { head?: string; seq?: number } };
};

/** The policy API of the demo: apply it once, read it back as often as the view needs. */
export class DemoPolicyApi {
  private readonly api: CustomObjectsApi;

  constructor(kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async apply(policy: DemoPolicyObject): Promise<void> {
    await this.api.createNamespacedCustomObject({
      ...POLICY_RESOURCE,
      namespace: policy.metadata.namespace,
      body: policy,
    });
  }

  /** A merge patch of the policy's spec (as `kubectl patch --type=merge` does). */
  async patchSpec(spec: Record<string, unknown>): Promise<void> {
    await this.api.patchNamespacedCustomObject({ ...policyPath(SHOP.namespace, SHOP.name), body: { spec } }, MERGE);
  }

  async read(): Promise<DemoPolicyState> {
    return (await this.api.getNamespacedCustomObject(policyPath(SHOP.namespace, SHOP.name))) as DemoPolicyState;
  }
}
