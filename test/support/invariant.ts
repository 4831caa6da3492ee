/**
 * Invariant I of the reliability matrix (docs/reliability.md), checked by one helper everywhere a
 * row names it: the audit chain verifies end to end against the head status keeps; `seq` is
 * contiguous; every actuating decision (advance, promote, rollback) is in the chain exactly once —
 * written before its actuation, so a killed controller that re-decides does not add a second one;
 * and, when a SIEM copy is given, it holds every entry after dedupe by id.
 */
import { expect } from 'vitest';
import type { AuditEntry } from '../../src/pipeline/record/audit/entry.js';
import { kubestead } from '../audit/run-cli.js';

/** The decisions that change the cluster (a hold or a pause changes nothing). */
export const ACTUATING = ['advance', 'promote', 'rollback'] as const;

export interface ChainOwner {
  /** The kubeconfig of the cluster the chain is stored in. */
  kubeconfigPath: string;
  namespace: string;
  name: string;
  /** status.audit of the policy: the anchor the chain is verified against. */
  head: { head: string; seq: number };
}

/** Exports the chain with the real CLI, verifies it against the head, and returns its entries. */
export async function verifiedChain(owner: ChainOwner): Promise<AuditEntry[]> {
  const { namespace: ns, name, head } = owner;
  const exported = await kubestead(['audit', 'export', name, '-n', ns], { env: { KUBECONFIG: owner.kubeconfigPath } });
  expect(exported, `${ns}/${name}: audit export`).toMatchObject({ code: 0, stderr: '' });
  const verified = await kubestead(['audit', 'verify', '-', '--head', head.head, '--policy', `${ns}/${name}`], {
    input: exported.stdout,
  });
  expect(verified, `${ns}/${name}: audit verify`).toMatchObject({
    code: 0,
    stderr: '',
    stdout: `OK ${ns}/${name}: ${head.seq + 1} entries, seq 0..${head.seq}, head ${head.head}\n`,
  });
  return exported.stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditEntry);
}

/** The actuating decisions of a chain, in order, as `action step` (steps 0-based, as decisions carry them). */
export const actuations = (entries: AuditEntry[]): string[] =>
  entries
    .filter((e) => e.kind === 'decision' && (ACTUATING as readonly string[]).includes(e.decision?.action ?? ''))
    .map((e) => `${e.decision!.action} ${e.decision!.step}`);

/**
 * Asserts invariant I over a verified chain's entries: seq contiguous from 0, each actuating
 * decision's action id once, and (given the bodies a SIEM received) every entry delivered.
 */
export function expectInvariantI(entries: AuditEntry[], siem?: { received: AuditEntry[] }): void {
  expect(
    entries.map((e) => e.seq),
    'seq contiguous',
  ).toEqual([...entries.keys()]);
  const ids = entries
    .filter((e) => e.kind === 'decision' && (ACTUATING as readonly string[]).includes(e.decision?.action ?? ''))
    .map((e) => e.actionId);
  expect(
    ids.filter((id, i) => ids.indexOf(id) !== i),
    'an actuating decision recorded twice',
  ).toEqual([]);
  if (siem) {
    const delivered = new Map(siem.received.map((e) => [`${e.policy.uid}/${e.seq}`, e.hash]));
    const missing = entries.filter((e) => delivered.get(`${e.policy.uid}/${e.seq}`) !== e.hash).map((e) => e.seq);
    expect(missing, 'entries the SIEM lacks (after dedupe)').toEqual([]);
  }
}
