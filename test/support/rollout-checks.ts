/**
 * Checks the reliability scenarios share (docs/reliability.md): a policy's chain verified and held to invariant I
 * with the cluster's actuations, the actuating decisions of its last release, and the serving pods by name after
 * every change (which pod stopped serving, and when).
 */
import type { Sandbox } from '@kubestead/sandbox';
import type { AuditEntry } from '../../src/pipeline/record/audit/entry.js';
import { getObject, policyPath } from '../e2e/support.js';
import { serving, watchPods, type PodSampler } from './capacity.js';
import { actuations, expectInvariantI, verifiedChain, type ChainOwner } from './invariant.js';

/** The policy's chain, verified against its status.audit.head and held to invariant I (the cluster's actuations included). */
export async function chainHoldingI(sandbox: Sandbox, namespace: string, name: string): Promise<AuditEntry[]> {
  const head = (await getObject(sandbox, policyPath(namespace, name))).status?.audit as ChainOwner['head'];
  const entries = await verifiedChain({ kubeconfigPath: sandbox.kubeconfigPath, namespace, name, head });
  expectInvariantI(entries, { cluster: { sandbox, namespace } });
  return entries;
}

/** The actuating decisions (`action step`) of the chain's last release. */
export const releaseActuations = (entries: AuditEntry[]): string[] =>
  actuations(entries.filter((e) => e.revision === entries.at(-1)!.revision));

/** The names of the serving pods at one moment (this process's clock, as the sandbox's request log's). */
export interface ServingSample {
  at: number;
  names: string[];
}

/** The serving pods by name after every change to any pod of the namespace (by watch). */
export function watchServing(sandbox: Sandbox, namespace: string): Promise<PodSampler<ServingSample>> {
  return watchPods(sandbox, namespace, (pods) => ({
    at: Date.now(),
    names: pods.filter(serving).map((p) => p.metadata?.name ?? ''),
  }));
}

/** Every serving pod that stopped serving in a sample taken in [from, to]: `pod at +ms` (ms since `from`). */
export function servingPodsRemoved(samples: ServingSample[], from: number, to: number): string[] {
  return samples.flatMap((sample, i) => {
    const before = samples[i - 1];
    if (!before || sample.at < from || sample.at > to) return [];
    return before.names.filter((n) => !sample.names.includes(n)).map((n) => `${n} at +${sample.at - from}ms`);
  });
}

/** `text` with `from` replaced by `to` (a scenario's variant of the shared policy); throws when `from` is absent. */
export function replacedIn(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`not in the policy: ${JSON.stringify(from)}`);
  return text.replace(from, to);
}
