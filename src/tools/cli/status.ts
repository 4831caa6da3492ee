import type { ApiException, CoordinationV1Api } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { systemClock } from '../../lib/clock/clock.js';
import { parseDuration } from '../../pipeline/policy/duration.js';
import { CONTROLLER_NAMESPACE, LEADER_LEASE } from '../../adapters/kube/names.js';
import type { KubeClients } from '../../adapters/kube/clients.js';
import { defineCommand } from './define.js';
import { UsageError } from './usage-error.js';
import { LiveView, renderPolicy, type ControllerSeen, type PolicyView } from '../view/policy-view.js';
import type { PolicyObjectView } from '../view/document.js';
import { followRollout, type Outcome } from '../view/wait.js';

const REFRESH_MS = 1000;
const OUTPUTS = ['json', 'yaml'] as const;
/** `status --wait`'s exit code at --timeout (the rollout still in progress or awaiting approval). */
export const EXIT_TIMEOUT = 4;

interface Target {
  clients: KubeClients;
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
  const { kubeClients } = await import('../../adapters/kube/clients.js');
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const context = kc.getContextObject(kc.getCurrentContext());
  const clients = kubeClients(kc);
  return {
    clients,
    leases: clients.coordination,
    leaseNamespace,
    isApiError: (error): error is ApiException<unknown> => error instanceof k8s.ApiException,
    name,
    namespace: namespace ?? context?.namespace ?? 'default',
    server: kc.getCurrentCluster()?.server ?? '(no cluster)',
  };
}

/** The policy, or an error that says what could not be read and why (never a stack trace). */
async function readPolicy(target: Target): Promise<PolicyObjectView> {
  const { readPolicyObject, PolicyNotFoundError } = await import('../view/read.js');
  try {
    return await readPolicyObject(target.clients, target.namespace, target.name);
  } catch (error) {
    if (error instanceof PolicyNotFoundError) throw new UsageError(error.message);
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
async function show(target: Target, color: boolean, policy?: PolicyObjectView): Promise<string[]> {
  const [read, controller] = await Promise.all([policy ?? readPolicy(target), readController(target)]);
  return renderPolicy(read as PolicyView, { color, now: systemClock.now(), controller });
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

function untilSignal(): { signal: AbortSignal; done(): void } {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort(new Error('stopped'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: stop.signal,
    done: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

async function watch(target: Target, color: boolean): Promise<void> {
  const stop = untilSignal();
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
    stop.done();
  }
}

const EXIT_OF: Record<Outcome, number> = { promoted: 0, rolledBack: 1, timeout: EXIT_TIMEOUT };
const SAID: Record<Outcome, string> = {
  promoted: 'promoted',
  rolledBack: 'rolled back',
  timeout: 'still in progress at --timeout',
};

/** `--wait`: follows the rollout in progress (or the next one) to its end; the view goes to stderr with -o. */
async function waitFor(
  target: Target,
  options: { color: boolean; timeoutMs: number | null; output?: string },
): Promise<number> {
  const stop = untilSignal();
  const out = options.output ? process.stderr : process.stdout;
  const view = new LiveView(out);
  let last: PolicyObjectView | undefined;
  // A read that fails once the policy was seen (the API server restarting) is tried again; not found is not.
  const read = async (): Promise<PolicyObjectView> => {
    try {
      last = await readPolicy(target);
    } catch (error) {
      if (error instanceof UsageError || !last) throw error;
    }
    return last;
  };
  try {
    const outcome = await followRollout({
      read,
      clock: systemClock,
      intervalMs: REFRESH_MS,
      timeoutMs: options.timeoutMs,
      signal: stop.signal,
      seen: async (policy) => view.show(await show(target, options.color && !options.output, policy)),
    });
    out.write(`${target.namespace}/${target.name}: ${SAID[outcome]}\n`);
    if (options.output) await print(target, options.output);
    return EXIT_OF[outcome];
  } finally {
    stop.done();
  }
}

/** `-o json|yaml`: the status document (the dashboard's `GET /api/v1/policies/NS/NAME`). */
async function print(target: Target, output: string): Promise<void> {
  const { readDetail, PolicyNotFoundError } = await import('../view/read.js');
  const detail = await readDetail(target.clients, target.namespace, target.name).catch((error: unknown) => {
    throw error instanceof PolicyNotFoundError ? new UsageError(error.message) : error;
  });
  process.stdout.write(output === 'json' ? `${JSON.stringify(detail, null, 2)}\n` : stringify(detail));
}

interface StatusValues {
  output?: string;
  timeout?: string;
  wait?: boolean;
  watch?: boolean;
}

function refuseCombinations(values: StatusValues): void {
  if (values.output !== undefined && !(OUTPUTS as readonly string[]).includes(values.output))
    throw new UsageError(`-o: expected json or yaml, got ${JSON.stringify(values.output)}`);
  if (values.timeout !== undefined && !values.wait) throw new UsageError('--timeout needs --wait');
  if (values.wait && values.watch) throw new UsageError('--wait and --watch do not go together');
  if (values.watch && values.output) throw new UsageError('-o and --watch do not go together');
}

function optionsOf(values: StatusValues): { output?: string; timeoutMs: number | null } {
  refuseCombinations(values);
  const { output, timeout } = values;
  if (timeout === undefined) return { ...(output ? { output } : {}), timeoutMs: null };
  const seconds = parseDuration(timeout);
  if (seconds === null || seconds <= 0)
    throw new UsageError(`--timeout: expected a duration like 10m, got ${JSON.stringify(timeout)}`);
  return { ...(output ? { output } : {}), timeoutMs: seconds * 1000 };
}

export const statusCommand = defineCommand({
  name: 'status',
  summary: "show a policy's rollout: phase, step, weight, checks, last decision",
  usage: 'NAME [-n NAMESPACE] [--watch | --wait [--timeout D]] [-o json|yaml] [--no-color]',
  description: `Shows a RolloutPolicy's rollout from the cluster of the current kubeconfig (KUBECONFIG, or
~/.kube/config; in a pod, the in-cluster config): phase, step, canary weight, the soak's
progress, each check's last value against its bound, and the last decision with its reasons.
Plain lines when the output is not a terminal, with --no-color, or when NO_COLOR is set.

--wait follows the rollout in progress (or, when none is, the next one to start) to its end, for a
CI pipeline: exit 0 when it is promoted, 1 when it is rolled back or aborted, 4 at --timeout.
-o json|yaml prints the status document instead (with --wait: at the end): the same JSON the
dashboard's API serves (docs/dashboard.md).`,
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
    wait: { type: 'boolean', description: 'wait for the rollout (in progress, or the next) to end; exit says how' },
    timeout: { type: 'string', value: 'D', description: 'with --wait: give up after D (30s, 10m, 1h); exit 4' },
    output: { type: 'string', short: 'o', value: 'FORMAT', description: 'json or yaml: the status document' },
    'no-color': { type: 'boolean', description: 'plain text, no colours' },
    'lease-namespace': {
      type: 'string',
      value: 'NS',
      description:
        `where the controller's leader Lease is, which tells whether the checks are being measured ` +
        `(default ${CONTROLLER_NAMESPACE})`,
    },
  },
  exitCodes: [
    '0  shown; with --wait: the rollout was promoted',
    '1  with --wait: the rollout was rolled back or aborted',
    '2  also: the policy cannot be read (not found, no access, no cluster)',
    `${EXIT_TIMEOUT}  with --wait: --timeout passed with the rollout still in progress or awaiting approval`,
  ],
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError('expected one policy NAME');
    const options = optionsOf(values);
    const target = await connect(positionals[0]!, values.namespace, values['lease-namespace'] ?? CONTROLLER_NAMESPACE);
    const color = !values['no-color'] && process.stdout.isTTY === true && !process.env.NO_COLOR;
    if (values.watch) {
      await watch(target, color);
      return 0;
    }
    if (values.wait) return waitFor(target, { ...options, color });
    if (options.output) {
      await print(target, options.output);
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
