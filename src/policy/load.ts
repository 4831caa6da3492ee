import { readFile } from 'node:fs/promises';
import { isMap, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import { rolloutPolicySchema, type RolloutPolicy, API_VERSION } from './schema.js';
import { semanticIssues } from './semantic.js';
import { fromZodIssues, formatPath, type PolicyIssue } from './issues.js';

export interface LoadedPolicy {
  policy: RolloutPolicy;
  file: string;
  line: number;
}

export interface LoadResult {
  policies: LoadedPolicy[];
  /** One line per problem: `FILE:LINE: PATH: MESSAGE`. */
  errors: string[];
}

/** Parses a policy object (from a file or the API) into a RolloutPolicy, or every issue it has. */
export function parsePolicy(raw: unknown): { policy: RolloutPolicy; issues: [] } | { policy: null; issues: PolicyIssue[] } {
  const parsed = rolloutPolicySchema.safeParse(raw, { reportInput: true });
  const spec = typeof raw === 'object' && raw !== null ? (raw as { spec?: unknown }).spec : undefined;
  const issues = [...(parsed.success ? [] : fromZodIssues(parsed.error.issues)), ...semanticIssues(spec)];
  if (parsed.success && issues.length === 0) return { policy: parsed.data, issues: [] };
  return { policy: null, issues: dedupe(issues) };
}

function dedupe(issues: PolicyIssue[]): PolicyIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${formatPath(issue.path)}\u0000${issue.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** Loads every RolloutPolicy of a multi-document YAML text; documents of other API groups are skipped. */
export function loadPolicies(text: string, file: string): LoadResult {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const result: LoadResult = { policies: [], errors: [] };
  const lineOf = (offset: number) => lineCounter.linePos(offset).line;
  for (const doc of Array.isArray(documents) ? documents : []) {
    if (doc.errors.length > 0) {
      for (const error of doc.errors) result.errors.push(`${file}:${lineOf(error.pos[0])}: (yaml): ${error.message.split('\n')[0]}`);
      continue;
    }
    const raw: unknown = doc.toJS({ maxAliasCount: 100 });
    if (raw === null || raw === undefined || !isPolicyDocument(raw)) continue;
    const line = lineOf(doc.contents?.range[0] ?? 0);
    const { policy, issues } = parsePolicy(raw);
    if (policy) result.policies.push({ policy, file, line });
    const located = issues.map((issue) => ({ line: lineOf(offsetOf(doc, issue.path)), issue }));
    located.sort((a, b) => a.line - b.line);
    for (const { line: at, issue } of located) result.errors.push(`${file}:${at}: ${formatPath(issue.path)}: ${issue.message}`);
  }
  return result;
}

/** A document is ours unless it names another API group; a document with no apiVersion is ours (and an error). */
function isPolicyDocument(raw: unknown): boolean {
  if (typeof raw !== 'object' || Array.isArray(raw)) return true;
  const apiVersion = (raw as { apiVersion?: unknown }).apiVersion;
  return typeof apiVersion !== 'string' || apiVersion.split('/')[0] === API_VERSION.split('/')[0];
}

/** The source offset of the deepest node on the path: the key itself for a map entry. */
function offsetOf(doc: Document, path: readonly (string | number)[]): number {
  let at: { node: Node | null; offset: number } | null = { node: doc.contents, offset: doc.contents?.range?.[0] ?? 0 };
  let offset = at.offset;
  for (const part of path) {
    at = childOf(at.node, part);
    if (!at) break;
    offset = at.offset;
  }
  return offset;
}

function childOf(node: Node | null, part: string | number): { node: Node | null; offset: number } | null {
  if (isMap(node)) {
    const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === part);
    return pair ? located(pair.value as Node | null, startOf(pair.key)) : null;
  }
  if (isSeq(node) && typeof part === 'number') {
    const item = (node.items[part] ?? null) as Node | null;
    return item ? located(item, startOf(item)) : null;
  }
  return null;
}

const startOf = (node: unknown): number | undefined => (node as Node | null)?.range?.[0];
const located = (node: Node | null, offset: number | undefined) => (offset === undefined ? null : { node, offset });

export async function loadPolicyFile(file: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { policies: [], errors: [`${file}:0: (file): cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`] };
  }
  return loadPolicies(text, file);
}
