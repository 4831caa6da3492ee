import { loadPolicyFile } from '../policy/load.js';
import type { RolloutPolicy } from '../policy/schema.js';

/** The one policy of a file, or the error lines that say why not. */
export async function loadOnePolicy(file: string, name?: string): Promise<{ policy: RolloutPolicy } | { errors: string[] }> {
  const { policies, errors } = await loadPolicyFile(file);
  if (errors.length > 0) return { errors };
  const matching = name ? policies.filter((p) => p.policy.metadata.name === name) : policies;
  if (matching.length === 1 && matching[0]) return { policy: matching[0].policy };
  if (matching.length === 0) return { errors: [`${file}: no RolloutPolicy${name ? ` named "${name}"` : ''} in this file`] };
  const names = matching.map((p) => p.policy.metadata.name).join(', ');
  return { errors: [`${file}: ${matching.length} policies (${names}); choose one with --name`] };
}
