/**
 * Invariant I of the reliability matrix (docs/reliability.md), checked by one helper everywhere a
 * row names it: the audit chain verifies end to end against the head status keeps; `seq` is
 * contiguous; every actuating decision (advance, promote, rollback) is in the chain exactly once —
 * written before its actuation, so a killed controller that re-decides does not add a second one;
 * every actuation (a write to a Deployment's /scale, to primary, or to a route, as the sandbox's
 * request log has it) has exactly one decision entry before it; and, when a SIEM copy is given, it
 * holds every entry after dedupe by id.
 */
import type { Sandbox } from '@kubestead/sandbox';
import { expect } from 'vitest';
import type { AuditEntry } from '../../src/pipeline/record/audit/entry.js';
import { kubestead } from '../audit/run-cli.js';
import type { Logged } from './faults.js';

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

/** The route kinds a router writes (istio, Gateway API, SMI, nginx's canary Ingress) and the Services it switches. */
const ROUTES =
  '(?:apis/(?:networking\\.istio\\.io|gateway\\.networking\\.k8s\\.io|split\\.smi-spec\\.io|networking\\.k8s\\.io)/[^/]+|api/v1)';

/**
 * The operator's actuation requests in a namespace, oldest first, answered or refused: every PUT or PATCH of a
 * Deployment's /scale, of primary (`*-primary`) and of a route or Service. (Creating primary at adoption is not one:
 * it serves nothing until the `adopted` entry, which precedes the write that hands it the traffic.)
 */
export function actuationRequests(sandbox: Sandbox, namespace: string): Logged[] {
  const ns = namespace.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const path = new RegExp(
    `^/(?:apis/apps/v1/namespaces/${ns}/deployments/[^/]+(?:/scale|-primary)|${ROUTES}/namespaces/${ns}/` +
      `(?:virtualservices|httproutes|trafficsplits|ingresses|services)/[^/]+)(?:\\?|$)`,
  );
  return sandbox.requests.list({ path }).filter((r) => r.method === 'PUT' || r.method === 'PATCH');
}

const isActuating = (e: AuditEntry): boolean =>
  e.kind === 'decision' && (ACTUATING as readonly string[]).includes(e.decision?.action ?? '');

/**
 * Every actuation has exactly one decision entry before it: walking the chain's actuating decisions in order, each
 * is followed by an actuation request of its own before the next one is recorded (a decision actuated before its
 * entry leaves its predecessor with none, or itself with none), and the first actuation request is preceded by
 * an entry. The controller's own actuations (adoption, a canary's start, promotion's end) follow their `event`
 * entry. Entries marked `late` (stored after their actuation while the store was down) are the documented gap.
 * Only the time the sandbox's request log still covers is checked (it keeps the newest 10,000 requests).
 */
export function expectDecisionBeforeEachActuation(entries: AuditEntry[], requests: Logged[]): void {
  const covered = requests[0]?.time ?? Infinity;
  const at = (e: AuditEntry): number => Date.parse(e.recordedAt);
  const decisions = entries.filter((e) => isActuating(e) && !e.late && at(e) >= covered);
  const unactuated = decisions.filter((d, i) => {
    const until = decisions[i + 1] ? at(decisions[i + 1]!) : Infinity;
    return !requests.some((r) => r.time >= at(d) && r.time < until);
  });
  const named = unactuated.map((d) => `seq ${d.seq} ${d.decision!.action} ${d.decision!.step} at ${d.recordedAt}`);
  expect(named, `decisions with no actuation of their own before the next one: ${named.join('; ')}`).toEqual([]);
  const first = entries.find((e) => isActuating(e) || e.kind === 'event');
  const early = requests.filter((r) => first === undefined || r.time < at(first)).map((r) => `${r.method} ${r.path}`);
  expect(early, `actuations before any entry: ${early.join('; ')}`).toEqual([]);
}

export interface InvariantScope {
  /** The sandbox whose request log holds the actuations, and the namespace of the policy. */
  cluster?: { sandbox: Sandbox; namespace: string };
  /** The bodies a SIEM received. */
  siem?: { received: AuditEntry[] };
}

/**
 * Asserts invariant I over a verified chain's entries: seq contiguous from 0, each actuating
 * decision's action id once, (given the cluster) exactly one decision entry before each actuation,
 * and (given the bodies a SIEM received) every entry delivered.
 */
export function expectInvariantI(entries: AuditEntry[], scope: InvariantScope = {}): void {
  const { cluster, siem } = scope;
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
  if (cluster) expectDecisionBeforeEachActuation(entries, actuationRequests(cluster.sandbox, cluster.namespace));
  if (siem) {
    const delivered = new Map(siem.received.map((e) => [`${e.policy.uid}/${e.seq}`, e.hash]));
    const missing = entries.filter((e) => delivered.get(`${e.policy.uid}/${e.seq}`) !== e.hash).map((e) => e.seq);
    expect(missing, 'entries the SIEM lacks (after dedupe)').toEqual([]);
  }
}
