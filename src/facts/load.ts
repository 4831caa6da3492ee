import { displayNameOf } from '../policy/read.js';
import { issueLines, readOneDocument } from '../policy/yaml.js';
import { parseSnapshot } from './snapshot.js';

/** A snapshot file (one JSON or YAML document), validated, or its error lines. */
export async function loadSnapshotFile(file: string): Promise<{ snapshot: unknown } | { errors: string[] }> {
  const read = await readOneDocument(file, 'snapshot');
  if ('errors' in read) return read;
  const parsed = parseSnapshot(read.doc.raw);
  return parsed.snapshot ? { snapshot: read.doc.raw } : { errors: issueLines(displayNameOf(file), read.doc, parsed.issues) };
}
