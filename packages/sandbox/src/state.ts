import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Api } from './api.js';
import type { UserInfo } from './auth.js';
import type { ServingCerts } from './certs.js';
import { crdToType } from './crds.js';
import type { GroupResource } from './registry.js';
import { isRecord, type KObject } from './types.js';

/**
 * Who the sandbox is to its clients: its CA and serving certificate (with the key), the admin token and
 * the token users, and its port. A sandbox restarted from the same state is the same server to a client
 * that kept its kubeconfig, as a restarted API server is.
 */
export interface Identity {
  certs: ServingCerts;
  token: string;
  users: Array<{ token: string; user: UserInfo }>;
  port: number;
}

/** What the sandbox cannot start with (a state file that is not one, a port in use): the caller's input, not a bug. */
export class SandboxInputError extends Error {}

export interface Snapshot {
  version: 1;
  resourceVersion: number;
  objects: Array<{ gr: GroupResource; object: KObject }>;
  /** Absent in state files written before the identity was kept: such a sandbox starts with a new one. */
  identity?: Identity;
}

/**
 * Writes every object, the resourceVersion and the identity to FILE (atomically: temp file, then rename),
 * readable by its owner only (it holds the serving key and the tokens).
 */
export async function saveState(api: Api, path: string, identity: Identity): Promise<void> {
  const snapshot: Snapshot = {
    version: 1,
    resourceVersion: api.store.resourceVersion,
    objects: api.store.dump(),
    identity,
  };
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, JSON.stringify(snapshot), { mode: 0o600 });
  // a temp file left by an earlier run keeps its mode through writeFile
  await chmod(`${path}.tmp`, 0o600);
  await rename(`${path}.tmp`, path);
}

function isIdentity(value: unknown): value is Identity {
  if (!isRecord(value) || !isRecord(value.certs)) return false;
  const { caCert, cert, key } = value.certs;
  return (
    [caCert, cert, key, value.token].every((s) => typeof s === 'string' && s !== '') &&
    Array.isArray(value.users) &&
    typeof value.port === 'number'
  );
}

/** The snapshot in FILE, or undefined when FILE does not exist; an error naming FILE when it is not one. */
export async function readState(path: string): Promise<Snapshot | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let snapshot: Snapshot;
  try {
    snapshot = JSON.parse(text) as Snapshot;
  } catch {
    throw new SandboxInputError(`${path}: not a sandbox state file (not JSON)`);
  }
  if (snapshot.version !== 1 || !Array.isArray(snapshot.objects))
    throw new SandboxInputError(`${path}: not a sandbox state file`);
  if (snapshot.identity !== undefined && !isIdentity(snapshot.identity))
    throw new SandboxInputError(`${path}: identity: expected certs {caCert, cert, key}, token, users and port`);
  return snapshot;
}

/** Loads a snapshot's objects into a fresh sandbox. */
export function loadState(api: Api, snapshot: Snapshot): void {
  // the snapshot's objects replace those of the same name (the initial namespaces)
  api.store.load(snapshot.objects, snapshot.resourceVersion);
  for (const { object } of snapshot.objects.filter((e) => e.gr === 'apiextensions.k8s.io/customresourcedefinitions')) {
    api.registry.add(crdToType(object));
  }
}
