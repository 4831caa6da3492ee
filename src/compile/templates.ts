import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const RULE_TARGETS = ['once', 'check', 'check-max', 'check-min', 'custom-rule', 'policy'] as const;

const templateSchema = z.strictObject({
  name: z.string(),
  per: z.enum(RULE_TARGETS),
  when: z.string().optional(),
  action: z.string(),
  conditions: z.unknown(),
  message: z.string(),
});

/** A built-in rule template of rules/, with its precedence level (the file's number). */
export type RuleTemplate = z.output<typeof templateSchema> & { level: number };

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
  templates.sort((a, b) => a.level - b.level);
  if (dir === RULES_DIR) loaded = templates;
  return templates;
}
