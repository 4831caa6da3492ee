import { issueLines, readSource } from '../policy/yaml.js';
import { parseSnapshot } from './snapshot.js';

/** A snapshot file (one JSON or YAML document), validated, or its error lines. */
export async function loadSnapshotFile(file: string): Promise<{ snapshot: unknown } | { errors: string[] }> {
  const source = await readSource(file);
  if (source.errors.length > 0) return { errors: source.errors };
  const [doc, ...more] = source.documents;
  if (!doc || more.length > 0) return { errors: [`${file}:0: (file): expected exactly one snapshot document`] };
  const parsed = parseSnapshot(doc.raw);
  return parsed.snapshot ? { snapshot: doc.raw } : { errors: issueLines(file, doc, parsed.issues) };
}
