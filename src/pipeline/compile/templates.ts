import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DERIVED_UNAVAILABLE, LEVEL_NAMES, NO_DECISION, PRECEDENCE } from './precedence.js';
import { fromRoot } from '../../lib/root.js';
import { BUILTIN_RULES } from '../policy/vocabulary.js';

export const RULE_TARGETS = ['once', 'custom-rule'] as const;
/**
 * What an `any` entry is instantiated for: every check; every check with that bound and no failure limit
 * (`check-max`, `check-min`); with that bound and a failure limit (`check-max-limited`, `check-min-limited`); with
 * that edge of an inconclusive band (`check-inconclusive-max`, `check-inconclusive-min`); every webhook of a type
 * (`webhook-<type>`); every comparison check whose direction fails an increase (`check-increase`: `increase`,
 * `either`) or a decrease (`check-decrease`).
 */
export const EACH_TARGETS = [
  'check',
  'check-max',
  'check-min',
  'check-max-limited',
  'check-min-limited',
  'check-inconclusive-max',
  'check-inconclusive-min',
  'check-increase',
  'check-decrease',
  'webhook-preRollout',
  'webhook-rollout',
  'webhook-rollback',
  'webhook-confirmRollout',
  'webhook-confirmTrafficIncrease',
  'webhook-confirmPromotion',
] as const;

/** One reason of an `any` template: a condition and what it means when it holds. */
const anyReasonSchema = z.strictObject({
  rule: z.string().optional(),
  of: z.enum(EACH_TARGETS).optional(),
  if: z.string().optional(),
  condition: z.unknown(),
  message: z.string(),
  /**
   * A condition over every check (`$.*.status contains unavailable`) is explained by one reason per check whose field
   * has the value.
   */
  perCheck: z.strictObject({ field: z.enum(['status']), value: z.string() }).optional(),
});

const templateSchema = z
  .strictObject({
    name: z.string(),
    per: z.enum(RULE_TARGETS),
    /**
     * An action, or a placeholder filled from the policy (`{{then}}`, `{{onMetricUnavailable}}`), checked when
     * compiled.
     */
    action: z.string(),
    conditions: z.unknown().optional(),
    message: z.string().optional(),
    any: z.array(anyReasonSchema).optional(),
    unlessFired: z.array(z.enum(LEVEL_NAMES)).optional(),
  })
  .refine((t) => (t.message === undefined) !== (t.any === undefined), {
    error: 'a template needs exactly one of "message" or "any"',
  });

/** A built-in rule template of rules/, with its precedence level (its place in PRECEDENCE, from 1). */
export type RuleTemplate = z.output<typeof templateSchema> & { level: number };
export type AnyReasonTemplate = z.output<typeof anyReasonSchema>;

/** rules/ sits at the package root, beside dist/ and src/. */
export const RULES_DIR = fromRoot('rules');

let loaded: RuleTemplate[] | undefined;

/** The built-in templates, read once, in precedence order. */
export function ruleTemplates(dir = RULES_DIR): RuleTemplate[] {
  if (dir === RULES_DIR && loaded) return loaded;
  const listed = new Set<string>(PRECEDENCE.map((level) => level.file));
  const stray = readdirSync(dir).filter((f) => f.endsWith('.json') && !listed.has(f));
  if (stray.length)
    throw new Error(`rules/: ${stray.join(', ')} not in the precedence list (src/pipeline/compile/precedence.ts)`);
  const templates = PRECEDENCE.flatMap(({ file }, index) => {
    const parsed = z.array(templateSchema).safeParse(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    if (!parsed.success)
      throw new Error(
        `rules/${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    return parsed.data.map((t) => ({ ...t, level: index + 1 }));
  });
  checkRuleNames(templates);
  if (dir === RULES_DIR) loaded = templates;
  return templates;
}

/** The templates give exactly the names of BUILTIN_RULES (the vocabulary validation checks custom rules against). */
function checkRuleNames(templates: RuleTemplate[]): void {
  const given = templates
    .filter((t) => t.per === 'once')
    .flatMap((t) => [t.name, ...(t.any ?? []).flatMap((entry) => (entry.rule ? [entry.rule] : []))]);
  const names = [...new Set([...given, DERIVED_UNAVAILABLE, NO_DECISION])];
  const declared: readonly string[] = BUILTIN_RULES;
  if (names.length !== declared.length || names.some((name, i) => name !== declared[i])) {
    throw new Error(
      `rules/: the built-in rules give ${names.join(', ')}; BUILTIN_RULES (src/pipeline/policy/vocabulary.ts) says ` +
        `${declared.join(', ')}`,
    );
  }
}
