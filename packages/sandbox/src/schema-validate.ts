import type { StatusCause } from './status.js';
import { clone, isRecord, jsonEqual } from './types.js';

/** The parts of a structural openAPIV3Schema the sandbox enforces. */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  required?: string[];
  enum?: unknown[];
  nullable?: boolean;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  not?: JsonSchema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
}

export interface SchemaResult {
  value: unknown;
  causes: StatusCause[];
  /** Paths of fields the schema does not know (pruned; an error under fieldValidation=Strict). */
  unknown: string[];
}

interface Ctx {
  causes: StatusCause[];
  unknown: string[];
  /** Only checking (inside anyOf/oneOf/not): no pruning report. */
  probe: boolean;
}

/** Go's %#v-like rendering of a value in messages. */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (isRecord(value)) return '"object"';
  if (Array.isArray(value)) return '"array"';
  return String(value);
}

function fail(ctx: Ctx, path: string, reason: string, message: string): void {
  ctx.causes.push({ reason, message, field: path });
}

function invalid(ctx: Ctx, path: string, value: unknown, detail: string): void {
  fail(ctx, path, 'FieldValueInvalid', `Invalid value: ${show(value)}: ${path} in body ${detail}`);
}

function typeOk(type: string, value: unknown): boolean {
  switch (type) {
    case 'object':
      return isRecord(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return true;
  }
}

function checkType(schema: JsonSchema, value: unknown, path: string, ctx: Ctx): boolean {
  if (schema['x-kubernetes-int-or-string']) {
    if (typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value))) return true;
    fail(
      ctx,
      path,
      'FieldValueTypeInvalid',
      `Invalid value: ${show(value)}: ${path} in body must be of type integer,string: ${show(value)}`,
    );
    return false;
  }
  if (!schema.type || typeOk(schema.type, value)) return true;
  const got = Array.isArray(value) ? 'array' : isRecord(value) ? 'object' : typeof value;
  fail(
    ctx,
    path,
    'FieldValueTypeInvalid',
    `Invalid value: ${show(value)}: ${path} in body must be of type ${schema.type}: ${show(got)}`,
  );
  return false;
}

function checkNumber(schema: JsonSchema, value: number, path: string, ctx: Ctx): void {
  if (schema.minimum !== undefined && (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum)) {
    invalid(
      ctx,
      path,
      value,
      `should be greater than ${schema.exclusiveMinimum ? '' : 'or equal to '}${schema.minimum}`,
    );
  }
  if (schema.maximum !== undefined && (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum)) {
    invalid(ctx, path, value, `should be less than ${schema.exclusiveMaximum ? '' : 'or equal to '}${schema.maximum}`);
  }
  if (
    schema.multipleOf !== undefined &&
    Math.abs(value / schema.multipleOf - Math.round(value / schema.multipleOf)) > 1e-9
  ) {
    invalid(ctx, path, value, `should be a multiple of ${schema.multipleOf}`);
  }
}

function checkString(schema: JsonSchema, value: string, path: string, ctx: Ctx): void {
  const length = [...value].length;
  if (schema.maxLength !== undefined && length > schema.maxLength)
    fail(ctx, path, 'FieldValueTooLong', `Too long: may not be more than ${schema.maxLength} bytes`);
  if (schema.minLength !== undefined && length < schema.minLength)
    invalid(ctx, path, value, `should be at least ${schema.minLength} chars long`);
  if (schema.pattern !== undefined && !safeRegExp(schema.pattern).test(value))
    invalid(ctx, path, value, `should match '${schema.pattern}'`);
}

const regexCache = new Map<string, RegExp>();
function safeRegExp(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    try {
      re = new RegExp(pattern, 'u');
    } catch {
      re = /(?:)/;
    }
    regexCache.set(pattern, re);
  }
  return re;
}

function propertySchema(schema: JsonSchema, key: string): JsonSchema | undefined | true {
  const known = schema.properties?.[key];
  if (known) return known;
  if (isRecord(schema.additionalProperties)) return schema.additionalProperties;
  if (schema.additionalProperties === true || schema['x-kubernetes-preserve-unknown-fields']) return true;
  return undefined;
}

const EMBEDDED_KEYS = new Set(['apiVersion', 'kind', 'metadata']);

function childPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Keeps the fields the schema knows (validated), drops the rest (reported as unknown). */
function pruneAndWalk(
  schema: JsonSchema,
  value: Record<string, unknown>,
  path: string,
  ctx: Ctx,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  for (const [key, child] of Object.entries(value)) {
    const sub = propertySchema(schema, key);
    if (sub === true || (embedded && EMBEDDED_KEYS.has(key))) out[key] = child;
    else if (sub) out[key] = walk(sub, child, childPath(path, key), ctx);
    else if (!ctx.probe) ctx.unknown.push(childPath(path, key));
  }
  return out;
}

function applyDefaults(schema: JsonSchema, out: Record<string, unknown>, path: string, ctx: Ctx): void {
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    if (out[key] === undefined && sub.default !== undefined)
      out[key] = walk(sub, clone(sub.default), childPath(path, key), ctx);
  }
}

function objectBounds(schema: JsonSchema, out: Record<string, unknown>, path: string, ctx: Ctx): void {
  for (const key of schema.required ?? [])
    if (out[key] === undefined) fail(ctx, childPath(path, key), 'FieldValueRequired', 'Required value');
  const count = Object.keys(out).length;
  if (schema.maxProperties !== undefined && count > schema.maxProperties)
    fail(ctx, path, 'FieldValueTooMany', `Too many: ${count}: must have at most ${schema.maxProperties} items`);
  if (schema.minProperties !== undefined && count < schema.minProperties)
    invalid(ctx, path, count, `should have at least ${schema.minProperties} properties`);
}

function walkObject(
  schema: JsonSchema,
  value: Record<string, unknown>,
  path: string,
  ctx: Ctx,
): Record<string, unknown> {
  const out = pruneAndWalk(schema, value, path, ctx);
  applyDefaults(schema, out, path, ctx);
  objectBounds(schema, out, path, ctx);
  return out;
}

function walkArray(schema: JsonSchema, value: unknown[], path: string, ctx: Ctx): unknown[] {
  const items = schema.items;
  const out = items ? value.map((v, i) => walk(items, v, `${path}[${i}]`, ctx)) : value;
  if (schema.maxItems !== undefined && out.length > schema.maxItems)
    fail(ctx, path, 'FieldValueTooMany', `Too many: ${out.length}: must have at most ${schema.maxItems} items`);
  if (schema.minItems !== undefined && out.length < schema.minItems)
    invalid(ctx, path, out.length, `should have at least ${schema.minItems} items`);
  return out;
}

function countValid(schemas: JsonSchema[], value: unknown, path: string): number {
  return schemas.filter((s) => {
    const probe: Ctx = { causes: [], unknown: [], probe: true };
    walk(s, clone(value), path, probe);
    return probe.causes.length === 0;
  }).length;
}

function checkCombinators(schema: JsonSchema, value: unknown, path: string, ctx: Ctx): void {
  for (const s of schema.allOf ?? []) walk(s, clone(value), path, { ...ctx, unknown: [], probe: true });
  if (schema.anyOf && countValid(schema.anyOf, value, path) === 0)
    invalid(ctx, path, value, 'must validate at least one schema (anyOf)');
  if (schema.oneOf) {
    const n = countValid(schema.oneOf, value, path);
    if (n !== 1)
      invalid(
        ctx,
        path,
        value,
        `must validate one and only one schema (oneOf). Found ${n === 0 ? 'none' : n} valid alternatives`,
      );
  }
  if (schema.not && countValid([schema.not], value, path) === 1)
    invalid(ctx, path, value, 'must not validate the schema (not)');
}

function checkScalar(schema: JsonSchema, value: unknown, path: string, ctx: Ctx): void {
  if (schema.enum && !schema.enum.some((e) => jsonEqual(e, value))) {
    fail(
      ctx,
      path,
      'FieldValueNotSupported',
      `Unsupported value: ${show(value)}: supported values: ${schema.enum.map(show).join(', ')}`,
    );
  }
  checkCombinators(schema, value, path, ctx);
  if (typeof value === 'number') checkNumber(schema, value, path, ctx);
  if (typeof value === 'string') checkString(schema, value, path, ctx);
}

/** An object whose fields are free (preserve-unknown-fields without properties) is kept as it is. */
function isFreeForm(schema: JsonSchema): boolean {
  return (
    schema['x-kubernetes-preserve-unknown-fields'] === true &&
    !schema.properties &&
    schema.additionalProperties === undefined
  );
}

function walk(schema: JsonSchema, value: unknown, path: string, ctx: Ctx): unknown {
  if (value === null) {
    if (!schema.nullable && schema.type)
      fail(
        ctx,
        path,
        'FieldValueTypeInvalid',
        `Invalid value: "null": ${path} in body must be of type ${schema.type}: "null"`,
      );
    return value;
  }
  if (!checkType(schema, value, path, ctx)) return value;
  checkScalar(schema, value, path, ctx);
  if (Array.isArray(value)) return walkArray(schema, value, path, ctx);
  if (isRecord(value) && !isFreeForm(schema)) return walkObject(schema, value, path, ctx);
  return value;
}

/** Prunes, defaults and validates a custom resource against its version's openAPIV3Schema. */
export function validateAgainstSchema(schema: JsonSchema, object: Record<string, unknown>): SchemaResult {
  const ctx: Ctx = { causes: [], unknown: [], probe: false };
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(object)) if (!EMBEDDED_KEYS.has(k)) body[k] = v;
  const walked = walk({ ...schema, type: 'object' }, body, '', ctx) as Record<string, unknown>;
  const value = { apiVersion: object.apiVersion, kind: object.kind, metadata: object.metadata, ...walked };
  return { value, causes: ctx.causes, unknown: ctx.unknown };
}
