import { z } from 'zod';
import { describeValue } from './issues.js';
import { strict } from './strict.js';

/** The actions a custom rule may take (docs/decisions.md, "Precedence", level 5); kept here for old imports. */
export { RULE_ACTIONS } from './vocabulary.js';

/** The top-level facts of a FactSnapshot a custom rule may read. */
export const RULE_FACTS = ['rollout', 'checks', 'derived', 'kube', 'override', 'time'] as const;

export const OPERATORS = [
  'equal',
  'notEqual',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
] as const;

const PATH = /^\$(\.[A-Za-z0-9_-]+|\[\d+\])*$/;

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | {
      fact: (typeof RULE_FACTS)[number];
      path?: string | undefined;
      operator: (typeof OPERATORS)[number];
      value: unknown;
    };

const valueSchema = z.union([
  z.number(),
  z.string(),
  z.boolean(),
  z.null(),
  z.array(z.union([z.number(), z.string(), z.boolean()])),
]);

/** One object type for every form (all / any / not / fact), so errors stay precise and the CRD structural. */
export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  strict({
    all: z.array(conditionSchema).min(1).optional(),
    any: z.array(conditionSchema).min(1).optional(),
    not: conditionSchema.optional(),
    fact: z.enum(RULE_FACTS).optional(),
    path: z
      .string()
      .regex(PATH, { error: (iss) => `expected a path like $.a.b or $.list[0], got ${JSON.stringify(iss.input)}` })
      .optional(),
    operator: z.enum(OPERATORS).optional(),
    value: valueSchema.optional(),
  }).superRefine((c, ctx) => {
    const forms = (['all', 'any', 'not', 'fact'] as const).filter((k) => c[k] !== undefined);
    if (forms.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `a condition has exactly one of all, any, not or fact; got ${forms.join(' and ') || 'none'}`,
      });
    } else if (forms[0] === 'fact' && c.operator === undefined) {
      ctx.addIssue({ code: 'custom', path: ['operator'], message: 'a fact condition needs an operator' });
    } else if (forms[0] !== 'fact' && (c.operator !== undefined || c.path !== undefined || c.value !== undefined)) {
      ctx.addIssue({ code: 'custom', message: 'operator, path and value belong to a fact condition' });
    } else if ((c.operator === 'in' || c.operator === 'notIn') && !Array.isArray(c.value)) {
      // json-rules-engine's `in` on a string matches substrings: "not-abort-at-all" would be "in" "abort".
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: `operator ${c.operator} takes a list of values, like [abort, pause]; got ${describeValue(c.value)}`,
      });
    }
  }),
) as z.ZodType<Condition>;
