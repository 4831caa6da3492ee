import type { SecretRef } from '../../pipeline/policy/schema.js';
import { SecretUnavailableError, type SecretReader } from './reader.js';

/** `KUBESTEAD_SECRET_<NAME>_<KEY>`: upper-cased, every character other than A-Z and 0-9 becomes `_`. */
export function secretEnvName(ref: SecretRef): string {
  const part = (text: string) => text.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return `KUBESTEAD_SECRET_${part(ref.name)}_${part(ref.key)}`;
}

/** A reader of Secret refs from environment variables (the CLI's stand-in for the cluster's Secrets). */
export function envSecretReader(env: Readonly<Record<string, string | undefined>> = process.env): SecretReader {
  return {
    read(namespace, ref) {
      const value = env[secretEnvName(ref)];
      if (value === undefined || value === '') {
        return Promise.reject(
          new SecretUnavailableError(namespace, ref, `not set (environment variable ${secretEnvName(ref)})`),
        );
      }
      return Promise.resolve(value);
    },
  };
}
