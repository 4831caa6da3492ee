import { loadPolicyFile } from '../policy/load.js';
import type { Command } from './commands.js';
import { UsageError } from './usage-error.js';

export const validateCommand: Command = {
  summary: 'validate RolloutPolicy files (multi-document YAML)',
  help: `Usage: kubestead validate FILE...

Validates every RolloutPolicy document of each file. Each problem is one line
FILE:LINE: PATH: MESSAGE. Documents of other API groups are skipped.
Exit codes: 0 all valid, 2 a file has a problem.`,
  async run(args) {
    if (args.length === 0) throw new UsageError('no file given');
    let failed = false;
    for (const file of args) {
      const { policies, errors } = await loadPolicyFile(file);
      if (policies.length === 0 && errors.length === 0) errors.push(`${file}: no RolloutPolicy document in this file`);
      for (const error of errors) process.stderr.write(`${error}\n`);
      for (const { policy, line } of policies) process.stdout.write(`${file}:${line}: ${policy.metadata.namespace}/${policy.metadata.name}: valid\n`);
      failed ||= errors.length > 0;
    }
    return failed ? 2 : 0;
  },
};
