import {
  ApiException,
  AuthenticationV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { Override } from '../../pipeline/policy/vocabulary.js';
import { CONFLICT_ATTEMPTS, readModifyWrite } from '../../adapters/kube/objects.js';
import { OVERRIDE_ANNOTATION, POLICY_RESOURCE } from '../../adapters/kube/names.js';
import { OVERRIDABLE_PHASES } from '../../runtime/tick/overrides.js';
import { systemClock } from '../../lib/clock/clock.js';

/** The API calls of `kubestead promote|abort|pause|resume`. */
const PATH = { group: POLICY_RESOURCE.group, version: POLICY_RESOURCE.version, plural: POLICY_RESOURCE.plural };
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface PolicyRead {
  metadata?: { resourceVersion?: string; annotations?: Record<string, string> };
  status?: { phase?: string };
}

/** A refusal with a message for the user (exit 1). */
export class Refused extends Error {}

export function kubeConfig(file: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  return kc;
}

/** The caller's user name, asked of the API server (not read from local config). */
async function whoAmI(kc: KubeConfig): Promise<string> {
  const review = await kc
    .makeApiClient(AuthenticationV1Api)
    .createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
  const name = review.status?.userInfo?.username;
  if (!name) throw new Refused('the API server did not say who you are (SelfSubjectReview without a user name)');
  return name;
}

/**
 * Annotates the policy with the override, on the resourceVersion whose phase was checked. The
 * operator writes status every few seconds: a 409 means read again, check the phase again, and
 * write again (a few times), not a failure the user must retry by hand.
 */
export async function setOverride(
  kc: KubeConfig,
  target: { namespace: string; name: string },
  action: Override,
): Promise<string> {
  const objects = kc.makeApiClient(CustomObjectsApi);
  const actor = await whoAmI(kc);
  await readModifyWrite(
    () => readPolicy(objects, target),
    (policy) => {
      const phase = policy.status?.phase;
      if (!phase || !OVERRIDABLE_PHASES.includes(phase)) {
        throw new Refused(
          `${action} refused: RolloutPolicy ${target.namespace}/${target.name} is ${phase ?? 'not adopted yet'}, not ` +
            `progressing (an override applies to a rollout in progress)`,
        );
      }
      const value = JSON.stringify({ action, actor, time: new Date(systemClock.now()).toISOString() });
      return {
        metadata: { resourceVersion: policy.metadata?.resourceVersion, annotations: { [OVERRIDE_ANNOTATION]: value } },
      };
    },
    (body) => objects.patchNamespacedCustomObject({ ...PATH, ...target, body }, MERGE),
  );
  return actor;
}

async function readPolicy(objects: CustomObjectsApi, target: { namespace: string; name: string }): Promise<PolicyRead> {
  return (await objects.getNamespacedCustomObject({ ...PATH, ...target }).catch((error: unknown) => {
    if (error instanceof ApiException && error.code === 404)
      throw new Refused(`RolloutPolicy ${target.namespace}/${target.name} not found`);
    throw error;
  })) as PolicyRead;
}

export function describeFailure(error: unknown): string {
  if (error instanceof ApiException) {
    if (error.code === 409)
      return (
        `the policy kept changing while the override was being set (${CONFLICT_ATTEMPTS} tries); run the ` +
        `command again`
      );
    if (error.code === 403) return 'forbidden: your user may not read or annotate RolloutPolicies here (RBAC)';
    return `the API server answered HTTP ${error.code}`;
  }
  return error instanceof Error ? error.message : String(error);
}
