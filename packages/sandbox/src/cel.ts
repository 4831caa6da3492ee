import { celEnv, isCelError, parse, plan, type CelEnv } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import type { JsonSchema } from './schema-validate.js';
import type { StatusCause } from './status.js';
import { isRecord } from './types.js';

/**
 * CRD `x-kubernetes-validations` (CEL), through @bufbuild/cel with its strings extension: `self`
 * is the value at the rule's place, `oldSelf` its value before an update (a transition rule runs
 * only on updates where the old value exists). Rules that call a function the evaluator lacks
 * (Kubernetes' own libraries: quantity, url, ip, …) are reported at CRD creation as not enforced.
 */

export interface CelRule {
  /** Where the rule sits: property names, `*` for each item of a list or value of a map. */
  at: string[];
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
  /** The schema of the value the rule sees (to type integers). */
  schema: JsonSchema;
  transition: boolean;
  evaluate?: (bindings: Record<string, unknown>) => unknown;
  /** Why it cannot be enforced (a missing function), if so. */
  notEnforced?: string;
}

interface RuleSpec {
  rule?: unknown;
  message?: unknown;
  messageExpression?: unknown;
  reason?: unknown;
  fieldPath?: unknown;
}

/** Operators and macros the parser and planner handle themselves (not in the function registry). */
const SPECIAL_FORMS = new Set([
  '_&&_',
  '_||_',
  '_?_:_',
  '_[_]',
  '@not_strictly_false',
  '_[?_]',
  '_?._',
  'has',
  'all',
  'exists',
  'exists_one',
  'map',
  'filter',
]);

let env: CelEnv | undefined;
function celEnvironment(): CelEnv {
  env ??= celEnv({ funcs: strings });
  return env;
}

/** Every function a parsed expression calls (operators included). */
function calledFunctions(node: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const n of node) calledFunctions(n, into);
  else if (isRecord(node)) {
    if (node.case === 'callExpr' && isRecord(node.value) && typeof node.value.function === 'string')
      into.add(node.value.function);
    for (const value of Object.values(node)) if (typeof value === 'object') calledFunctions(value, into);
  }
  return into;
}

/** Compiles a rule: a syntax error is a CRD error; a missing function leaves it not enforced. */
function compile(rule: CelRule): string | undefined {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(rule.rule);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const missing = [...calledFunctions(parsed)].filter((f) => !SPECIAL_FORMS.has(f) && !celEnvironment().funcs.find(f));
  if (missing.length > 0) rule.notEnforced = `uses ${missing.join(', ')}, which the sandbox's CEL evaluator lacks`;
  else rule.evaluate = plan(celEnvironment(), parsed) as (bindings: Record<string, unknown>) => unknown;
  return undefined;
}

function childSchemas(schema: JsonSchema): Array<[string, JsonSchema]> {
  const out: Array<[string, JsonSchema]> = Object.entries(schema.properties ?? {});
  if (schema.items) out.push(['*', schema.items]);
  const extra = schema.additionalProperties;
  if (typeof extra === 'object') out.push(['*', extra]);
  return out;
}

function rulesAt(schema: JsonSchema, at: string[]): CelRule[] {
  const specs = (schema as { 'x-kubernetes-validations'?: RuleSpec[] })['x-kubernetes-validations'] ?? [];
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  return specs.map((s) => ({
    at,
    rule: text(s.rule) ?? '',
    message: text(s.message),
    messageExpression: text(s.messageExpression),
    reason: text(s.reason),
    fieldPath: text(s.fieldPath),
    schema,
    transition: /\boldSelf\b/.test(text(s.rule) ?? ''),
  }));
}

/** The rules of a schema, compiled; `errors` are the ones that do not compile (the CRD is invalid). */
export function collectRules(
  schema: JsonSchema,
  at: string[] = [],
  out: { rules: CelRule[]; errors: Array<{ rule: CelRule; error: string }> } = { rules: [], errors: [] },
): { rules: CelRule[]; errors: Array<{ rule: CelRule; error: string }> } {
  for (const rule of rulesAt(schema, at)) {
    const error = compile(rule);
    if (error) out.errors.push({ rule, error });
    else out.rules.push(rule);
  }
  for (const [key, child] of childSchemas(schema)) collectRules(child, [...at, key], out);
  return out;
}

/** A JSON value as CEL sees it: objects as maps, integers of integer fields as ints. */
function toCel(value: unknown, schema: JsonSchema | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => toCel(v, schema?.items));
  if (isRecord(value)) {
    const extra = isRecord(schema?.additionalProperties) ? (schema.additionalProperties as JsonSchema) : undefined;
    return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v, schema?.properties?.[k] ?? extra)]));
  }
  const integral = schema?.type === 'integer' || schema?.['x-kubernetes-int-or-string'] === true;
  if (typeof value === 'number' && integral && Number.isInteger(value)) return BigInt(value);
  return value;
}

interface Place {
  path: string;
  value: unknown;
  old: unknown;
}

function step(places: Place[], key: string): Place[] {
  return places.flatMap(({ path, value, old }): Place[] => {
    if (key !== '*')
      return isRecord(value) && value[key] !== undefined
        ? [{ path: path ? `${path}.${key}` : key, value: value[key], old: isRecord(old) ? old[key] : undefined }]
        : [];
    if (Array.isArray(value))
      return (value as unknown[]).map((v, i) => ({ path: `${path}[${i}]`, value: v, old: undefined }));
    if (isRecord(value))
      return Object.entries(value).map(([k, v]) => ({
        path: `${path}[${k}]`,
        value: v,
        old: isRecord(old) ? old[k] : undefined,
      }));
    return [];
  });
}

function schemaType(schema: JsonSchema, value: unknown): string {
  if (schema.type) return schema.type;
  return Array.isArray(value) ? 'array' : isRecord(value) ? 'object' : typeof value;
}

function failureMessage(rule: CelRule, bindings: Record<string, unknown>): string {
  if (rule.messageExpression) {
    const evaluated = plan(celEnvironment(), parse(rule.messageExpression))(bindings as never);
    if (typeof evaluated === 'string' && evaluated !== '') return evaluated;
  }
  return rule.message ?? `failed rule: ${rule.rule}`;
}

/** The value's type as the API server names it in an Invalid value message. */
const typeOf = (rule: CelRule, place: Place): string => JSON.stringify(schemaType(rule.schema, place.value));

function check(rule: CelRule, place: Place): StatusCause | undefined {
  if (!rule.evaluate || (rule.transition && place.old === undefined)) return undefined;
  const bindings = {
    self: toCel(place.value, rule.schema),
    ...(rule.transition ? { oldSelf: toCel(place.old, rule.schema) } : {}),
  };
  const result = rule.evaluate(bindings);
  const field = `${place.path}${rule.fieldPath ?? ''}`.replace(/^\./, '');
  const reason = rule.reason ?? 'FieldValueInvalid';
  if (isCelError(result))
    return {
      reason,
      field,
      message: `Invalid value: ${typeOf(rule, place)}: ${rule.rule}: ${result.message}`,
    };
  if (result === true) return undefined;
  return {
    reason,
    field,
    message: `Invalid value: ${typeOf(rule, place)}: ${failureMessage(rule, bindings)}`,
  };
}

/** The causes of a write that breaks a rule (422), as the API server words them. */
export function celCauses(rules: CelRule[], object: unknown, old: unknown): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const rule of rules) {
    const places = rule.at.reduce(step, [{ path: '', value: object, old }]);
    for (const place of places) {
      const cause = check(rule, place);
      if (cause) causes.push(cause);
    }
  }
  return causes;
}
