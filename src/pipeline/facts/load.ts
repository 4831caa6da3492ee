import { displayNameOf } from '../policy/read.js';
import { issueLines, readOneDocument, type SourceDocument } from '../policy/yaml.js';
import { parseSnapshot } from './snapshot.js';

/**
 * A snapshot file (one JSON or YAML document; `-` for stdin), validated, with its document for line numbers; or its
 * error lines.
 */
export async function loadSnapshotFile(
  file: string,
): Promise<{ snapshot: unknown; doc: SourceDocument } | { errors: string[] }> {
  const read = await readOneDocument(file, 'snapshot');
  if ('errors' in read) return read;
  const parsed = parseSnapshot(read.doc.raw);
  return parsed.snapshot
    ? { snapshot: read.doc.raw, doc: read.doc }
    : { errors: issueLines(displayNameOf(file), read.doc, parsed.issues) };
}
