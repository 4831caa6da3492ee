import { createHash } from 'node:crypto';
import { Engine, type RuleProperties, type TopLevelCondition } from 'json-rules-engine';
import type jsonata from 'jsonata';
import { LRUCache } from 'lru-cache';
import { parseDuration } from '../policy/duration.js';
import type { CheckSpec, PolicySpec, RolloutPolicy } from '../policy/schema.js';
import { compileJsonata } from './jsonata-cache.js';
import { instantiate, type Bindings } from './instantiate.js';
import { resolvePath } from './path.js';
import { ruleTemplates, type RuleTemplate } from './templates.js';

/** What a fired rule carries to decide: enough to order it and to explain it. */
export interface RuleParams {
  rule: string;
  level: number;
  action: string;
  message: string;
  check?: string;
  [binding: string]: unknown;
}

export interface CompiledRule extends RuleProperties {
  name: string;
  priority: number;
  event: { type: string; params: RuleParams };
}

export interface CompiledPolicy {
  /** sha256 of the canonical spec: the cache key, and what the audit log records. */
  hash: string;
  policy: { name: string; namespace: string };
  spec: PolicySpec;
  rules: CompiledRule[];
  derived: { name: string; text: string; expression: jsonata.Expression }[];
  /** One engine per compiled policy, reused by every run (a new engine per run costs 1.6–2×). */
  engine: Engine;
}

const cache = new LRUCache<string, CompiledPolicy>({ max: 500 });

export function compilePolicy(policy: RolloutPolicy): CompiledPolicy {
  const hash = specHash(policy);
  const hit = cache.get(hash);
  if (hit) return hit;
  const rules = buildRules(policy.spec);
  const engine = new Engine([], { allowUndefinedFacts: true, pathResolver: resolvePath });
  for (const rule of rules) engine.addRule(rule);
  const derived = Object.entries(policy.spec.derived).map(([name, text]) => ({ name, text, expression: compileJsonata(text) }));
  const compiled: CompiledPolicy = {
    hash,
    policy: { name: policy.metadata.name, namespace: policy.metadata.namespace },
    spec: policy.spec,
    rules,
    derived,
    engine,
  };
  cache.set(hash, compiled);
  return compiled;
}

export function specHash(policy: RolloutPolicy): string {
  const identity = { name: policy.metadata.name, namespace: policy.metadata.namespace, spec: policy.spec };
  return createHash('sha256').update(canonicalJson(identity)).digest('hex');
}

/** JSON with object keys sorted at every depth: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function buildRules(spec: PolicySpec): CompiledRule[] {
  const policyBindings = {
    maxRestarts: spec.podHealth.maxRestarts,
    maxWarningEvents: spec.podHealth.maxWarningEvents,
    progressDeadlineSeconds: parseDuration(spec.podHealth.progressDeadline),
    onMetricUnavailable: spec.onMetricUnavailable,
    checksInBounds: checksInBounds(spec.checks),
  };
  return ruleTemplates().flatMap((template) =>
    bindingsFor(template, spec).map((extra) => toRule(template, { ...policyBindings, ...extra })),
  );
}

/** One set of bindings per instance the template asks for. */
function bindingsFor(template: RuleTemplate, spec: PolicySpec): Bindings[] {
  switch (template.per) {
    case 'once':
      return [{}];
    case 'policy':
      return template.when && (spec.podHealth as Record<string, unknown>)[template.when] != null ? [{}] : [];
    case 'check':
      return spec.checks.map(checkBindings);
    case 'check-max':
      return spec.checks.filter((c) => c.max !== undefined).map(checkBindings);
    case 'check-min':
      return spec.checks.filter((c) => c.min !== undefined).map(checkBindings);
    case 'custom-rule':
      return spec.rules.map((r) => ({ ruleName: r.name, then: r.then, when: 'fact' in r.when ? { all: [r.when] } : r.when }));
    default: {
      const unknown: never = template.per;
      throw new Error(`rule template ${template.name}: unknown "per" ${String(unknown)}`);
    }
  }
}

function checkBindings(check: CheckSpec): Bindings {
  return { check: check.name, min: check.min ?? null, max: check.max ?? null };
}

function toRule(template: RuleTemplate, bindings: Bindings): CompiledRule {
  const name = String(instantiate(template.name, bindings));
  const action = String(instantiate(template.action, bindings));
  const check = typeof bindings.check === 'string' ? bindings.check : undefined;
  const params: RuleParams = { ...messageBindings(template.message, bindings), rule: name, level: template.level, action, message: template.message };
  if (check) params.check = check;
  return {
    name: check ? `${name}:${check}` : name,
    priority: 10 - template.level,
    conditions: instantiate(template.conditions, bindings) as TopLevelCondition,
    event: { type: action, params },
  };
}

/** The scalar bindings the message names go to the event params; conditions stay in the rule. */
function messageBindings(message: string, bindings: Bindings): Bindings {
  const named = new Set([...message.matchAll(/\{(\w+)\}/g)].map((m) => m[1]));
  return Object.fromEntries(Object.entries(bindings).filter(([k, v]) => named.has(k) && (v === null || typeof v !== 'object')));
}

/** Every check read and inside its bounds: the guard of the advance rule. */
function checksInBounds(checks: CheckSpec[]): TopLevelCondition {
  return {
    all: checks.flatMap((check) => [
      { fact: 'checks', path: `$.${check.name}.status`, operator: 'equal', value: 'ok' },
      ...(check.max !== undefined ? [{ fact: 'checks', path: `$.${check.name}.value`, operator: 'lessThanInclusive', value: check.max }] : []),
      ...(check.min !== undefined ? [{ fact: 'checks', path: `$.${check.name}.value`, operator: 'greaterThanInclusive', value: check.min }] : []),
    ]),
  };
}
