import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export interface KubeconfigInput {
  server: string;
  caCert: string;
  token: string;
  user?: string;
  namespace?: string;
}

export const SANDBOX_CONTEXT = 'kubestead-sandbox';

/** The kubeconfig of the sandbox: one cluster (CA inline), one token user, one current context. */
export function renderKubeconfig(input: KubeconfigInput): string {
  const user = input.user ?? 'kubestead-admin';
  const context: Record<string, string> = { cluster: SANDBOX_CONTEXT, user };
  if (input.namespace) context.namespace = input.namespace;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: SANDBOX_CONTEXT,
        cluster: { server: input.server, 'certificate-authority-data': Buffer.from(input.caCert).toString('base64') },
      },
    ],
    users: [{ name: user, user: { token: input.token } }],
    contexts: [{ name: SANDBOX_CONTEXT, context }],
    'current-context': SANDBOX_CONTEXT,
    preferences: {},
  });
}

/** Writes the kubeconfig with mode 0600 (it holds a bearer token), creating its folder. */
export async function writeKubeconfig(path: string, input: KubeconfigInput): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, renderKubeconfig(input), { mode: 0o600 });
}
