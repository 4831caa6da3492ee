import { ApiException, AuthenticationV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Override } from '../facts/snapshot.js';
import { OVERRIDE_ANNOTATION, POLICY_GROUP, POLICY_PLURAL, POLICY_VERSION } from '../tick/names.js';
import { OVERRIDABLE_PHASES } from '../tick/overrides.js';
import type { Command } from './commands.js';
import { defineCommand } from './define.js';
import { UsageError } from './usage-error.js';

const WHAT: Record<Override, string> = {
  promote: 'makes the canary stable now (primary gets its template), skipping the remaining steps',
  abort: 'rolls the canary back now: canary weight and replicas to 0, primary untouched',
  pause: 'pauses the rollout at its current step until resume or promote; the soak clock stops',
  resume: 'lifts a pause; on a pause step it advances to the next step',
};

function description(action: Override): string {
  return `${action[0]?.toUpperCase() ?? ''}${action.slice(1)}: ${WHAT[action]}.
Sets the annotation ${OVERRIDE_ANNOTATION} on the RolloutPolicy NAME with the action, who asked (your
user name, as the API server sees it: a SelfSubjectReview) and the time; the controller applies it on its
next tick, records it in status and an Event, and removes the annotation. The spec is never edited, so a
GitOps tool does not revert it. Also runs as \`kubectl kubestead ${action} …\`.`;
}

const PATH = { group: POLICY_GROUP, version: POLICY_VERSION, plural: POLICY_PLURAL };
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface PolicyRead {
  metadata?: { resourceVersion?: string; annotations?: Record<string, string> };
  status?: { phase?: string };
}

/** A refusal with a message for the user (exit 1). */
class Refused extends Error {}

function kubeConfig(file: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  return kc;
}

/** The caller's user name, asked of the API server (not read from local config). */
async function whoAmI(kc: KubeConfig): Promise<string> {
  const review = await kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
  const name = review.status?.userInfo?.username;
  if (!name) throw new Refused('the API server did not say who you are (SelfSubjectReview without a user name)');
  return name;
}

async function setOverride(kc: KubeConfig, target: { namespace: string; name: string }, action: Override): Promise<string> {
  const objects = kc.makeApiClient(CustomObjectsApi);
  const actor = await whoAmI(kc);
  const policy = (await objects.getNamespacedCustomObject({ ...PATH, ...target }).catch((error: unknown) => {
    if (error instanceof ApiException && error.code === 404) throw new Refused(`RolloutPolicy ${target.namespace}/${target.name} not found`);
    throw error;
  })) as PolicyRead;
  const phase = policy.status?.phase;
  if (!phase || !OVERRIDABLE_PHASES.includes(phase)) {
    throw new Refused(`${action} refused: RolloutPolicy ${target.namespace}/${target.name} is ${phase ?? 'not adopted yet'}, not progressing (an override applies to a rollout in progress)`);
  }
  const value = JSON.stringify({ action, actor, time: new Date().toISOString() });
  const body = { metadata: { resourceVersion: policy.metadata?.resourceVersion, annotations: { [OVERRIDE_ANNOTATION]: value } } };
  await objects.patchNamespacedCustomObject({ ...PATH, ...target, body }, MERGE);
  return actor;
}

function describeFailure(error: unknown): string {
  if (error instanceof ApiException) {
    if (error.code === 409) return 'the policy changed while the override was being set; run the command again';
    if (error.code === 403) return 'forbidden: your user may not read or annotate RolloutPolicies here (RBAC)';
    return `the API server answered HTTP ${error.code}`;
  }
  return error instanceof Error ? error.message : String(error);
}

export function overrideCommand(action: Override): Command {
  return defineCommand({
    name: action,
    summary: `${action} a rollout in progress (${WHAT[action].split(/[,:(]/)[0]?.trim() ?? ''})`,
    usage: 'NAME [-n NAMESPACE] [--kubeconfig FILE]',
    description: description(action),
    options: {
      namespace: { type: 'string', short: 'n', value: 'NS', description: "the policy's namespace (default: the kubeconfig context's, else \"default\")" },
      kubeconfig: { type: 'string', value: 'FILE', description: 'the kubeconfig to use (default: $KUBECONFIG or ~/.kube/config)' },
    },
    exitCodes: ['0  the override was set', '1  refused: the policy is not progressing, or is gone'],
    async run({ values, positionals }) {
      if (positionals.length !== 1 || !positionals[0]) throw new UsageError(`expected one RolloutPolicy NAME, got ${positionals.length}`);
      const kc = kubeConfig(values.kubeconfig);
      const namespace = values.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
      const target = { namespace, name: positionals[0] };
      try {
        const actor = await setOverride(kc, target, action);
        process.stdout.write(`${action} requested on RolloutPolicy ${namespace}/${target.name} by ${actor}; the controller applies it on its next tick\n`);
        return 0;
      } catch (error) {
        process.stderr.write(`kubestead ${action}: ${error instanceof Refused ? error.message : describeFailure(error)}\n`);
        return 1;
      }
    },
  });
}
