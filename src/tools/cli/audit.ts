import { readFile } from 'node:fs/promises';
import { ChainInputError, parseChainText } from '../../pipeline/record/audit/parse.js';
import { verifyChain, type VerifyResult, verifySummary } from '../../pipeline/record/audit/verify.js';
import { readErrorInWords } from '../../pipeline/policy/read.js';
import type { ParsedArgs } from './args.js';
import { defineCommand } from './define.js';
import { fromCluster, kubeTarget, NAMESPACE_OPTION, parseSince } from './kube-target.js';
import { UsageError } from './usage-error.js';
import { loadOnePolicy } from './load-one.js';
import type { AuditEntry } from '../../pipeline/record/audit/entry.js';
import { kubeClients } from '../../adapters/kube/clients.js';
import { systemClock } from '../../lib/clock/clock.js';
import { stepCount } from '../../pipeline/policy/strategies.js';

const OPTIONS = {
  ...NAMESPACE_OPTION,
  since: {
    type: 'string',
    value: 'T',
    description: 'export: entries from T on (an RFC 3339 time, or a duration back from now: 2h)',
  },
  head: {
    type: 'string',
    value: 'HASH',
    description: "verify: the policy's status.audit.head; a cut tail is found too",
  },
  'head-seq': {
    type: 'string',
    value: 'N',
    description: "verify, with --head: the policy's status.audit.seq; a cut tail is counted (k entries unverifiable)",
  },
  policy: {
    type: 'string',
    value: 'NS/NAME|FILE',
    description: "verify: the chain must be this policy's (NS/NAME); replay: the policy file to decide with",
  },
  name: { type: 'string', value: 'NAME', description: 'replay: the policy of that name, in a file with several' },
  json: {
    type: 'boolean',
    description: 'replay: print {decisions, identical, differences: [{seq, recorded, replayed}]}',
  },
  partial: {
    type: 'boolean',
    description: 'verify: the file starts mid-chain (an export --since); its first link is not checked',
  },
} as const;
type Args = ParsedArgs<typeof OPTIONS>;

async function readInput(file: string): Promise<string> {
  if (file !== '-') {
    return readFile(file, 'utf8').catch((error: unknown) => {
      throw new UsageError(`cannot read ${file}: ${readErrorInWords(error)}`);
    });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** What `kubestead audit verify` prints: `OK ns/name: N entries, seq A..B, head H` (and notes), or `FAIL …`. */

function verifyText(text: string, source: string, values: Args['values']): VerifyResult {
  try {
    return verifyChain(parseChainText(text, source), {
      head: values.head,
      ...(values['head-seq'] === undefined ? {} : { headSeq: Number(values['head-seq']) }),
      policy: values.policy,
      partial: values.partial,
    });
  } catch (error) {
    if (error instanceof ChainInputError) throw new UsageError(error.message);
    throw error;
  }
}

async function verify({ values, positionals }: Args): Promise<number> {
  const [file, ...extra] = positionals.slice(1);
  if (!file || extra.length) throw new UsageError('expected one FILE (or - for standard input)');
  if (values.head !== undefined && !/^[0-9a-f]{64}$/.test(values.head))
    throw new UsageError(`--head: expected a 64-digit hex SHA-256, got ${JSON.stringify(values.head)}`);
  const headSeq = values['head-seq'];
  if (headSeq !== undefined && (values.head === undefined || !/^\d{1,15}$/.test(headSeq)))
    throw new UsageError(`--head-seq: expected a sequence number with --head, got ${JSON.stringify(headSeq)}`);
  const result = verifyText(await readInput(file), file === '-' ? '(stdin)' : file, values);
  process.stdout.write(verifySummary(result));
  return result.ok ? 0 : 1;
}

/** The entries of a chain file, every line one (a line that is not is bad input here: verify finds those). */
function entriesOf(text: string, source: string): AuditEntry[] {
  try {
    const lines = parseChainText(text, source);
    const bad = lines.find((l) => l.error !== undefined);
    if (bad) throw new UsageError(`${source}: line ${bad.line} is ${bad.error}`);
    return lines.map((l) => l.entry!);
  } catch (error) {
    if (error instanceof ChainInputError) throw new UsageError(error.message);
    throw error;
  }
}

async function replay({ values, positionals }: Args): Promise<number> {
  const [file, ...extra] = positionals.slice(1);
  if (!file || extra.length) throw new UsageError('expected one FILE (or - for standard input)');
  if (!values.policy) throw new UsageError('--policy POLICY.yaml is required: the policy to decide with');
  const loaded = await loadOnePolicy(values.policy, values.name);
  if ('errors' in loaded) throw new UsageError(loaded.errors.join('\n'));
  const entries = entriesOf(await readInput(file), file === '-' ? '(stdin)' : file);
  const { replayEntries, ReplayInputError } = await import('../replay/replay.js');
  const { replayText } = await import('../replay/render.js');
  try {
    const result = await replayEntries(entries, loaded.policy);
    process.stdout.write(
      values.json ? `${JSON.stringify(result, null, 2)}\n` : replayText(result, stepCount(loaded.policy.spec)),
    );
    return result.differences.length ? 1 : 0;
  } catch (error) {
    if (error instanceof ReplayInputError) throw new UsageError(error.message);
    throw error;
  }
}

async function exportChain({ values, positionals }: Args): Promise<number> {
  const [name, ...extra] = positionals.slice(1);
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const target = await kubeTarget(name, values.namespace);
  const since = parseSince(values.since, systemClock.now());
  const { readChainLines } = await import('../../pipeline/record/audit/export.js');
  const lines = await fromCluster(() =>
    readChainLines(kubeClients(target.kubeConfig), target.namespace, target.name, since),
  );
  process.stdout.write(lines.map((l) => `${l}\n`).join(''));
  return 0;
}

export const auditCommand = defineCommand({
  name: 'audit',
  summary: "export a policy's audit chain, verify one, or replay its decisions with a policy",
  usage:
    'export NAME [-n NS] [--since T] | verify FILE|- [--head HASH [--head-seq N]] [--policy NS/NAME] [--partial] | ' +
    'replay FILE|- --policy POLICY.yaml [--json]',
  description: `export  prints the audit chain of RolloutPolicy NAME as JSON Lines, oldest entry first, read
        from the cluster of the current kubeconfig.
verify  recomputes every entry's hash and every link of a chain (a file, or - for standard
        input) and names the first bad entry: modified, missing, reordered or inserted; with
        --head, truncated ("valid to seq C; k entries … unverifiable", k with --head-seq).
        docs/audit.md has the entry format.
replay  re-decides every decision entry of a chain from the snapshot it recorded, with the policy
        of --policy FILE, through the controller's own compile and decide: with the policy the
        controller ran, "N decisions re-derived identically"; with a changed one, each entry whose
        decision would differ (recorded and replayed), and where the rollout would first have gone
        another way.`,
  options: OPTIONS,
  exitCodes: [
    '0  exported; the chain holds; or every decision is re-derived identically',
    '1  the chain does not hold (the first bad entry is named); or a replayed decision differs',
  ],
  async run(args) {
    switch (args.positionals[0]) {
      case 'export':
        return exportChain(args);
      case 'verify':
        return verify(args);
      case 'replay':
        return replay(args);
      default:
        throw new UsageError(
          `expected "export", "verify" or "replay", got ${JSON.stringify(args.positionals[0] ?? '')}`,
        );
    }
  },
});
