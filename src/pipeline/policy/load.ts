import { rolloutPolicySchema, type RolloutPolicy, API_VERSION } from './schema.js';
import { semanticIssues } from './semantic.js';
import { isObj } from './objects.js';
import { formatPath, fromZodIssues, type PolicyIssue } from './issues.js';
import { issueLines, parseSource, readSource, type SourceFile } from './yaml.js';

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
export function parsePolicy(
  raw: unknown,
): { policy: RolloutPolicy; issues: [] } | { policy: null; issues: PolicyIssue[] } {
  const parsed = rolloutPolicySchema.safeParse(raw, { reportInput: true });
  const spec = isObj(raw) ? raw.spec : undefined;
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

/** Every RolloutPolicy of a parsed file; documents of other API groups are skipped. */
export function policiesOf(source: SourceFile): LoadResult {
  const result: LoadResult = { policies: [], errors: [...source.errors] };
  for (const doc of source.documents) {
    if (!isPolicyDocument(doc.raw)) continue;
    const { policy, issues } = parsePolicy(doc.raw);
    if (policy) result.policies.push({ policy, file: source.file, line: doc.line });
    result.errors.push(...issueLines(source.file, doc, issues));
  }
  return result;
}

/** A document is ours unless it names another API group; a document with no apiVersion is ours (and an error). */
function isPolicyDocument(raw: unknown): boolean {
  if (!isObj(raw)) return true;
  const apiVersion = raw.apiVersion;
  return typeof apiVersion !== 'string' || apiVersion.split('/')[0] === API_VERSION.split('/')[0];
}

export function loadPolicies(text: string, file: string): LoadResult {
  return policiesOf(parseSource(text, file));
}

export async function loadPolicyFile(file: string, displayName = file): Promise<LoadResult> {
  return policiesOf(await readSource(file, displayName));
}
