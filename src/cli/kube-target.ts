import { KubeConfig } from '@kubernetes/client-node';
import { parseDuration } from '../policy/duration.js';
import { parseCommandArgs } from './args.js';
import { UsageError } from './usage-error.js';

/** `NAME [-n NS]` of the commands that read a policy's objects from the cluster (current kubeconfig). */
export interface KubeTarget {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
}

/** The current kubeconfig, and the namespace: -n, else the context's, else default. */
export function kubeTarget(name: string | undefined, namespace: string | undefined): KubeTarget {
  if (!name) throw new UsageError('expected the RolloutPolicy NAME');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const contextNamespace = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace;
  return { kubeConfig, name, namespace: namespace ?? contextNamespace ?? 'default' };
}

/** `--since`: an RFC 3339 time, or a duration back from now (`2h`). */
export function parseSince(text: string | undefined, now: number): Date | undefined {
  if (text === undefined) return undefined;
  const seconds = parseDuration(text);
  if (seconds !== null) return new Date(now - seconds * 1000);
  const date = new Date(text);
  if (Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(text)) throw new UsageError(`--since: expected an RFC 3339 time or a duration like 2h, got ${JSON.stringify(text)}`);
  return date;
}

/** The arguments of `audit` and `report`, in one place (so the parser can be switched). */
export function parseAuditArgs(args: string[]) {
  const { values, positionals } = parseCommandArgs(args, {
    namespace: { type: 'string', short: 'n' },
    since: { type: 'string' },
    head: { type: 'string' },
    policy: { type: 'string' },
    partial: { type: 'boolean' },
    format: { type: 'string' },
  });
  return { ...values, positionals };
}
