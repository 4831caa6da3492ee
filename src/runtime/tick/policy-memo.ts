import { LRUCache } from 'lru-cache';
import type { PolicyObject } from '../../adapters/kube/cache.js';
import { compilePolicy, type CompiledPolicy } from '../../pipeline/compile/compile.js';
import type { PolicyIssue } from '../../pipeline/policy/issues.js';
import { parsePolicy } from '../../pipeline/policy/load.js';
import type { RolloutPolicy } from '../../pipeline/policy/schema.js';

type Validated = { policy: RolloutPolicy; compiled: CompiledPolicy } | { issues: PolicyIssue[] };

/**
 * What validation and compilation made of each policy, until its spec (or the metadata validation
 * reads) changes: a spec is the same for hundreds of ticks, and parsing and compiling it every tick
 * of a thousand policies was most of the controller's CPU. Bounded; a forgotten policy is dropped.
 */
export class PolicyMemo {
  private readonly entries = new LRUCache<string, { source: string; result: Validated }>({ max: 20_000 });

  validate(raw: PolicyObject): Validated {
    const meta = raw.metadata ?? {};
    const id = `${meta.namespace ?? ''}/${meta.name ?? ''}`;
    // What validation reads of the object (status and the server's metadata aside): equal text, equal result.
    const input = {
      apiVersion: raw.apiVersion,
      kind: raw.kind,
      metadata: { name: meta.name, namespace: meta.namespace, labels: meta.labels, annotations: meta.annotations },
      spec: raw.spec,
    };
    const source = JSON.stringify([meta.uid, input]);
    const hit = this.entries.get(id);
    if (hit?.source === source) return hit.result;
    const parsed = parsePolicy(input);
    const result: Validated = parsed.policy
      ? { policy: parsed.policy, compiled: compilePolicy(parsed.policy) }
      : { issues: parsed.issues };
    this.entries.set(id, { source, result });
    return result;
  }

  forget(namespace: string, name: string): void {
    this.entries.delete(`${namespace}/${name}`);
  }
}
