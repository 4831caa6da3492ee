import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  loadAllYaml,
  loadYaml,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type V1CustomResourceDefinition,
  type V1OwnerReference,
} from '@kubernetes/client-node';
import { crdYaml } from '../../src/tools/gen/crd.js';
import { specSchema } from '../../src/pipeline/policy/schema.js';
import type { RouterContext } from '../../src/adapters/routers/router.js';
import { systemClock } from '../../src/lib/clock/clock.js';
import type { Sandbox } from '@kubestead/sandbox';
import { THIRD_PARTY, thirdPartyPresent } from '../support/third-party.js';
import { type Body } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { readModifyWrite } from '../../src/adapters/kube/objects.js';
import { kubeClients } from '../../src/adapters/kube/clients.js';

/** The published CRDs of Istio, Gateway API and SMI, kept beside the repository (never copied in). */
export const CRD_DIR = THIRD_PARTY.crds.dir;

/** Whether router tests that need the third-party CRDs can run; loud when not, fatal in CI. */
export const thirdPartyCrdsPresent = (): boolean => thirdPartyPresent('crds', 'router tests');

/**
 * The RolloutPolicy CRD (policies own what routers create). Read as the client's own type (loadYaml), as kubectl
 * sends it: a plain parse would lose the `x-kubernetes-validations` of typed schema nodes in the client's serializer.
 */
export async function installPolicyCrd(sandbox: Sandbox): Promise<void> {
  await sandbox.client(ApiextensionsV1Api).createCustomResourceDefinition({ body: loadYaml(crdYaml()) });
}

/** The RolloutPolicy CRD and the published router CRDs. */
export async function installCrds(sandbox: Sandbox): Promise<void> {
  await installPolicyCrd(sandbox);
  await installRouterCrds(sandbox);
}

/** The published router CRDs only (for a sandbox that already has the RolloutPolicy CRD, as the tick's has). */
export async function installRouterCrds(sandbox: Sandbox): Promise<void> {
  const crds = sandbox.client(ApiextensionsV1Api);
  for (const file of (await readdir(CRD_DIR)).filter((f) => f.endsWith('.yaml'))) {
    for (const crd of loadAllYaml(
      await readFile(join(CRD_DIR, file), 'utf8'),
    ) as (V1CustomResourceDefinition | null)[]) {
      if (crd?.kind === 'CustomResourceDefinition') await crds.createCustomResourceDefinition({ body: crd });
    }
  }
}

export const APP_LABELS = { app: 'checkout' };

/**
 * The user's app as Kubestead finds it once adopted: Deployment `checkout` (its pods are the
 * canary), the user's Service `checkout`, and `checkout-primary` (made by the actuator).
 */
export async function createApp(sandbox: Sandbox, namespace: string): Promise<void> {
  await sandbox.client(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  const apps = sandbox.client(AppsV1Api);
  const template = (labels: Record<string, string>, image: string) => ({
    metadata: { labels },
    spec: { containers: [{ name: 'app', image, ports: [{ containerPort: 8080 }] }] },
  });
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'checkout' },
      spec: { replicas: 1, selector: { matchLabels: APP_LABELS }, template: template(APP_LABELS, 'shop/checkout:1') },
    },
  });
  const primaryLabels = { ...APP_LABELS, 'kubestead.io/role': 'primary' };
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'checkout-primary' },
      spec: {
        replicas: 2,
        selector: { matchLabels: primaryLabels },
        template: template(primaryLabels, 'shop/checkout:1'),
      },
    },
  });
  await sandbox.client(CoreV1Api).createNamespacedService({
    namespace,
    body: {
      metadata: { name: 'checkout' },
      spec: { selector: APP_LABELS, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
    },
  });
  await canaryHash(sandbox, namespace);
}

/** The pod-template-hash of the canary Deployment's newest ReplicaSet (waits for it). */
export async function canaryHash(sandbox: Sandbox, namespace: string, image?: string): Promise<string> {
  const apps = sandbox.client(AppsV1Api);
  return waitFor(
    async () => {
      const deployment = await apps.readNamespacedDeployment({ name: 'checkout', namespace });
      const sets = (await apps.listNamespacedReplicaSet({ namespace })).items.filter(
        (rs) => rs.metadata?.ownerReferences?.[0]?.uid === deployment.metadata?.uid,
      );
      const current = sets.find(
        (rs) =>
          rs.spec?.template?.spec?.containers[0]?.image ===
          (image ?? deployment.spec?.template.spec?.containers[0]?.image),
      );
      return current?.metadata?.labels?.['pod-template-hash'];
    },
    8000,
    'the canary ReplicaSet',
  );
}

/** A new template on the target: a canary starts. Returns the new ReplicaSet's hash. */
export async function startCanary(sandbox: Sandbox, namespace: string, image: string): Promise<string> {
  await setImage(sandbox.client(AppsV1Api), namespace, 'checkout', image);
  return canaryHash(sandbox, namespace, image);
}

/**
 * A Deployment's image by read, change and replace, read again on a 409: the sandbox's Deployment
 * controller writes status concurrently, as a real one does.
 */
async function setImage(apps: AppsV1Api, namespace: string, name: string, image: string): Promise<void> {
  await readModifyWrite(
    () => apps.readNamespacedDeployment({ name, namespace }),
    (deployment) => {
      deployment.spec!.template.spec!.containers[0]!.image = image;
      return deployment;
    },
    (body) => apps.replaceNamespacedDeployment({ name, namespace, body }),
  );
}

/** Promotion copies the canary template to primary. */
export async function promotePrimary(sandbox: Sandbox, namespace: string, image: string): Promise<void> {
  const apps = sandbox.client(AppsV1Api);
  await setImage(apps, namespace, 'checkout-primary', image);
  await waitFor(
    async () => {
      const d = await apps.readNamespacedDeployment({ name: 'checkout-primary', namespace });
      return (
        d.status?.updatedReplicas === 2 &&
        d.status.readyReplicas === 2 &&
        (d.status.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1)
      );
    },
    8000,
    'primary to run the new template',
  );
}

export interface PolicyWorld {
  ctx: RouterContext;
  owner: V1OwnerReference;
}

/** A RolloutPolicy in the cluster (the owner of what routers create) and the router context for it. */
export async function createPolicy(
  sandbox: Sandbox,
  namespace: string,
  trafficRouting: Record<string, unknown>,
  name = 'checkout',
): Promise<PolicyWorld> {
  return createSpecPolicy(sandbox, namespace, name, {
    targetRef: { kind: 'Deployment', name: 'checkout' },
    steps: [{ weight: 0.5 }, { weight: 5 }, { weight: 50 }],
    trafficRouting,
  });
}

/** createPolicy with the policy's own steps (A/B and mirror steps, docs/strategies.md). */
export async function createStepPolicy(
  sandbox: Sandbox,
  namespace: string,
  trafficRouting: Record<string, unknown>,
  steps: unknown[],
): Promise<PolicyWorld> {
  return createSpecPolicy(sandbox, namespace, 'checkout', {
    targetRef: { kind: 'Deployment', name: 'checkout' },
    steps,
    trafficRouting,
  });
}

async function createSpecPolicy(
  sandbox: Sandbox,
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): Promise<PolicyWorld> {
  const created = (await sandbox.client(CustomObjectsApi).createNamespacedCustomObject({
    group: 'kubestead.io',
    version: 'v1alpha1',
    plural: 'rolloutpolicies',
    namespace,
    body: { apiVersion: 'kubestead.io/v1alpha1', kind: 'RolloutPolicy', metadata: { name }, spec },
  })) as { metadata: { uid: string } };
  const owner: V1OwnerReference = {
    apiVersion: 'kubestead.io/v1alpha1',
    kind: 'RolloutPolicy',
    name,
    uid: created.metadata.uid,
    controller: false,
    blockOwnerDeletion: false,
  };
  const ctx: RouterContext = {
    target: { namespace, canary: 'checkout', primary: 'checkout-primary', owner, spec: specSchema.parse(spec) },
    clients: kubeClients(sandbox.kubeConfig()),
    clock: systemClock,
  };
  return { ctx, owner };
}

export interface CustomRef {
  group: string;
  version: string;
  plural: string;
  namespace: string;
  name: string;
}

export async function getCustom(sandbox: Sandbox, ref: CustomRef): Promise<Body> {
  return sandbox.client(CustomObjectsApi).getNamespacedCustomObject(ref);
}

export async function createCustom(sandbox: Sandbox, ref: Omit<CustomRef, 'name'>, body: unknown): Promise<void> {
  await sandbox.client(CustomObjectsApi).createNamespacedCustomObject({ ...ref, body: body as object });
}

/** A hand edit: read, change, write back (as `kubectl edit` would, and again after a conflict). */
export async function editCustom(sandbox: Sandbox, ref: CustomRef, change: (object: Body) => void): Promise<void> {
  await readModifyWrite(
    () => getCustom(sandbox, ref) as Promise<object>,
    (object) => {
      change(object);
      return object;
    },
    (body) => sandbox.client(CustomObjectsApi).replaceNamespacedCustomObject({ ...ref, body }),
  );
}

/** The selectors of Kubestead's two Services. */
export async function trackSelectors(sandbox: Sandbox, namespace: string): Promise<Record<string, unknown>> {
  const core = sandbox.client(CoreV1Api);
  const read = async (name: string) => (await core.readNamespacedService({ name, namespace })).spec?.selector;
  return { primary: await read('checkout-primary'), canary: await read('checkout-canary') };
}
