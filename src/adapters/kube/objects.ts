import type { CustomObjectsApi, V1ObjectMeta } from '@kubernetes/client-node';
import { isConflict, orMissing } from './errors.js';

export const CONFLICT_ATTEMPTS = 3;

/**
 * Read, change and write with the read's resourceVersion; on 409 (someone wrote in between) read
 * again, a few times. `change` returns undefined when there is nothing to write. Returns the object
 * as it then stands: the API server's answer to the write, or the read when nothing was written.
 */
export async function readModifyWrite<R, W, S>(
  read: () => Promise<R>,
  change: (current: R) => W | undefined,
  write: (next: W) => Promise<S>,
): Promise<R | S> {
  for (let attempt = 1; ; attempt++) {
    const current = await read();
    const next = change(current);
    if (next === undefined) return current;
    try {
      return await write(next);
    } catch (error) {
      if (!isConflict(error) || attempt >= CONFLICT_ATTEMPTS) throw error;
    }
  }
}

/** A namespaced custom resource type. */
export interface CustomKind {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

/** A custom object as read: metadata plus whatever the CRD holds, kept whole on write. */
export interface CustomObject<Spec> {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec?: Spec;
  [field: string]: unknown;
}

/** get / replace of one custom object by name, in one namespace. */
export class CustomObjects<Spec> {
  constructor(
    private readonly api: CustomObjectsApi,
    readonly type: CustomKind,
    readonly namespace: string,
  ) {}

  async get(name: string): Promise<CustomObject<Spec> | undefined> {
    const { group, version, plural } = this.type;
    return orMissing(
      this.api.getNamespacedCustomObject({ group, version, plural, namespace: this.namespace, name }) as Promise<
        CustomObject<Spec>
      >,
    );
  }

  async replace(object: CustomObject<Spec>): Promise<CustomObject<Spec>> {
    const { group, version, plural } = this.type;
    const name = object.metadata.name ?? '';
    return this.api.replaceNamespacedCustomObject({
      group,
      version,
      plural,
      namespace: this.namespace,
      name,
      body: object,
    }) as Promise<CustomObject<Spec>>;
  }
}

/** A deep copy of plain JSON data (what the API server returns). */
export function copyJson<T>(value: T): T {
  return structuredClone(value);
}

/** Equal as JSON, whatever the order of object keys. */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortedKeys(a)) === JSON.stringify(sortedKeys(b));
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortedKeys(v)]));
}
