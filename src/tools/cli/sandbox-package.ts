import type * as SandboxPackage from '@kubestead/sandbox';
import { CommandUnavailable } from './usage-error.js';

/**
 * The sandbox cluster, which `kubestead sandbox` and `kubestead demo` run. It is a package of its
 * own (packages/sandbox), installed with the development dependencies: a production install and
 * the controller image leave it and its libraries out, and then these commands say how to get it.
 */
export async function loadSandbox(): Promise<typeof SandboxPackage> {
  try {
    return await import('@kubestead/sandbox');
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new CommandUnavailable(
      'the sandbox cluster is not installed here (a production install leaves it out): run it from a clone of the ' +
        'repository after `npm ci`',
    );
  }
}
