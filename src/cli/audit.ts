import { readFile } from 'node:fs/promises';
import { readChainLines } from '../audit/export.js';
import { parseChainText } from '../audit/parse.js';
import { verifyChain, type VerifyResult } from '../audit/verify.js';
import type { Command } from './commands.js';
import { kubeTarget, parseAuditArgs, parseSince } from './kube-target.js';
import { UsageError } from './usage-error.js';

const HELP = `Usage: kubestead audit export NAME [-n NS] [--since T]
       kubestead audit verify FILE|- [--head HASH] [--policy NS/NAME] [--partial]

export  prints the audit chain of RolloutPolicy NAME as JSON Lines, oldest entry first, read from
        the cluster of the current kubeconfig. --since keeps entries from T on (an RFC 3339 time,
        or a duration back from now such as 2h); such a partial export verifies with --partial.
verify  recomputes every entry's hash and every link of a chain (a file, or - for standard input)
        and names the first bad entry: modified, missing, reordered or inserted. With --head (the
        policy's status.audit.head) a cut tail is found too. --policy checks whose chain it is.

Exit codes: 0 the chain holds, 1 it does not, 2 bad input (not JSON Lines, empty, another policy's chain).`;

async function readInput(file: string): Promise<string> {
  if (file !== '-') {
    return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new Error(`cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
    });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function summary(result: VerifyResult): string {
  const policy = `${result.policy.namespace}/${result.policy.name}`;
  if (result.finding) return `FAIL ${policy}: ${result.finding.message}\n`;
  const notes = result.notes.map((n) => `  note: ${n}\n`).join('');
  return `OK ${policy}: ${result.entries} entries, seq ${result.firstSeq}..${result.lastSeq}, head ${result.lastHash}\n${notes}`;
}

async function verify(args: ReturnType<typeof parseAuditArgs>): Promise<number> {
  const [file, ...extra] = args.positionals.slice(1);
  if (!file || extra.length) throw new UsageError('expected one FILE (or - for standard input)');
  if (args.head !== undefined && !/^[0-9a-f]{64}$/.test(args.head)) throw new UsageError(`--head: expected a 64-digit hex SHA-256, got ${JSON.stringify(args.head)}`);
  const lines = parseChainText(await readInput(file), file === '-' ? 'standard input' : file);
  const result = verifyChain(lines, { head: args.head, policy: args.policy, partial: args.partial });
  process.stdout.write(summary(result));
  return result.ok ? 0 : 1;
}

async function exportChain(args: ReturnType<typeof parseAuditArgs>): Promise<number> {
  const [name, ...extra] = args.positionals.slice(1);
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const target = kubeTarget(name, args.namespace);
  const lines = await readChainLines(target.kubeConfig, target.namespace, target.name, parseSince(args.since, Date.now()));
  process.stdout.write(lines.map((l) => `${l}\n`).join(''));
  return 0;
}

export const auditCommand: Command = {
  summary: 'export a policy\'s audit chain, or verify one',
  help: HELP,
  async run(args) {
    const parsed = parseAuditArgs(args);
    switch (parsed.positionals[0]) {
      case 'export': return exportChain(parsed);
      case 'verify': return verify(parsed);
      default: throw new UsageError(`expected "export" or "verify", got ${JSON.stringify(parsed.positionals[0] ?? '')}`);
    }
  },
};
