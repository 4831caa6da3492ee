import { createHash } from 'node:crypto';
import type { RuleProperties, TopLevelCondition } from 'json-rules-engine';
import type jsonata from 'jsonata';
import { LRUCache } from 'lru-cache';
import { compileJsonata } from '../../lib/jsonata/bounded.js';
import { parseDuration } from '../policy/duration.js';
import type { CheckSpec, PolicySpec, RolloutPolicy } from '../policy/schema.js';
import { comparisonOf } from '../policy/compare.js';
import { stepCount } from '../policy/strategies.js';
import { isAction, type Action } from '../policy/vocabulary.js';
import { instantiate, type Bindings } from './instantiate.js';
import type { LevelName } from './precedence.js';
import { EnginePool } from './engines.js';
import { ruleTemplates, type AnyReasonTemplate, type RuleTemplate } from './templates.js';

/** One reason a rule can give: its name, precedence, action and a message template with its bindings. */
export interface CompiledReason {
  rule: string;
  /** Its place in PRECEDENCE (src/pipeline/compile/precedence.ts), from 1. */
  level: number;
  action: Action;
  message: string;
  check?: string;
  /** The webhook whose answer the reason is about: `{code}`, `{error}` in its message come from that answer. */
  webhook?: string;
  bindings: Bindings;
  /** Levels whose firing means this reason did not apply (rules/README.md). */
  unlessFired?: LevelName[];
  /** For a condition over every check: one reason per check whose field has the value. */
  perCheck?: { field: 'status'; value: string };
}

/** A condition of the decision rule, tagged with the index of its reason in CompiledPolicy.reasons. */
export type ReasonCondition = Record<string, unknown> & { reason: number };

/**
 * The whole rule set as one json-rules-engine rule whose `any` holds one condition per reason.
 * All share one priority, so the engine evaluates every one and records which held; one rule
 * instead of one per level (or per check) keeps a run short, since json-rules-engine copies a
 * rule's conditions on every run. Precedence is the reasons' levels, applied by decide.
 */
export interface CompiledRule extends RuleProperties {
  name: string;
  priority: number;
  conditions: TopLevelCondition & { any: ReasonCondition[] };
  event: { type: string };
}

export interface CompiledPolicy {
  /** sha256 of the canonical spec: the cache key, and what the audit log records. */
  hash: string;
  policy: { name: string; namespace: string };
  spec: PolicySpec;
  rule: CompiledRule;
  reasons: CompiledReason[];
  derived: { name: string; text: string; expression: jsonata.Expression }[];
  /**
   * The engines that run the rule, shared by every policy with the same rule set: each run takes one no other
   * run holds (a new engine per run costs 1.6–2×; one kept per policy was its largest part).
   */
  engines: EnginePool;
}

const cache = new LRUCache<string, CompiledPolicy>({ max: 500 });

type Shared = Pick<CompiledPolicy, 'rule' | 'reasons' | 'derived' | 'engines'>;

/**
 * The rule, reasons and derived expressions of a spec, shared by every policy whose spec differs
 * only in its targetRef (which the rule set never reads): policies made from one template share
 * them (about 14 KiB a policy of the controller's memory), and the pool of engines that run it
 * (json-rules-engine keeps a run's status on the engine: two runs never hold one engine at once).
 * Read-only once built.
 */
const shared = new LRUCache<string, Shared>({ max: 500 });

function sharedPart(spec: PolicySpec): Shared {
  const key = createHash('sha256')
    .update(canonicalJson({ ...spec, targetRef: undefined }))
    .digest('hex');
  const hit = shared.get(key);
  if (hit) return hit;
  const reasons: CompiledReason[] = [];
  const rule = buildRule(spec, reasons);
  const derived = Object.entries(spec.derived).map(([name, text]) => ({
    name,
    text,
    expression: compileJsonata(text),
  }));
  const part = { rule, reasons, derived, engines: new EnginePool(rule) };
  shared.set(key, part);
  return part;
}

export function compilePolicy(policy: RolloutPolicy): CompiledPolicy {
  const hash = specHash(policy);
  const hit = cache.get(hash);
  if (hit) return hit;
  const { rule, reasons, derived, engines } = sharedPart(policy.spec);
  const compiled: CompiledPolicy = {
    hash,
    policy: { name: policy.metadata.name, namespace: policy.metadata.namespace },
    spec: policy.spec,
    rule,
    reasons,
    derived,
    engines,
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

function buildRule(spec: PolicySpec, reasons: CompiledReason[]): CompiledRule {
  const policyBindings: Bindings = {
    maxRestarts: spec.podHealth.maxRestarts,
    maxWarningEvents: spec.podHealth.maxWarningEvents,
    progressDeadlineSeconds: parseDuration(spec.podHealth.progressDeadline),
    onMetricUnavailable: spec.onMetricUnavailable,
    lastStep: stepCount(spec) - 1,
    ...strategyBindings(spec),
  };
  const builder = new RuleBuilder(spec, reasons);
  const any = ruleTemplates().flatMap((template) =>
    bindingsFor(template, spec).flatMap((extra) => builder.conditions(template, { ...policyBindings, ...extra })),
  );
  return {
    name: 'kubestead-decision',
    priority: 1,
    conditions: { any } as CompiledRule['conditions'],
    event: { type: 'decision' },
  };
}

/**
 * What a policy's strategy gives the templates' `if`: non-null when it has A/B steps, mirror steps, is blue-green, or
 * waits for promote before the switch; a reason for a kind of step the policy lacks is not compiled at all.
 */
function strategyBindings(spec: PolicySpec): Bindings {
  const some = (test: (step: PolicySpec['steps'][number]) => boolean) => (spec.steps.some(test) ? true : null);
  return {
    matchSteps: some((step) => step.match !== undefined),
    mirrorSteps: some((step) => step.mirror !== undefined),
    blueGreen: spec.blueGreen ? true : null,
    awaitPromotion: spec.blueGreen && !spec.blueGreen.autoPromote ? true : null,
  };
}

/** One set of bindings per rule the template makes. */
function bindingsFor(template: RuleTemplate, spec: PolicySpec): Bindings[] {
  switch (template.per) {
    case 'once':
      return [{}];
    case 'custom-rule':
      return spec.rules.map((r) => ({
        ruleName: r.name,
        then: r.then,
        when: r.when,
        message: r.message ?? `custom rule ${r.name} matched: ${r.then}`,
      }));
    default: {
      const unknown: never = template.per;
      throw new Error(`rule template ${template.name}: unknown "per" ${String(unknown)}`);
    }
  }
}

const limited = (c: CheckSpec): boolean => (c.failureLimit ?? 0) > 0;

/** Which checks each kind of `any` entry is instantiated for (rules/README.md). */
const CHECKS_OF: Partial<Record<NonNullable<AnyReasonTemplate['of']>, (c: CheckSpec) => boolean>> = {
  check: () => true,
  'check-max': (c) => c.max !== undefined && !limited(c),
  'check-min': (c) => c.min !== undefined && !limited(c),
  'check-max-limited': (c) => c.max !== undefined && limited(c),
  'check-min-limited': (c) => c.min !== undefined && limited(c),
  'check-inconclusive-max': (c) => c.inconclusive?.max !== undefined,
  'check-inconclusive-min': (c) => c.inconclusive?.min !== undefined,
  'check-increase': (c) => ['increase', 'either'].includes(comparisonOf(c)?.direction ?? ''),
  'check-decrease': (c) => ['decrease', 'either'].includes(comparisonOf(c)?.direction ?? ''),
};

/**
 * The bindings an `any` entry is instantiated with: one set per check of its kind, per webhook of its type
 * (`webhook-<type>`), or one empty set when it has no `of`.
 */
function targetsOf(entry: AnyReasonTemplate, spec: PolicySpec): Bindings[] {
  if (entry.of === undefined) return [{}];
  if (entry.of.startsWith('webhook-')) {
    const type = entry.of.slice('webhook-'.length);
    return (spec.webhooks ?? []).filter((w) => w.type === type).map((w) => ({ webhook: w.name, type: w.type }));
  }
  const of = CHECKS_OF[entry.of];
  if (!of) throw new Error(`rule template: unknown "of" ${String(entry.of)}`);
  return spec.checks.filter(of).map(checkBindings);
}

/** Instantiates templates into reason-tagged conditions, recording every reason they can give. */
class RuleBuilder {
  constructor(
    private readonly spec: PolicySpec,
    private readonly reasons: CompiledReason[],
  ) {}

  conditions(template: RuleTemplate, bindings: Bindings): ReasonCondition[] {
    const name = String(instantiate(template.name, bindings));
    const action = instantiate(template.action, bindings);
    if (!isAction(action))
      throw new Error(`rule template ${template.name}: action ${JSON.stringify(action)} is not an action`);
    const base = { rule: name, level: template.level, action, unlessFired: template.unlessFired };
    if (template.any) return this.anyConditions(template.any, base, bindings);
    const reason = this.addReason(
      { ...base, message: String(instantiate(template.message ?? '', bindings)) },
      bindings,
    );
    return [{ ...flatten(instantiate(template.conditions, bindings)), reason }];
  }

  private anyConditions(
    entries: AnyReasonTemplate[],
    base: Omit<CompiledReason, 'message' | 'bindings'>,
    bindings: Bindings,
  ): ReasonCondition[] {
    return entries
      .filter((entry) => entry.if === undefined || bindings[entry.if] != null)
      .flatMap((entry) =>
        targetsOf(entry, this.spec).map((target) => {
          const local = { ...bindings, ...target };
          const condition = flatten(instantiate(entry.condition, local));
          const reason = this.addReason(
            {
              ...base,
              rule: entry.rule ?? base.rule,
              message: entry.message,
              ...(entry.perCheck ? { perCheck: entry.perCheck } : {}),
            },
            local,
          );
          return { ...condition, reason };
        }),
      );
  }

  private addReason(reason: Omit<CompiledReason, 'bindings'>, bindings: Bindings): number {
    const check = typeof bindings.check === 'string' ? bindings.check : undefined;
    const webhook = typeof bindings.webhook === 'string' ? bindings.webhook : undefined;
    const compiled: CompiledReason = { ...reason, bindings: messageBindings(reason.message, bindings) };
    if (check) compiled.check = check;
    if (webhook) compiled.webhook = webhook;
    if (!compiled.unlessFired) delete compiled.unlessFired;
    this.reasons.push(compiled);
    return this.reasons.length - 1;
  }
}

/**
 * What a check's conditions and messages may name: its name, bounds, failure limit and inconclusive
 * band (null where it has none), and for a comparison the
 * p-value it must be under (`alpha`, 1 − confidence) and the share of primary's median the shift
 * must exceed (`tolerance`, and `negTolerance` for a decrease).
 */
function checkBindings(check: CheckSpec): Bindings {
  const comparison = comparisonOf(check);
  const bounds = {
    check: check.name,
    min: check.min ?? null,
    max: check.max ?? null,
    failureLimit: check.failureLimit ?? 0,
    inconclusiveMin: check.inconclusive?.min ?? null,
    inconclusiveMax: check.inconclusive?.max ?? null,
  };
  if (!comparison) return bounds;
  // 1 − 0.98 is 0.020000000000000018 in floating point; the policy means 0.02.
  const alpha = Number((1 - comparison.confidence).toPrecision(12));
  return { ...bounds, alpha, tolerance: comparison.tolerance, negTolerance: -comparison.tolerance };
}

/** `{all: [x]}` and `{any: [x]}` are x: each level of nesting costs the engine as much as two conditions. */
function flatten(condition: unknown): Record<string, unknown> {
  const node = condition as Record<string, unknown>;
  for (const operator of ['all', 'any']) {
    const children = node[operator];
    if (Array.isArray(children) && children.length === 1 && Object.keys(node).length === 1) return flatten(children[0]);
  }
  return node;
}

/** `{name}` or `{rollout.step}` in a reason's message, filled at decide time. */
export const MESSAGE_PLACEHOLDER = /\{([\w.-]+)\}/g;

/** The scalar bindings a message names; conditions and lists stay out. */
function messageBindings(message: string, bindings: Bindings): Bindings {
  const named = new Set([...message.matchAll(MESSAGE_PLACEHOLDER)].map((m) => m[1]));
  return Object.fromEntries(
    Object.entries(bindings).filter(([k, v]) => named.has(k) && (v === null || typeof v !== 'object')),
  );
}
