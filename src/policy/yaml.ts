import { readFile } from 'node:fs/promises';
import { isMap, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import { formatPath, type PolicyIssue } from './issues.js';

/** One YAML (or JSON) document with a way back from a path to its line. */
export interface SourceDocument {
  raw: unknown;
  line: number;
  lineOf(path: readonly (string | number)[]): number;
}

export interface SourceFile {
  file: string;
  documents: SourceDocument[];
  /** Syntax errors and unreadable files, as `FILE:LINE: (yaml): MESSAGE` lines. */
  errors: string[];
}

/** Parses every document of a YAML text (JSON is YAML), keeping source positions. */
export function parseSource(text: string, file: string): SourceFile {
  const lineCounter = new LineCounter();
  const lineOfOffset = (offset: number) => lineCounter.linePos(offset).line;
  const result: SourceFile = { file, documents: [], errors: [] };
  for (const doc of parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true }) as Document[]) {
    if (doc.errors.length > 0) {
      for (const error of doc.errors) result.errors.push(`${file}:${lineOfOffset(error.pos[0])}: (yaml): ${error.message.split('\n')[0]}`);
      continue;
    }
    const raw: unknown = doc.toJS({ maxAliasCount: 100 });
    if (raw === null || raw === undefined) continue;
    result.documents.push({ raw, line: lineOfOffset(doc.contents?.range?.[0] ?? 0), lineOf: (path) => lineOfOffset(offsetOf(doc, path)) });
  }
  return result;
}

export async function readSource(file: string, displayName = file): Promise<SourceFile> {
  try {
    return parseSource(await readFile(file, 'utf8'), displayName);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    return { file: displayName, documents: [], errors: [`${displayName}:0: (file): cannot read: ${reason}`] };
  }
}

/** The one document of a file (a snapshot, a test file), or the error lines that say why not. */
export async function readOneDocument(file: string, what: string): Promise<{ doc: SourceDocument } | { errors: string[] }> {
  const source = await readSource(file);
  if (source.errors.length > 0) return { errors: source.errors };
  const [doc, ...more] = source.documents;
  return doc && more.length === 0 ? { doc } : { errors: [`${file}:0: (file): expected exactly one ${what} document`] };
}

/** `FILE:LINE: PATH: MESSAGE`, in line order. */
export function issueLines(file: string, doc: SourceDocument, issues: readonly PolicyIssue[]): string[] {
  return issues
    .map((issue) => ({ line: doc.lineOf(issue.path), issue }))
    .sort((a, b) => a.line - b.line)
    .map(({ line, issue }) => `${file}:${line}: ${formatPath(issue.path)}: ${issue.message}`);
}

/** The source offset of the deepest node on the path: the key itself for a map entry. */
function offsetOf(doc: Document, path: readonly (string | number)[]): number {
  let at: Located | null = { node: doc.contents, offset: doc.contents?.range?.[0] ?? 0 };
  let offset = at.offset;
  for (const part of path) {
    at = childOf(at.node, part);
    if (!at) break;
    offset = at.offset;
  }
  return offset;
}

type Located = { node: Node | null; offset: number };

function childOf(node: Node | null, part: string | number): Located | null {
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
const located = (node: Node | null, offset: number | undefined): Located | null => (offset === undefined ? null : { node, offset });
