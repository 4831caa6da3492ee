import type { SecretRef } from '../../pipeline/policy/schema.js';

/**
 * Reads one key of a Kubernetes Secret. The Kubernetes-backed reader lives elsewhere; every reader
 * rejects with a {@link SecretUnavailableError}, which names the Secret and key but never a value.
 */
export interface SecretReader {
  read(namespace: string, ref: SecretRef): Promise<string>;
}

/** A Secret or one of its keys cannot be read. The message names the Secret and the key, never a value. */
export class SecretUnavailableError extends Error {
  constructor(namespace: string, ref: SecretRef, reason: string) {
    super(`secret ${namespace}/${ref.name} key "${ref.key}": ${reason}`);
    this.name = 'SecretUnavailableError';
  }
}

/**
 * A reader over a fixed map, for tests and the CLI. Keys are `namespace/name/key`, or `name/key`
 * for any namespace; the namespaced entry wins.
 */
export function staticSecretReader(values: Readonly<Record<string, string>>): SecretReader {
  const map = new Map(Object.entries(values));
  return {
    read(namespace, ref) {
      const value = map.get(`${namespace}/${ref.name}/${ref.key}`) ?? map.get(`${ref.name}/${ref.key}`);
      if (value === undefined) return Promise.reject(new SecretUnavailableError(namespace, ref, 'not found'));
      return Promise.resolve(value);
    },
  };
}
