import type { CoreV1Api, V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { describeApiError, isConflict, orMissing, statusCode } from './errors.js';
import { readModifyWrite } from './objects.js';

/** The two kinds a pod template reads its configuration from. */
export type ConfigObjectKind = 'ConfigMap' | 'Secret';
export type ConfigObject = V1ConfigMap | V1Secret;

interface Calls {
  read(namespace: string, name: string): Promise<ConfigObject>;
  create(namespace: string, body: ConfigObject): Promise<ConfigObject>;
  replace(namespace: string, name: string, body: ConfigObject): Promise<ConfigObject>;
  list(namespace: string, labelSelector: string): Promise<{ items: ConfigObject[] }>;
  remove(namespace: string, name: string, uid: string | undefined): Promise<unknown>;
}

const preconditions = (uid: string | undefined) => ({ preconditions: uid ? { uid } : undefined });

function callsOf(core: CoreV1Api, kind: ConfigObjectKind): Calls {
  if (kind === 'ConfigMap')
    return {
      read: (namespace, name) => core.readNamespacedConfigMap({ namespace, name }),
      create: (namespace, body) => core.createNamespacedConfigMap({ namespace, body }),
      replace: (namespace, name, body) => core.replaceNamespacedConfigMap({ namespace, name, body }),
      list: (namespace, labelSelector) => core.listNamespacedConfigMap({ namespace, labelSelector }),
      remove: (namespace, name, uid) => core.deleteNamespacedConfigMap({ namespace, name, body: preconditions(uid) }),
    };
  return {
    read: (namespace, name) => core.readNamespacedSecret({ namespace, name }),
    create: (namespace, body) => core.createNamespacedSecret({ namespace, body }),
    replace: (namespace, name, body) => core.replaceNamespacedSecret({ namespace, name, body }),
    list: (namespace, labelSelector) => core.listNamespacedSecret({ namespace, labelSelector }),
    remove: (namespace, name, uid) => core.deleteNamespacedSecret({ namespace, name, body: preconditions(uid) }),
  };
}

/**
 * A failed Secret write in one line naming the Secret and the HTTP status, never the API's answer
 * (which could echo data). 403 and 409 pass as they are: the tick reports a refusal by RBAC, and a
 * conflict is read again.
 */
function scrubbed(kind: ConfigObjectKind, what: string, error: unknown): unknown {
  const code = statusCode(error);
  if (kind !== 'Secret' || code === 403 || isConflict(error)) return error;
  return new Error(describeApiError(what, error));
}

/**
 * The ConfigMaps or Secrets of config tracking (docs/operating.md, "Config changes are canaried"):
 * the user's objects are only read; primary's copies are created, replaced, listed and deleted.
 */
export class ConfigObjects {
  private readonly calls: Calls;

  constructor(
    core: CoreV1Api,
    readonly kind: ConfigObjectKind,
  ) {
    this.calls = callsOf(core, kind);
  }

  read(namespace: string, name: string): Promise<ConfigObject | undefined> {
    return orMissing(this.calls.read(namespace, name));
  }

  /** Creates the object, or gives the one there `body`'s labels, owners and data (guarded by its resourceVersion). */
  async put(body: ConfigObject): Promise<ConfigObject> {
    const { namespace = '', name = '' } = body.metadata ?? {};
    try {
      return (await readModifyWrite(
        () => this.read(namespace, name),
        (current) => ({ ...body, metadata: { ...body.metadata, resourceVersion: current?.metadata?.resourceVersion } }),
        (next) =>
          next.metadata?.resourceVersion === undefined
            ? this.calls.create(namespace, next)
            : this.calls.replace(namespace, name, next),
      )) as ConfigObject;
    } catch (error) {
      throw scrubbed(this.kind, `writing ${this.kind} ${namespace}/${name}`, error);
    }
  }

  async list(namespace: string, labelSelector: string): Promise<ConfigObject[]> {
    return (await this.calls.list(namespace, labelSelector)).items;
  }

  /** Deletes one object, only the one with this uid (gone already is fine). */
  async delete(namespace: string, name: string, uid: string | undefined): Promise<void> {
    await orMissing(this.calls.remove(namespace, name, uid));
  }
}
