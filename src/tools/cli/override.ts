import type { Override } from '../../pipeline/policy/vocabulary.js';
import { OVERRIDE_ANNOTATION } from '../../adapters/kube/names.js';
import { defineCommand, type Command } from './define.js';
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

export function overrideCommand(action: Override): Command {
  return defineCommand({
    name: action,
    summary: `${action} a rollout in progress (${WHAT[action].split(/[,:(]/)[0]?.trim() ?? ''})`,
    usage: 'NAME [-n NAMESPACE] [--kubeconfig FILE]',
    description: description(action),
    options: {
      namespace: {
        type: 'string',
        short: 'n',
        value: 'NS',
        description: 'the policy\'s namespace (default: the kubeconfig context\'s, else "default")',
      },
      kubeconfig: {
        type: 'string',
        value: 'FILE',
        description: 'the kubeconfig to use (default: $KUBECONFIG or ~/.kube/config)',
      },
    },
    exitCodes: ['0  the override was set', '1  refused: the policy is not progressing, or is gone'],
    async run({ values, positionals }) {
      if (positionals.length !== 1 || !positionals[0])
        throw new UsageError(`expected one RolloutPolicy NAME, got ${positionals.length}`);
      // Loaded only here: client-node is heavy, and every other command starts without it.
      const { describeFailure, kubeConfig, Refused, setOverride } = await import('./override-api.js');
      const kc = kubeConfig(values.kubeconfig);
      const namespace = values.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
      const target = { namespace, name: positionals[0] };
      try {
        const actor = await setOverride(kc, target, action);
        process.stdout.write(
          `${action} requested on RolloutPolicy ${namespace}/${target.name} by ${actor}; the controller applies it ` +
            `on its next tick\n`,
        );
        return 0;
      } catch (error) {
        process.stderr.write(
          `kubestead ${action}: ${error instanceof Refused ? error.message : describeFailure(error)}\n`,
        );
        return 1;
      }
    },
  });
}
