import { ApiException } from '@kubernetes/client-node';
import type { KubeClients } from '../kube/clients.js';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../../lib/clock/clock.js';
import type { SecretRef } from '../../pipeline/policy/schema.js';
import { SecretUnavailableError, type SecretReader } from './reader.js';

export interface KubernetesSecretReaderOptions {
  clock: Clock;
  /** How long a read Secret is reused (default 30 s): a rotation is seen within it. */
  ttlMs?: number;
  /** Most Secrets held (default 1,000). */
  maxEntries?: number;
}

interface Entry {
  at: number;
  data: Promise<Record<string, string>>;
}

function failureReason(error: unknown): string {
  if (error instanceof ApiException) {
    if (error.code === 404) return 'Secret not found';
    if (error.code === 403) return 'reading the Secret is forbidden (RBAC)';
    return `reading the Secret failed with HTTP ${error.code}`;
  }
  return `reading the Secret failed: ${error instanceof Error ? error.name : 'error'}`;
}

/**
 * Secret refs read from the cluster: one GET of the named Secret in the policy's namespace, kept
 * briefly (never a list or watch of Secrets). Errors name the Secret and key, never a value, and
 * never carry the API's answer (which could echo data).
 */
export function kubernetesSecretReader(clients: KubeClients, options: KubernetesSecretReaderOptions): SecretReader {
  const { core } = clients;
  const ttlMs = options.ttlMs ?? 30_000;
  const cache = new LRUCache<string, Entry>({ max: options.maxEntries ?? 1000 });

  const load = async (namespace: string, name: string): Promise<Record<string, string>> => {
    const secret = await core.readNamespacedSecret({ namespace, name });
    const decoded: Record<string, string> = {};
    for (const [key, value] of Object.entries(secret.data ?? {}))
      decoded[key] = Buffer.from(value, 'base64').toString('utf8');
    for (const [key, value] of Object.entries(secret.stringData ?? {})) decoded[key] = value;
    return decoded;
  };

  const secretData = (namespace: string, name: string): Promise<Record<string, string>> => {
    const id = `${namespace}/${name}`;
    const now = options.clock.now();
    const hit = cache.get(id);
    if (hit && now - hit.at < ttlMs) return hit.data;
    const data = load(namespace, name);
    cache.set(id, { at: now, data });
    // A failure is not kept: the next tick asks again.
    data.catch(() => {
      if (cache.get(id)?.data === data) cache.delete(id);
    });
    return data;
  };

  return {
    async read(namespace: string, ref: SecretRef): Promise<string> {
      let data: Record<string, string>;
      try {
        data = await secretData(namespace, ref.name);
      } catch (error) {
        throw new SecretUnavailableError(namespace, ref, failureReason(error));
      }
      const value = data[ref.key];
      if (value === undefined) throw new SecretUnavailableError(namespace, ref, 'no such key in the Secret');
      if (value === '') throw new SecretUnavailableError(namespace, ref, 'the value is empty');
      return value;
    },
  };
}
