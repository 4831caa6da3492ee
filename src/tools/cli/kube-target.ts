import type { KubeConfig } from '@kubernetes/client-node';
import { parseDuration } from '../../pipeline/policy/duration.js';
import { UsageError } from './usage-error.js';

// @kubernetes/client-node costs about 1.5 s of CPU to load: it is imported when a command reaches
// the cluster, so that `kubestead validate`, `test` or `--version` never pay for it.

/** `NAME [-n NS]` of the commands that read a policy's objects from the cluster (current kubeconfig). */
export interface KubeTarget {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
}

/** The current kubeconfig, and the namespace: -n, else the context's, else default. */
export async function kubeTarget(name: string | undefined, namespace: string | undefined): Promise<KubeTarget> {
  if (!name) throw new UsageError('expected the RolloutPolicy NAME');
  const { KubeConfig } = await import('@kubernetes/client-node');
  const { describeError } = await import('../../pipeline/record/audit/errors.js');
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromDefault();
  } catch (error) {
    throw new UsageError(`cannot load the kubeconfig: ${describeError(error)}`);
  }
  const contextNamespace = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace;
  return { kubeConfig, name, namespace: namespace ?? contextNamespace ?? 'default' };
}

/** `--since`: an RFC 3339 time, or a duration back from now (`2h`). */
export function parseSince(text: string | undefined, now: number): Date | undefined {
  if (text === undefined) return undefined;
  const seconds = parseDuration(text);
  if (seconds !== null) return new Date(now - seconds * 1000);
  const date = new Date(text);
  if (Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(text))
    throw new UsageError(`--since: expected an RFC 3339 time or a duration like 2h, got ${JSON.stringify(text)}`);
  return date;
}

/**
 * Runs a read from the cluster; a failure is bad input of one line (the kubeconfig, the cluster or
 * the name is wrong), never a stack trace: `cannot read from the cluster: HTTP 403: …`.
 */
export async function fromCluster<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    const [{ ChainNotFoundError }, { describeError }] = await Promise.all([
      import('../../pipeline/record/audit/export.js'),
      import('../../pipeline/record/audit/errors.js'),
    ]);
    if (error instanceof ChainNotFoundError) throw new UsageError(error.message);
    throw new UsageError(`cannot read from the cluster: ${describeError(error)}`);
  }
}

export const NAMESPACE_OPTION = {
  namespace: {
    type: 'string',
    short: 'n',
    value: 'NS',
    description: "the policy's namespace (default: the kubeconfig context's, else default)",
  },
} as const;
