import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Api } from './api.js';
import { crdToType } from './crds.js';
import type { GroupResource } from './registry.js';
import type { KObject } from './types.js';

interface Snapshot {
  version: 1;
  resourceVersion: number;
  objects: Array<{ gr: GroupResource; object: KObject }>;
}

/** Writes every object and the resourceVersion to FILE (atomically: temp file, then rename). */
export async function saveState(api: Api, path: string): Promise<void> {
  const snapshot: Snapshot = { version: 1, resourceVersion: api.store.resourceVersion, objects: api.store.dump() };
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, JSON.stringify(snapshot), { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** Loads a snapshot written by saveState into a fresh sandbox; false when FILE does not exist. */
export async function loadState(api: Api, path: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const snapshot = JSON.parse(text) as Snapshot;
  if (snapshot.version !== 1 || !Array.isArray(snapshot.objects)) throw new Error(`${path}: not a sandbox state file`);
  // the snapshot's objects replace those of the same name (the initial namespaces)
  api.store.load(snapshot.objects, snapshot.resourceVersion);
  for (const { object } of snapshot.objects.filter((e) => e.gr === 'apiextensions.k8s.io/customresourcedefinitions')) {
    api.registry.add(crdToType(object));
  }
  return true;
}
