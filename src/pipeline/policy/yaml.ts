import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type Document,
  type Node,
  type Pair,
  type YAMLMap,
  visit,
} from 'yaml';
import { displayNameOf, readCapped, type InputKind } from './read.js';
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

/**
 * Parses every document of a YAML text (JSON is YAML), keeping source positions. Merge keys
 * (`<<: *defaults`) are resolved as kubectl does. Duplicate keys are found here in one pass (the
 * yaml package's own check compares every key with every other: 44 s for 64k keys).
 */
export function parseSource(text: string, file: string): SourceFile {
  const lineCounter = new LineCounter();
  const lineOfOffset = (offset: number) => lineCounter.linePos(offset).line;
  const result: SourceFile = { file, documents: [], errors: [] };
  for (const doc of parseAllDocuments(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: false,
    merge: true,
  }) as Document[]) {
    const read = readDocument(doc, file, lineOfOffset);
    if ('errors' in read) {
      result.errors.push(...read.errors);
      continue;
    }
    const raw = read.raw;
    if (raw === null || raw === undefined) continue;
    const index = new KeyIndex();
    result.documents.push({
      raw,
      line: lineOfOffset(doc.contents?.range?.[0] ?? 0),
      lineOf: (path) => lineOfOffset(offsetOf(doc, path, index)),
    });
  }
  return result;
}

/** A parsed document's data, or its errors (syntax, duplicate keys, aliases) as `FILE:LINE: (yaml): …` lines. */
function readDocument(
  doc: Document,
  file: string,
  lineOfOffset: (offset: number) => number,
): { raw: unknown } | { errors: string[] } {
  const duplicates = duplicateKeys(doc.contents).map(
    ({ key, offset, first }) =>
      `${file}:${lineOfOffset(offset)}: (yaml): duplicate key ${JSON.stringify(key)} (first at line ` +
      `${lineOfOffset(first)})`,
  );
  if (doc.errors.length > 0 || duplicates.length > 0) {
    const syntax = doc.errors.map(
      (error) => `${file}:${lineOfOffset(error.pos[0])}: (yaml): ${error.message.split('\n')[0]}`,
    );
    return { errors: [...syntax, ...duplicates] };
  }
  const value = valueOf(doc);
  if ('error' in value)
    return { errors: [`${file}:${lineOfOffset(doc.contents?.range?.[0] ?? 0)}: (yaml): ${value.error}`] };
  return value;
}

/**
 * The document as plain data, or why not: an alias with no anchor before it, more aliases than a
 * policy needs (an alias bomb, "billion laughs") or a merge key of a non-map are errors of the
 * input, never a crash.
 */
function valueOf(doc: Document): { raw: unknown } | { error: string } {
  // the yaml package finds each alias's anchor by a scan of the document: aliases × size; a policy
  // needs a few, so more than MAX_ALIASES are refused before they are resolved (linear time)
  let aliases = 0;
  visit(doc, { Alias: () => (++aliases > MAX_ALIASES ? visit.BREAK : undefined) });
  if (aliases > MAX_ALIASES) return { error: `more than ${MAX_ALIASES} aliases in one document: refused` };
  try {
    return { raw: doc.toJS({ maxAliasCount: 100 }) as unknown };
  } catch (error) {
    // every failure of toJS on a parsed document is the input's: aliases, merge keys (`<<: 1`)
    if (!(error instanceof Error)) throw error;
    const message = error.message.split('\n')[0] ?? '';
    return {
      error: /Excessive alias count/.test(message) ? 'the aliases expand too far (an alias bomb): refused' : message,
    };
  }
}

/** Aliases (`*name`) one document may hold. */
export const MAX_ALIASES = 100;

interface DuplicateKey {
  key: string;
  offset: number;
  first: number;
}

/** Every key that repeats in its map, at any depth: one Set per map, so linear in the document's size. */
function duplicateKeys(root: unknown): DuplicateKey[] {
  const found: DuplicateKey[] = [];
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const node = pending.pop();
    if (isSeq(node)) pending.push(...node.items);
    if (!isMap(node)) continue;
    const seen = new Map<string, number>();
    for (const pair of node.items) {
      pending.push(pair.value);
      const key = isScalar(pair.key) && typeof pair.key.value !== 'symbol' ? String(pair.key.value) : undefined;
      const offset = startOf(pair.key);
      if (key === undefined || offset === undefined) continue;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, offset);
      else found.push({ key, offset, first });
    }
  }
  return found.sort((a, b) => a.offset - b.offset);
}

/** Reads a file (or stdin for `-`) within its kind's size cap and parses it. */
export async function readSource(
  file: string,
  displayName = displayNameOf(file),
  kind: InputKind = 'policy',
): Promise<SourceFile> {
  const read = await readCapped(file, kind);
  if ('error' in read)
    return { file: displayName, documents: [], errors: [read.error.replace(displayNameOf(file), displayName)] };
  return parseSource(read.text, displayName);
}

/** The one document of a file (a snapshot, a test file), or the error lines that say why not. */
export async function readOneDocument(
  file: string,
  what: string,
  kind: InputKind = what === 'test' ? 'test' : 'snapshot',
): Promise<{ doc: SourceDocument } | { errors: string[] }> {
  const source = await readSource(file, displayNameOf(file), kind);
  if (source.errors.length > 0) return { errors: source.errors };
  const [doc, ...more] = source.documents;
  if (doc && more.length === 0) return { doc };
  return { errors: [`${source.file}: expected exactly one ${what} document, found ${source.documents.length}`] };
}

/** `FILE:LINE: PATH: MESSAGE`, in line order. */
export function issueLines(file: string, doc: SourceDocument, issues: readonly PolicyIssue[]): string[] {
  return issues
    .map((issue) => ({ line: doc.lineOf(issue.path), issue }))
    .sort((a, b) => a.line - b.line)
    .map(({ line, issue }) => `${file}:${line}: ${formatPath(issue.path)}: ${issue.message}`);
}

/** The source offset of the deepest node on the path: the key itself for a map entry. */
function offsetOf(doc: Document, path: readonly (string | number)[], index: KeyIndex): number {
  let at: Located | null = { node: doc.contents, offset: doc.contents?.range?.[0] ?? 0 };
  let offset = at.offset;
  for (const part of path) {
    at = childOf(at.node, part, index);
    if (!at) break;
    offset = at.offset;
  }
  return offset;
}

type Located = { node: Node | null; offset: number };

/** The pairs of each map by key, built on first use: a file with 64k errors finds each line in constant time. */
class KeyIndex {
  private readonly byMap = new WeakMap<object, Map<unknown, Pair>>();

  pair(map: YAMLMap, key: string | number): Pair | undefined {
    let pairs = this.byMap.get(map);
    if (!pairs) {
      pairs = new Map();
      for (const item of map.items) {
        const value = (item.key as { value?: unknown } | null)?.value;
        if (!pairs.has(value)) pairs.set(value, item);
      }
      this.byMap.set(map, pairs);
    }
    return pairs.get(key);
  }
}

function childOf(node: Node | null, part: string | number, index: KeyIndex): Located | null {
  if (isMap(node)) {
    const pair = index.pair(node, part);
    return pair ? located(pair.value as Node | null, startOf(pair.key)) : null;
  }
  if (isSeq(node) && typeof part === 'number') {
    const item = (node.items[part] ?? null) as Node | null;
    return item ? located(item, startOf(item)) : null;
  }
  return null;
}

const startOf = (node: unknown): number | undefined => (node as Node | null)?.range?.[0];
const located = (node: Node | null, offset: number | undefined): Located | null =>
  offset === undefined ? null : { node, offset };
