import type { ApiException, CoordinationV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { systemClock } from '../../lib/clock/clock.js';
import { CONTROLLER_NAMESPACE, LEADER_LEASE, policyPath } from '../../adapters/kube/names.js';
import { defineCommand } from './define.js';
import { UsageError } from './usage-error.js';
import { LiveView, renderPolicy, type ControllerSeen, type PolicyView } from '../view/policy-view.js';

const REFRESH_MS = 1000;

interface Target {
  api: CustomObjectsApi;
  leases: CoordinationV1Api;
  leaseNamespace: string;
  isApiError: (error: unknown) => error is ApiException<unknown>;
  name: string;
  namespace: string;
  server: string;
}

/** client-node is loaded here, not at start-up, so that the offline commands stay quick. */
async function connect(name: string, namespace: string | undefined, leaseNamespace: string): Promise<Target> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const context = kc.getContextObject(kc.getCurrentContext());
  return {
    api: kc.makeApiClient(k8s.CustomObjectsApi),
    leases: kc.makeApiClient(k8s.CoordinationV1Api),
    leaseNamespace,
    isApiError: (error): error is ApiException<unknown> => error instanceof k8s.ApiException,
    name,
    namespace: namespace ?? context?.namespace ?? 'default',
    server: kc.getCurrentCluster()?.server ?? '(no cluster)',
  };
}

/** The policy, or an error that says what could not be read and why (never a stack trace). */
async function readPolicy(target: Target): Promise<PolicyView> {
  try {
    return (await target.api.getNamespacedCustomObject(policyPath(target.namespace, target.name))) as PolicyView;
  } catch (error) {
    if (target.isApiError(error) && error.code === 404)
      throw new Error(`rolloutpolicy "${target.name}" not found in namespace "${target.namespace}"`);
    const detail = target.isApiError(error) ? `HTTP ${error.code}${apiMessage(error)}` : (error as Error).message;
    throw new Error(`cannot read rolloutpolicy ${target.namespace}/${target.name} from ${target.server}: ${detail}`);
  }
}

/** The leader Lease: who leads and when it last renewed, or why that cannot be told. */
async function readController(target: Target): Promise<ControllerSeen> {
  const lease = `${target.leaseNamespace}/${LEADER_LEASE}`;
  try {
    const { spec } = await target.leases.readNamespacedLease({ name: LEADER_LEASE, namespace: target.leaseNamespace });
    const renewedAt = new Date(spec?.renewTime ?? Number.NaN).getTime();
    if (!spec?.holderIdentity || Number.isNaN(renewedAt)) return { lease, unreadable: 'held by no one' };
    return { lease, holder: spec.holderIdentity, renewedAt, durationSeconds: spec.leaseDurationSeconds ?? 15 };
  } catch (error) {
    if (target.isApiError(error) && error.code === 404)
      return { lease, unreadable: 'not found; a controller without --leader-elect has none' };
    return {
      lease,
      unreadable: target.isApiError(error) ? `HTTP ${error.code}${apiMessage(error)}` : (error as Error).message,
    };
  }
}

/** The policy's view, with the controller's liveness beside it. */
async function show(target: Target, color: boolean): Promise<string[]> {
  const [policy, controller] = await Promise.all([readPolicy(target), readController(target)]);
  return renderPolicy(policy, { color, now: systemClock.now(), controller });
}

function apiMessage(error: ApiException<unknown>): string {
  try {
    const body =
      typeof error.body === 'string'
        ? (JSON.parse(error.body) as { message?: string })
        : (error.body as { message?: string });
    return body?.message ? `: ${body.message}` : '';
  } catch {
    return '';
  }
}

async function watch(target: Target, color: boolean): Promise<void> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort(new Error('stopped'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const view = new LiveView(process.stdout);
  try {
    while (!stop.signal.aborted) {
      const lines = await show(target, color).catch((error: Error) => [
        `${target.namespace}/${target.name}: ${error.message}`,
      ]);
      view.show(lines);
      await systemClock.sleep(REFRESH_MS, stop.signal).catch(() => undefined);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export const statusCommand = defineCommand({
  name: 'status',
  summary: "show a policy's rollout: phase, step, weight, checks, last decision",
  usage: 'NAME [-n NAMESPACE] [--watch] [--no-color]',
  description: `Shows a RolloutPolicy's rollout from the cluster of the current kubeconfig (KUBECONFIG, or
~/.kube/config; in a pod, the in-cluster config): phase, step, canary weight, the soak's
progress, each check's last value against its bound, and the last decision with its reasons.
Plain lines when the output is not a terminal, with --no-color, or when NO_COLOR is set.`,
  options: {
    namespace: {
      type: 'string',
      short: 'n',
      value: 'NAMESPACE',
      description: "the policy's namespace (default: the context's namespace, or default)",
    },
    watch: {
      type: 'boolean',
      short: 'w',
      description: 'keep showing it, refreshed every second, until Ctrl-C (in place on a terminal)',
    },
    'no-color': { type: 'boolean', description: 'plain text, no colours' },
    'lease-namespace': {
      type: 'string',
      value: 'NS',
      description:
        `where the controller's leader Lease is, which tells whether the checks are being measured ` +
        `(default ${CONTROLLER_NAMESPACE})`,
    },
  },
  exitCodes: ['0  shown', '2  also: the policy cannot be read (not found, no access, no cluster)'],
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError('expected one policy NAME');
    const target = await connect(positionals[0]!, values.namespace, values['lease-namespace'] ?? CONTROLLER_NAMESPACE);
    const color = !values['no-color'] && process.stdout.isTTY === true && !process.env.NO_COLOR;
    if (values.watch) {
      await watch(target, color);
      return 0;
    }
    const lines = await show(target, color).catch((error: Error) => error);
    if (lines instanceof Error) {
      process.stderr.write(`kubestead status: ${lines.message}\n`);
      return 2;
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
});
