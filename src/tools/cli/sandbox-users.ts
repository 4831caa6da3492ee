import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { parse } from 'yaml';
import { UsageError } from './usage-error.js';

/** One token user of `kubestead sandbox --rbac FILE`. */
export interface SandboxUser {
  token: string;
  user: { username: string; groups: string[] };
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function userAt(file: string, entry: unknown, index: number): SandboxUser {
  const where = `${file}: users[${index}]`;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    throw new UsageError(`${where} must be a mapping with name, groups and token`);
  const { name, groups = [], token } = entry as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') throw new UsageError(`${where}.name must be a non-empty string`);
  if (!isStringList(groups)) throw new UsageError(`${where}.groups must be a list of strings`);
  if (token !== undefined && (typeof token !== 'string' || token.length < 8))
    throw new UsageError(`${where}.token must be a string of at least 8 characters`);
  return {
    token: typeof token === 'string' ? token : randomBytes(24).toString('base64url'),
    user: { username: name, groups },
  };
}

/** Reads the users file: `users: [{name, groups?, token?}]` (YAML or JSON); a missing token is generated. */
export async function readSandboxUsers(file: string): Promise<SandboxUser[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--rbac: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new UsageError(`${file}: not YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
  const users = typeof doc === 'object' && doc !== null ? (doc as { users?: unknown }).users : undefined;
  if (!Array.isArray(users)) throw new UsageError(`${file}: expected a top-level "users:" list`);
  const read = users.map((entry, i) => userAt(file, entry, i));
  const names = read.map((u) => u.user.username);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new UsageError(`${file}: user ${JSON.stringify(dup)} is listed twice`);
  return read;
}
