import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const RULE_TARGETS = ['once', 'custom-rule'] as const;
export const EACH_TARGETS = ['check', 'check-max', 'check-min'] as const;

/** One reason of an `any` template: a condition and what it means when it holds. */
const anyReasonSchema = z.strictObject({
  rule: z.string().optional(),
  of: z.enum(EACH_TARGETS).optional(),
  if: z.string().optional(),
  condition: z.unknown(),
  message: z.string(),
});

const templateSchema = z.strictObject({
  name: z.string(),
  per: z.enum(RULE_TARGETS),
  action: z.string(),
  conditions: z.unknown().optional(),
  message: z.string().optional(),
  any: z.array(anyReasonSchema).optional(),
  unlessFired: z.array(z.number().int()).optional(),
});

/** A built-in rule template of rules/, with its precedence level (the file's number). */
export type RuleTemplate = z.output<typeof templateSchema> & { level: number };
export type AnyReasonTemplate = z.output<typeof anyReasonSchema>;

/** rules/ sits at the package root, beside dist/ and src/. */
export const RULES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'rules');

let loaded: RuleTemplate[] | undefined;

/** The built-in templates, read once, in precedence order. */
export function ruleTemplates(dir = RULES_DIR): RuleTemplate[] {
  if (dir === RULES_DIR && loaded) return loaded;
  const files = readdirSync(dir).filter((f) => /^\d+-.*\.json$/.test(f));
  const templates = files.flatMap((file) => {
    const level = Number.parseInt(file, 10);
    const parsed = z.array(templateSchema).safeParse(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    if (!parsed.success) throw new Error(`rules/${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return parsed.data.map((t) => ({ ...t, level }));
  });
  for (const t of templates) {
    if ((t.message === undefined) === (t.any === undefined)) throw new Error(`rules: template ${t.name} needs exactly one of "message" or "any"`);
  }
  templates.sort((a, b) => a.level - b.level);
  if (dir === RULES_DIR) loaded = templates;
  return templates;
}
