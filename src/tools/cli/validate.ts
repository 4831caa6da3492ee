import { loadPolicyFile } from '../../pipeline/policy/load.js';
import { displayNameOf } from '../../pipeline/policy/read.js';
import { defineCommand } from './define.js';
import { fieldsHelp } from '../reference/fields.js';
import { UsageError } from './usage-error.js';

export const validateCommand = defineCommand({
  name: 'validate',
  summary: 'validate RolloutPolicy files (multi-document YAML)',
  usage: 'FILE...',
  description: () => `Validates every RolloutPolicy document of each file ('-' reads standard input). Each
problem is one line FILE:LINE: PATH: MESSAGE; a valid policy is one line FILE:LINE: NS/NAME: valid.
Documents of other API groups are skipped.

The fields of spec (every field, with types, defaults and examples: docs/reference/policy.md, or
kubectl explain rolloutpolicy.spec once the CRD is installed):
${fieldsHelp('spec')}`,
  options: {},
  exitCodes: ['0  every policy is valid'],
  async run({ positionals }) {
    if (positionals.length === 0) throw new UsageError('no FILE given');
    let failed = false;
    for (const file of positionals) {
      const name = displayNameOf(file);
      const { policies, errors } = await loadPolicyFile(file);
      if (policies.length === 0 && errors.length === 0) errors.push(`${name}: no RolloutPolicy document in this file`);
      for (const error of errors) process.stderr.write(`${error}\n`);
      for (const { policy, line } of policies)
        process.stdout.write(`${name}:${line}: ${policy.metadata.namespace}/${policy.metadata.name}: valid\n`);
      failed ||= errors.length > 0;
    }
    return failed ? 2 : 0;
  },
});
