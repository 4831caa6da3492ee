import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { crdYaml } from '../../src/tools/gen/crd.js';
import type { PolicyRef } from '../../src/pipeline/record/recorder.js';
import type { Sandbox } from '@kubestead/sandbox';
import { POLICY_RESOURCE } from '../../src/adapters/kube/names.js';
import { testSandbox } from '../support/sandbox.js';

/** A sandbox with the RolloutPolicy CRD, no simulated workloads. */
export async function auditSandbox(): Promise<Sandbox> {
  const sandbox = await testSandbox({ workloads: false });
  await sandbox
    .client(ApiextensionsV1Api)
    .createCustomResourceDefinition({ body: parse(crdYaml()) as V1CustomResourceDefinition });
  return sandbox;
}

/** Creates a RolloutPolicy (and its namespace) and returns its reference with the uid the API server gave it. */
export async function createPolicy(
  sandbox: Sandbox,
  namespace: string,
  name: string,
  audit?: Record<string, unknown>,
): Promise<PolicyRef> {
  await sandbox
    .client(CoreV1Api)
    .createNamespace({ body: { metadata: { name: namespace } } })
    .catch(() => undefined);
  const body = {
    apiVersion: 'kubestead.io/v1alpha1',
    kind: 'RolloutPolicy',
    metadata: { name, namespace },
    spec: {
      targetRef: { kind: 'Deployment', name },
      steps: [{ weight: 5 }, { weight: 25 }, { weight: 50 }, { weight: 75 }],
      ...(audit ? { audit } : {}),
    },
  };
  const created = (await sandbox
    .client(CustomObjectsApi)
    .createNamespacedCustomObject({ ...POLICY_RESOURCE, namespace, body })) as {
    metadata: { uid: string; generation: number };
  };
  return { namespace, name, uid: created.metadata.uid, generation: created.metadata.generation };
}

/** The segments' ConfigMaps of a policy's chain, oldest first. */
export async function segmentMaps(sandbox: Sandbox, policy: PolicyRef) {
  const list = await sandbox.client(CoreV1Api).listNamespacedConfigMap({
    namespace: policy.namespace,
    labelSelector: `kubestead.io/audit=segment,kubestead.io/audit-uid=${policy.uid}`,
  });
  return list.items.sort(
    (a, b) =>
      Number(a.metadata!.labels!['kubestead.io/audit-segment']) -
      Number(b.metadata!.labels!['kubestead.io/audit-segment']),
  );
}
