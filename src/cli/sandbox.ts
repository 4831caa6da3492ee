import { resolve } from 'node:path';
import type { Command } from './commands.js';
import { readSandboxUsers } from './sandbox-users.js';
import { UsageError } from './usage-error.js';

interface SandboxArgs {
  port: number;
  kubeconfig: string;
  state?: string;
  readyDelayMs: number;
  rbac?: string;
  instant: boolean;
}

const SETTERS: Record<string, (out: SandboxArgs, value: string) => void> = {
  '--port': (out, v) => (out.port = Number(v)),
  '--kubeconfig': (out, v) => (out.kubeconfig = resolve(v)),
  '--state': (out, v) => (out.state = resolve(v)),
  '--ready-delay': (out, v) => (out.readyDelayMs = Number(v)),
  '--rbac': (out, v) => (out.rbac = resolve(v)),
};

const SWITCHES: Record<string, (out: SandboxArgs) => void> = {
  '--instant': (out) => (out.instant = true),
};

function parseArgs(args: string[]): SandboxArgs {
  const out: SandboxArgs = { port: 0, kubeconfig: resolve('.kubestead', 'sandbox.kubeconfig'), readyDelayMs: 2000, instant: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const toggle = SWITCHES[arg];
    if (toggle) {
      toggle(out);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const setter = SETTERS[flag];
    if (!setter) throw new UsageError(`unknown option ${arg}`);
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || value === '') throw new UsageError(`${flag} needs a value`);
    setter(out, value);
  }
  return checkArgs(out);
}

function checkArgs(out: SandboxArgs): SandboxArgs {
  if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) throw new UsageError('--port must be an integer from 0 to 65535');
  if (!Number.isFinite(out.readyDelayMs) || out.readyDelayMs < 0) throw new UsageError('--ready-delay must be a number of milliseconds');
  return out;
}

const HELP = `Usage: kubestead sandbox [--port N] [--kubeconfig PATH] [--state FILE] [--ready-delay MS] [--rbac USERS_FILE] [--instant]

Starts an in-memory Kubernetes API server (HTTPS on 127.0.0.1) with simulated
Deployments, ReplicaSets and pods, writes a kubeconfig for it and prints the
line that points kubectl and 'kubestead run' at it. Runs until Ctrl-C / SIGTERM.
It is as slow and strict as a cluster: controllers lag, pods terminate over a
grace period, watches are closed by the server every minute or two.

  --port N            loopback port (default 0: a free one)
  --kubeconfig PATH   where to write the kubeconfig (default ./.kubestead/sandbox.kubeconfig)
  --state FILE        load state from FILE if it exists, and save it there on exit
  --ready-delay MS    how long new pods take to become ready (default 2000)
  --rbac USERS_FILE   enforce RBAC; token users from USERS_FILE (YAML: users: [{name, groups, token}]),
                      each with a kubeconfig written beside the admin one
  --instant           no controller lag, pods removed at once, watches never closed by the server

Pods behave by image tag: :crashloop, :unready, :errimagepull, :oomkilled (docs/sandbox.md).`;

export const sandboxCommand: Command = {
  summary: 'start the embedded sandbox cluster and print its kubeconfig',
  help: HELP,
  async run(args) {
    const options = parseArgs(args);
    const users = options.rbac ? await readSandboxUsers(options.rbac) : [];
    const { startSandbox } = await import('../sandbox/index.js');
    const sandbox = await startSandbox({
      port: options.port, kubeconfigPath: options.kubeconfig, statePath: options.state, workloads: { readyDelayMs: options.readyDelayMs },
      rbac: options.rbac !== undefined, timing: options.instant ? false : undefined,
    });
    const userConfigs = await Promise.all(users.map(async (u) => `  ${u.user.username}: ${await sandbox.addUser(u.token, u.user)}`));
    const usersText = userConfigs.length ? `\nRBAC is enforced. Kubeconfigs of the users in ${options.rbac ?? ''}:\n${userConfigs.join('\n')}\n` : '';
    process.stdout.write(`Sandbox cluster listening on ${sandbox.url}\nKubeconfig written to ${sandbox.kubeconfigPath}\n${usersText}\nexport KUBECONFIG=${sandbox.kubeconfigPath}\n\nPress Ctrl-C to stop.\n`);
    const signal = await new Promise<NodeJS.Signals>((done) => {
      process.once('SIGINT', () => done('SIGINT'));
      process.once('SIGTERM', () => done('SIGTERM'));
    });
    process.stderr.write(`\n${signal}: stopping the sandbox${options.state ? ` and saving its state to ${options.state}` : ''}\n`);
    await sandbox.close();
    return 0;
  },
};
