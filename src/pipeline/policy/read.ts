import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/** `-` names standard input, for every command that reads a file. */
export const STDIN = '-';

/**
 * Size caps on what is read (the API server's limits as a guide: it takes requests up to
 * 1.5 MiB, and a ConfigMap holds at most 1 MiB). A policy no cluster would accept is refused
 * offline too; snapshots and test files get the ConfigMap's limit. docs/policy.md lists them.
 */
export const MAX_BYTES = {
  policy: 1.5 * 1024 * 1024,
  snapshot: 1024 * 1024,
  test: 1024 * 1024,
} as const;
export type InputKind = keyof typeof MAX_BYTES;

/** The name a file goes by in messages: standard input is `(stdin)`. */
export const displayNameOf = (file: string): string => (file === STDIN ? '(stdin)' : file);

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the name is too long',
};

/** A read error in words: `no such file`, not `ENOENT`. */
export function readErrorInWords(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && REASONS[code]) return REASONS[code];
  return (error as Error).message || String(error);
}

const human = (bytes: number): string => `${Math.round((bytes / 1024 / 1024) * 100) / 100} MiB`;

/** The text of a file (or stdin for `-`), read no further than the cap; or one line saying why not. */
export async function readCapped(
  file: string,
  kind: InputKind,
  stdin: Readable = process.stdin,
): Promise<{ text: string } | { error: string }> {
  const maxBytes = MAX_BYTES[kind];
  const tooLarge = `${displayNameOf(file)}: too large: over the ${human(maxBytes)} limit for a ${kind} file`;
  try {
    const bytes = file === STDIN ? await readStream(stdin, maxBytes) : await readFileCapped(file, maxBytes);
    return bytes ? { text: bytes.toString('utf8') } : { error: tooLarge };
  } catch (error) {
    return { error: `${displayNameOf(file)}: cannot read: ${readErrorInWords(error)}` };
  }
}

/** Reads at most maxBytes + 1 bytes: null when there are more (a device like /dev/zero never ends). */
async function readFileCapped(file: string, maxBytes: number): Promise<Buffer | null> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, size, buffer.length - size, null);
      if (bytesRead === 0) return buffer.subarray(0, size);
      size += bytesRead;
      if (size > maxBytes) return null;
    }
  } finally {
    await handle.close();
  }
}

async function readStream(stream: Readable, maxBytes: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.byteLength;
    if (size > maxBytes) {
      stream.destroy();
      return null;
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}
