import type { CelRule } from './cel.js';
import type { JsonSchema } from './schema-validate.js';
import type { KObject } from './types.js';

/** Where a resource keeps the replica numbers its `/scale` subresource shows. */
export interface ScalePaths {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

/** One resource the sandbox serves (a built-in, or one registered by a CRD). */
export interface ResourceType {
  group: string;
  versions: string[];
  resource: string;
  kind: string;
  listKind: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Has a `/status` subresource: main writes ignore status, status writes change only status. */
  status: boolean;
  scale?: ScalePaths;
  /** `metadata.generation` counts spec changes. */
  generation: boolean;
  /** A PUT of a missing object creates it (events, leases). */
  createOnUpdate: boolean;
  /** A built-in kind: strategic merge patch allowed. */
  builtin: boolean;
  /** Virtual resources (reviews) are created and answered, never stored. */
  virtual: boolean;
  /** openAPIV3Schema per version (CRDs). */
  schemas: Map<string, JsonSchema>;
  printerColumns: Map<string, PrinterColumn[]>;
  /** x-kubernetes-validations (CEL) per version (CRDs). */
  validations?: Map<string, CelRule[]>;
  /** The CRD that defined it. */
  crdName?: string;
  /** Stored with another resource (events.k8s.io Events are core Events), converted by `codec`. */
  storage?: GroupResource;
  codec?: { toStorage(object: KObject): KObject; fromStorage(object: KObject, version?: string): KObject };
}

export type GroupResource = `${string}/${string}`;

export function groupResource(t: { group: string; resource: string }): GroupResource {
  return `${t.group}/${t.resource}`;
}

/** Where a type's objects are stored: its own group/resource, or the one it shares. */
export function storageKey(t: ResourceType): GroupResource {
  return t.storage ?? groupResource(t);
}

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function verbsOf(t: ResourceType): string[] {
  return t.virtual ? ['create'] : ALL_VERBS;
}

/** The resource types served, by group/resource, with lookups by version and kind. */
export class Registry {
  private readonly types = new Map<GroupResource, ResourceType>();

  add(type: ResourceType): void {
    this.types.set(groupResource(type), type);
  }

  remove(group: string, resource: string): ResourceType | undefined {
    const key: GroupResource = `${group}/${resource}`;
    const type = this.types.get(key);
    this.types.delete(key);
    return type;
  }

  get(group: string, resource: string): ResourceType | undefined {
    return this.types.get(`${group}/${resource}`);
  }

  /** The type served at GROUP/VERSION/RESOURCE, if that version is served. */
  lookup(group: string, version: string, resource: string): ResourceType | undefined {
    const type = this.get(group, resource);
    return type?.versions.includes(version) ? type : undefined;
  }

  byKind(group: string, kind: string): ResourceType | undefined {
    for (const type of this.types.values()) if (type.group === group && type.kind === kind) return type;
    return undefined;
  }

  all(): ResourceType[] {
    return [...this.types.values()];
  }

  /** Served groups with their versions, newest-registered version first as the preferred one. */
  groups(): Map<string, string[]> {
    const groups = new Map<string, string[]>();
    for (const type of this.types.values()) {
      const versions = groups.get(type.group) ?? [];
      for (const v of type.versions) if (!versions.includes(v)) versions.push(v);
      groups.set(type.group, versions);
    }
    return groups;
  }

  inGroupVersion(group: string, version: string): ResourceType[] {
    return this.all().filter((t) => t.group === group && t.versions.includes(version));
  }
}
