import { z } from 'zod';
import { DURATION_BOUNDS, formatDuration } from '../../pipeline/policy/duration.js';
import { rolloutPolicySchema } from '../../pipeline/policy/schema.js';
import { policyStatusSchema } from '../../pipeline/policy/status.js';

type Node = Record<string, unknown>;

/** One field of the policy as the reference shows it. */
export interface Field {
  /** `spec.steps[].weight`, `spec.providers.<name>.prometheus.address` */
  path: string;
  type: string;
  required: boolean;
  default?: unknown;
  bounds: string[];
  /** The description the schema carries (`.meta(doc(…))` in src/pipeline/policy): the one source of it. */
  description?: string;
  /** An example as a user writes it, from the schema too. */
  example?: string;
}

const SAFE_INTEGER = Number.MAX_SAFE_INTEGER;
const KNOWN_PATTERNS: Array<[RegExp, string]> = [
  [/ms\|s\|m\|h/, 'duration (`30s`, `5m`, `1h30m`, `250ms`)'],
  [/^\^\[a-z0-9\]\(\[-a-z0-9\]\*\[a-z0-9\]\)\?\(\\\./, 'DNS name (lower-case letters, digits, `-`, `.`)'],
  [/^\^\[a-z0-9\]\(\[-a-z0-9\]\*\[a-z0-9\]\)\?\$$/, 'DNS label (lower-case letters, digits, `-`)'],
  [/^\^\[A-Za-z_\]/, 'identifier'],
];

function stringType(node: Node): string {
  if (Array.isArray(node.enum)) return `one of ${node.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
  if (node.const !== undefined) return `\`${JSON.stringify(node.const).replace(/^"|"$/g, '')}\``;
  if (node.format === 'uri') return 'URL';
  const pattern = typeof node.pattern === 'string' ? node.pattern : undefined;
  if (pattern === undefined) return 'string';
  const known = KNOWN_PATTERNS.find(([test]) => test.test(pattern));
  return known ? known[1] : `string matching \`${pattern}\``;
}

const isSecretRef = (node: Node): boolean => {
  const keys = Object.keys((node.properties as Node | undefined) ?? {}).sort();
  return keys.length === 2 && keys[0] === 'key' && keys[1] === 'name';
};

const PLAIN_TYPES: Record<string, string> = { integer: 'integer', number: 'number', boolean: 'boolean', array: 'list' };

function unionType(union: Node[]): string {
  const types = union.map((branch) => (branch.type === 'null' ? 'null' : typeOf(branch)));
  return [...new Set(types)].join(' or ');
}

/** A node's type in words. */
export function typeOf(node: Node): string {
  const union = (node.anyOf ?? node.oneOf) as Node[] | undefined;
  if (union) return unionType(union);
  if ('$ref' in node) return 'condition (`all` / `any` / `not` of `{fact, path, operator, value}`)';
  if (node.type === 'string' || node.const !== undefined || node.enum !== undefined) return stringType(node);
  if (node.type === 'object')
    return isSecretRef(node) ? 'Secret reference `{name, key}` (in the policy namespace)' : 'object';
  const plain = typeof node.type === 'string' ? PLAIN_TYPES[node.type] : undefined;
  return plain ?? (typeof node.type === 'string' ? node.type : 'any');
}

const BOUND_WORDS: Record<string, (value: number) => string> = {
  minimum: (v) => `≥ ${v}`,
  exclusiveMinimum: (v) => `> ${v}`,
  maximum: (v) => `≤ ${v}`,
  exclusiveMaximum: (v) => `< ${v}`,
  minLength: (v) => `at least ${v} character${v === 1 ? '' : 's'}`,
  maxLength: (v) => `at most ${v} characters`,
  minItems: (v) => `at least ${v} item${v === 1 ? '' : 's'}`,
  maxItems: (v) => `at most ${v} items`,
  minProperties: (v) => `at least ${v} entries`,
  maxProperties: (v) => `at most ${v} entries`,
};

/** The bounds a node (or the non-null branch of a nullable union) declares, in words. */
export function boundsOf(node: Node): string[] {
  const union = (node.anyOf ?? node.oneOf) as Node[] | undefined;
  if (union) return union.flatMap(boundsOf);
  return Object.entries(BOUND_WORDS)
    .filter(([key]) => typeof node[key] === 'number' && !(key === 'maximum' && node[key] === SAFE_INTEGER))
    .map(([key, words]) => words(node[key] as number));
}

type Child = [path: string, node: Node, required: boolean];

function objectChildren(node: Node, path: string): Child[] {
  const required = new Set((node.required as string[] | undefined) ?? []);
  const properties = Object.entries((node.properties as Record<string, Node> | undefined) ?? {}).map(
    ([key, child]): Child => [`${path}.${key}`, child, required.has(key)],
  );
  const entry = node.additionalProperties as Node | undefined;
  const open = typeof entry === 'object' && Object.keys(entry).length > 0;
  return open ? [...properties, [`${path}.<name>`, entry, false]] : properties;
}

function children(node: Node, path: string): Child[] {
  const nonNull = ((node.anyOf ?? node.oneOf) as Node[] | undefined)?.filter((b) => b.type !== 'null');
  if (nonNull?.length === 1) return children(nonNull[0]!, path);
  if (node.type === 'array' && typeof node.items === 'object') return [[`${path}[]`, node.items as Node, true]];
  return node.type === 'object' && !isSecretRef(node) ? objectChildren(node, path) : [];
}

/** The range a duration field has (checked by a refinement, so not in the JSON schema), by its key. */
function durationBounds(path: string): string[] {
  const key = path.endsWith('.pause.duration') ? 'pause' : path.slice(path.lastIndexOf('.') + 1);
  const bounds = (DURATION_BOUNDS as Record<string, { min: number; max: number }>)[key];
  if (!bounds) return [];
  return [bounds.min === 0 ? '≥ 0s' : `≥ ${formatDuration(bounds.min)}`, `≤ ${formatDuration(bounds.max)}`];
}

function* walk(node: Node, path: string, required: boolean): Generator<Field> {
  const description = typeof node.description === 'string' ? { description: node.description } : {};
  const example = typeof node.example === 'string' ? { example: node.example } : {};
  yield {
    path,
    type: typeOf(node),
    required,
    ...description,
    ...example,
    ...('default' in node ? { default: node.default } : {}),
    bounds: typeOf(node).startsWith('duration') ? [...boundsOf(node), ...durationBounds(path)] : boundsOf(node),
  };
  for (const [childPath, child, childRequired] of children(node, path)) yield* walk(child, childPath, childRequired);
}

/** Every field of a RolloutPolicy a user writes, from the zod schema (input side). */
export function policyFields(): Field[] {
  const root = z.toJSONSchema(rolloutPolicySchema, { io: 'input', unrepresentable: 'any' }) as Node;
  const properties = root.properties as Record<string, Node>;
  const required = new Set(root.required as string[]);
  return Object.entries(properties)
    .filter(([key]) => key !== 'status')
    .flatMap(([key, node]) => [...walk(node, key, required.has(key))]);
}

/** Every field of a RolloutPolicy's status, which the controller writes (from its zod schema). */
export function statusFields(): Field[] {
  const root = z.toJSONSchema(policyStatusSchema, { io: 'output', unrepresentable: 'any' }) as Node;
  return [...walk(root, 'status', false)];
}

/** The first sentence of a description. */
const firstSentence = (text: string): string => /^.*?\.(?=\s|$)/.exec(text)?.[0] ?? text;

/** `  targetRef        The Deployment whose …`: the direct fields of `parent` (e.g. `spec`), for a command's help. */
export function fieldsHelp(parent: string): string {
  const depth = parent.split('.').length + 1;
  const fields = policyFields().filter(
    (f) => f.path.startsWith(`${parent}.`) && f.path.split('.').length === depth && !f.path.endsWith('[]'),
  );
  const width = Math.max(...fields.map((f) => f.path.length - parent.length - 1));
  return fields
    .map((f) => `  ${f.path.slice(parent.length + 1).padEnd(width)}  ${firstSentence(f.description ?? '')}`)
    .join('\n');
}
