import { LRUCache } from 'lru-cache';
import { compilePolicy, type CompiledPolicy } from '../../pipeline/compile/compile.js';
import type { PolicyObject } from '../../adapters/kube/cache.js';
import { parseDuration } from '../../pipeline/policy/duration.js';
import { formatPath, type PolicyIssue } from '../../pipeline/policy/issues.js';
import { parsePolicy } from '../../pipeline/policy/load.js';
import type { RolloutPolicy } from '../../pipeline/policy/schema.js';
import { alreadyShown, condition } from './conditions.js';
import { stop, type Stop, type TickContext } from './context.js';
import { recordEvent } from './record.js';

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
    const input = { apiVersion: raw.apiVersion, kind: raw.kind, metadata: { name: meta.name, namespace: meta.namespace, labels: meta.labels, annotations: meta.annotations }, spec: raw.spec };
    const source = JSON.stringify([meta.uid, input]);
    const hit = this.entries.get(id);
    if (hit?.source === source) return hit.result;
    const parsed = parsePolicy(input);
    const result: Validated = parsed.policy ? { policy: parsed.policy, compiled: compilePolicy(parsed.policy) } : { issues: parsed.issues };
    this.entries.set(id, { source, result });
    return result;
  }

  forget(namespace: string, name: string): void {
    this.entries.delete(`${namespace}/${name}`);
  }
}

/**
 * Validates the policy as `kubestead validate` would. An invalid one gets Ready=False with the
 * one-line messages and an InvalidPolicy Event (once per generation), and the tick ends terminally:
 * retrying cannot fix a spec, a change of it will.
 */
export async function validatePolicy(ctx: TickContext): Promise<Stop | undefined> {
  const validated = ctx.shared.policies.validate(ctx.raw);
  if ('policy' in validated) {
    ctx.policy = validated.policy;
    ctx.compiled = validated.compiled;
    ctx.intervalMs = (parseDuration(validated.policy.spec.interval) ?? 30) * 1000;
    return undefined;
  }
  const lines = validated.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  const message = `invalid policy: ${lines.join('; ')}`;
  if (!alreadyShown(ctx, 'Ready', 'InvalidPolicy', message)) {
    await recordEvent(ctx, 'invalid-policy', message);
  }
  condition(ctx, 'Ready', false, { reason: 'InvalidPolicy', message });
  return stop(message, null, true);
}
