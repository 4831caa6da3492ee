import { resolve } from 'node:path';
import type { ParsedArgs } from './args.js';
import { defineCommand } from './define.js';
import { loadSandbox } from './sandbox-package.js';
import { readSandboxUsers } from './sandbox-users.js';
import { UsageError } from './usage-error.js';

const OPTIONS = {
  port: {
    type: 'string',
    value: 'N',
    description: 'loopback port (default: the one kept in --state, else 0: a free one)',
  },
  kubeconfig: {
    type: 'string',
    value: 'PATH',
    description: 'where to write the kubeconfig (default ./.kubestead/sandbox.kubeconfig)',
  },
  state: {
    type: 'string',
    value: 'FILE',
    description:
      'keep the cluster in FILE (mode 0600): its objects and its identity (CA, serving key, tokens, port); ' +
      'loaded at start if it exists, saved at start and on exit. Restarted from it, the sandbox is the same ' +
      'server to running clients',
  },
  'ready-delay': { type: 'string', value: 'MS', description: 'how long new pods take to become ready (default 2000)' },
  rbac: {
    type: 'string',
    value: 'USERS_FILE',
    description:
      'enforce RBAC; token users from USERS_FILE (YAML: users: [{name, groups, token}]), each with a kubeconfig ' +
      'written beside the admin one',
  },
  'hpa-sync': {
    type: 'string',
    value: 'DURATION',
    description: 'how often the HorizontalPodAutoscaler controller syncs: 15s (default), 500ms, 1m',
  },
  instant: {
    type: 'boolean',
    description: 'no controller lag, pods removed at once, watches never closed by the server',
  },
} as const;

interface SandboxArgs {
  port?: number;
  kubeconfig: string;
  state?: string;
  readyDelayMs: number;
  rbac?: string;
  instant: boolean;
  hpaSyncMs: number;
}

/** A path option: resolved against the working directory; an empty value is refused. */
function pathOf(flag: string, value: string | undefined): string | undefined {
  if (value === '') throw new UsageError(`--${flag} needs a value`);
  return value === undefined ? undefined : resolve(value);
}

/** A number option: the whole value must be one (`--port 80x` is refused, not read as 80). */
function numberOf(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (value.trim() === '') throw new UsageError(`--${flag} needs a value`);
  return Number(value);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** A duration option (`15s`, `500ms`, `1m`): a positive number with its unit. */
function durationOf(flag: string, value: string | undefined, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(value.trim());
  const ms = match ? Number(match[1]) * (DURATION_UNITS[match[2] ?? ''] ?? 0) : 0;
  if (!(ms > 0))
    throw new UsageError(
      `--${flag} must be a positive duration such as 15s, 500ms or 1m, got ${JSON.stringify(value)}`,
    );
  return ms;
}

function sandboxArgs({ values, positionals }: ParsedArgs<typeof OPTIONS>): SandboxArgs {
  if (positionals.length > 0) throw new UsageError(`takes no arguments, got ${JSON.stringify(positionals[0])}`);
  const out: SandboxArgs = {
    port: values.port === undefined ? undefined : numberOf('port', values.port, 0),
    kubeconfig: pathOf('kubeconfig', values.kubeconfig) ?? resolve('.kubestead', 'sandbox.kubeconfig'),
    readyDelayMs: numberOf('ready-delay', values['ready-delay'], 2000),
    instant: values.instant === true,
    hpaSyncMs: durationOf('hpa-sync', values['hpa-sync'], 15_000),
  };
  const state = pathOf('state', values.state);
  const rbac = pathOf('rbac', values.rbac);
  if (state !== undefined) out.state = state;
  if (rbac !== undefined) out.rbac = rbac;
  if (out.port !== undefined && (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535))
    throw new UsageError('--port must be an integer from 0 to 65535');
  if (!Number.isFinite(out.readyDelayMs) || out.readyDelayMs < 0)
    throw new UsageError('--ready-delay must be a number of milliseconds');
  return out;
}

export const sandboxCommand = defineCommand({
  name: 'sandbox',
  summary: 'start the embedded sandbox cluster and print its kubeconfig',
  usage:
    '[--port N] [--kubeconfig PATH] [--state FILE] [--ready-delay MS] [--rbac USERS_FILE] [--hpa-sync DURATION] [--instant]',
  description: `Starts an in-memory Kubernetes API server (HTTPS on 127.0.0.1) with simulated
Deployments, ReplicaSets and pods, writes a kubeconfig for it and prints the
line that points kubectl and 'kubestead run' at it. Runs until Ctrl-C / SIGTERM.
It is as slow and strict as a cluster: controllers lag, pods terminate over a
grace period, watches are closed by the server every minute or two.
Pods behave by image tag: :crashloop, :unready, :errimagepull, :oomkilled (docs/sandbox.md).
HorizontalPodAutoscalers scale on the simulated CPU load of the annotation
sandbox.kubestead.io/cpu-load, every --hpa-sync.`,
  options: OPTIONS,
  exitCodes: [
    '0  stopped by Ctrl-C or SIGTERM (its state saved when --state is given)',
    '2  also: a bad --rbac users file, a --state FILE that is not a sandbox state, a port in use',
  ],
  async run(parsed) {
    const options = sandboxArgs(parsed);
    const users = options.rbac ? await readSandboxUsers(options.rbac) : [];
    const { startSandbox, SandboxInputError } = await loadSandbox();
    const sandbox = await startSandbox({
      port: options.port,
      kubeconfigPath: options.kubeconfig,
      statePath: options.state,
      workloads: { readyDelayMs: options.readyDelayMs },
      rbac: options.rbac !== undefined,
      timing: options.instant ? false : undefined,
      hpaSyncMs: options.hpaSyncMs,
    }).catch((error: unknown) => {
      throw error instanceof SandboxInputError ? new UsageError(error.message) : error;
    });
    const userConfigs = await Promise.all(
      users.map(async (u) => `  ${u.user.username}: ${await sandbox.addUser(u.token, u.user)}`),
    );
    const usersText = userConfigs.length
      ? `\nRBAC is enforced. Kubeconfigs of the users in ${options.rbac ?? ''}:\n${userConfigs.join('\n')}\n`
      : '';
    process.stdout.write(
      `Sandbox cluster listening on ${sandbox.url}\nKubeconfig written to ` +
        `${sandbox.kubeconfigPath}\n${usersText}\nexport KUBECONFIG=${sandbox.kubeconfigPath}\n\nPress Ctrl-C to ` +
        `stop.\n`,
    );
    const signal = await new Promise<NodeJS.Signals>((done) => {
      process.once('SIGINT', () => done('SIGINT'));
      process.once('SIGTERM', () => done('SIGTERM'));
    });
    process.stderr.write(
      `\n${signal}: stopping the sandbox${options.state ? ` and saving its state to ${options.state}` : ''}\n`,
    );
    await sandbox.close();
    return 0;
  },
});
