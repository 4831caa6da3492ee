import { badRequest } from './status.js';
import { getPath, type KObject } from './types.js';

/** A parsed selector: every requirement must hold. */
export type Selector = (object: KObject) => boolean;

interface Requirement {
  key: string;
  op: 'in' | 'notin' | 'exists' | '!exists' | '=' | '!=';
  values: string[];
}

/** Splits on commas outside parentheses. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}

const SET_TERM = /^([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^)]*)\)$/;
const EQ_TERM = /^([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([A-Za-z0-9_.-]*)$/;
const KEY = /^(!?)([A-Za-z0-9_./-]+)$/;

function parseTerm(term: string): Requirement {
  const set = SET_TERM.exec(term);
  if (set) {
    const values = (set[3] ?? '')
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
    return { key: set[1] ?? '', op: set[2] as 'in' | 'notin', values };
  }
  const eq = EQ_TERM.exec(term);
  if (eq) return { key: eq[1] ?? '', op: eq[2] === '!=' ? '!=' : '=', values: [eq[3] ?? ''] };
  const key = KEY.exec(term);
  if (key) return { key: key[2] ?? '', op: key[1] ? '!exists' : 'exists', values: [] };
  throw badRequest(`unable to parse requirement: found '${term}', expected: identifier or operator`);
}

function holds(r: Requirement, value: string | undefined): boolean {
  switch (r.op) {
    case 'exists':
      return value !== undefined;
    case '!exists':
      return value === undefined;
    case '=':
      return value === r.values[0];
    case '!=':
      return value !== r.values[0];
    case 'in':
      return value !== undefined && r.values.includes(value);
    case 'notin':
      return value === undefined || !r.values.includes(value);
  }
}

/** `app=web,tier in (a,b),!canary` over metadata.labels. */
export function parseLabelSelector(text: string | null | undefined): Selector {
  if (!text) return () => true;
  const reqs = splitTerms(text).map(parseTerm);
  return (o) => reqs.every((r) => holds(r, o.metadata.labels?.[r.key]));
}

const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];
const INVOLVED = ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'];
/** The selectable fields per group/Kind, as the API server's field label conversion lists them. */
const KIND_FIELDS: Record<string, string[]> = {
  '/Pod': [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  '/Event': [...INVOLVED.map((f) => `involvedObject.${f}`), 'reason', 'reportingComponent', 'source', 'type'],
  'events.k8s.io/Event': [...INVOLVED.map((f) => `regarding.${f}`), 'reason', 'reportingController', 'type'],
  '/Secret': ['type'],
  '/Namespace': ['status.phase'],
};

/**
 * A field requirement `key=value` or `key!=value`; values may hold any character but `,` (apps/v1,
 * kubestead.io/controller).
 */
const FIELD_TERM = /^([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([^,]*)$/;

function parseFieldTerm(term: string): Requirement {
  const eq = FIELD_TERM.exec(term);
  if (!eq) throw badRequest(`invalid selector: '${term}'; can't understand '${term}'`);
  return { key: eq[1] ?? '', op: eq[2] === '!=' ? '!=' : '=', values: [eq[3] ?? ''] };
}

/** A field's value where it is not at its own path (`source` of a core Event is the reporting component). */
const FIELD_PATHS: Record<string, string> = { source: 'source.component' };

function fieldValue(o: KObject, key: string): string {
  const v = getPath(o, FIELD_PATHS[key] ?? key);
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

/** `metadata.name=x,metadata.namespace!=y`; only the fields the API server supports for the group and kind. */
export function parseFieldSelector(text: string | null | undefined, kind: string, group = ''): Selector {
  if (!text) return () => true;
  const allowed = [...COMMON_FIELDS, ...(KIND_FIELDS[`${group}/${kind}`] ?? [])];
  const reqs = splitTerms(text).map(parseFieldTerm);
  for (const r of reqs) {
    if (!allowed.includes(r.key)) throw badRequest(`field label not supported: ${r.key}`);
  }
  return (o) => reqs.every((r) => holds(r, fieldValue(o, r.key)));
}

/** A LabelSelector object (matchLabels + matchExpressions) as a predicate over labels. */
export function matchesLabelSelector(selector: unknown, labels: Record<string, string> | undefined): boolean {
  if (typeof selector !== 'object' || selector === null) return false;
  const s = selector as {
    matchLabels?: Record<string, string>;
    matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
  };
  const l = labels ?? {};
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of s.matchExpressions ?? []) {
    const op = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' }[e.operator] as
      Requirement['op'] | undefined;
    if (!op || !holds({ key: e.key, op, values: e.values ?? [] }, l[e.key])) return false;
  }
  return true;
}

/** The `a=b,c=d` string form of matchLabels (for /scale status.selector). */
export function selectorString(selector: unknown): string {
  if (typeof selector !== 'object' || selector === null) return '';
  const s = selector as {
    matchLabels?: Record<string, string>;
    matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
  };
  const terms = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of s.matchExpressions ?? []) {
    if (e.operator === 'Exists') terms.push(e.key);
    else if (e.operator === 'DoesNotExist') terms.push(`!${e.key}`);
    else terms.push(`${e.key} ${e.operator.toLowerCase()} (${(e.values ?? []).join(',')})`);
  }
  return terms.join(',');
}
