import { loadPolicyFile } from '../../pipeline/policy/load.js';
import { displayNameOf } from '../../pipeline/policy/read.js';
import type { RolloutPolicy } from '../../pipeline/policy/schema.js';
import type { OptionSpec } from './args.js';

/** `--name NAME`: which policy of a multi-document file. */
export const NAME_OPTION = {
  type: 'string',
  value: 'NAME',
  description: 'the policy of that name, in a file with several',
} as const satisfies OptionSpec;

/** The one policy of a file (`-` for stdin), or the error lines that say why not. */
export async function loadOnePolicy(
  file: string,
  name?: string,
): Promise<{ policy: RolloutPolicy } | { errors: string[] }> {
  const { policies, errors } = await loadPolicyFile(file);
  if (errors.length > 0) return { errors };
  const shown = displayNameOf(file);
  const matching = name ? policies.filter((p) => p.policy.metadata.name === name) : policies;
  if (matching.length === 1 && matching[0]) return { policy: matching[0].policy };
  if (matching.length === 0)
    return { errors: [`${shown}: no RolloutPolicy${name ? ` named "${name}"` : ''} in this file`] };
  const names = matching.map((p) => p.policy.metadata.name).join(', ');
  return { errors: [`${shown}: ${matching.length} policies (${names}); choose one with --name`] };
}
