import { collectRules, type CelRule } from './cel.js';
import type { PrinterColumn, ResourceType, ScalePaths } from './registry.js';
import type { JsonSchema } from './schema-validate.js';
import type { StatusCause } from './status.js';
import { isRecord, type KObject } from './types.js';

interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema?: JsonSchema };
  subresources?: { status?: object; scale?: ScalePaths };
  additionalPrinterColumns?: PrinterColumn[];
}

interface CrdNames {
  plural: string;
  singular?: string;
  kind: string;
  listKind?: string;
  shortNames?: string[];
  categories?: string[];
}

interface CrdSpec {
  group: string;
  names: CrdNames;
  scope: 'Namespaced' | 'Cluster';
  versions: CrdVersion[];
}

function specOf(crd: KObject): CrdSpec {
  return crd.spec as CrdSpec;
}

const DNS = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function namesCauses(spec: Record<string, unknown>): StatusCause[] {
  const names = isRecord(spec.names) ? spec.names : {};
  const causes: StatusCause[] = [];
  const need = (ok: boolean, field: string, message = 'Required value'): void => {
    if (!ok)
      causes.push({
        reason: message === 'Required value' ? 'FieldValueRequired' : 'FieldValueInvalid',
        field,
        message,
      });
  };
  need(typeof names.plural === 'string' && names.plural !== '', 'spec.names.plural');
  need(typeof names.kind === 'string' && names.kind !== '', 'spec.names.kind');
  need(
    typeof names.plural !== 'string' || DNS.test(names.plural),
    'spec.names.plural',
    `Invalid value: ${JSON.stringify(names.plural)}: a lowercase RFC 1123 label must consist of lower case ` +
      `alphanumeric characters or '-'`,
  );
  return causes;
}

function versionCauses(spec: Record<string, unknown>): StatusCause[] {
  const versions = Array.isArray(spec.versions) ? (spec.versions as CrdVersion[]) : [];
  const causes: StatusCause[] = [];
  if (versions.length === 0)
    causes.push({
      reason: 'FieldValueRequired',
      field: 'spec.versions',
      message: 'Required value: must have exactly one version marked as storage version',
    });
  else if (versions.filter((v) => v.storage).length !== 1) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'spec.versions',
      message:
        `Invalid value: ${JSON.stringify(versions.map((v) => v.name))}: must have exactly one version marked ` +
        `as storage version`,
    });
  }
  versions.forEach((v, i) => {
    if (!v.schema?.openAPIV3Schema)
      causes.push({
        reason: 'FieldValueRequired',
        field: `spec.versions[${i}].schema.openAPIV3Schema`,
        message: 'Required value: schemas are required',
      });
  });
  return causes;
}

/** The CEL rules of each version, what does not compile (causes), and what cannot be enforced. */
export function crdValidations(crd: KObject): {
  byVersion: Map<string, CelRule[]>;
  causes: StatusCause[];
  notEnforced: string[];
} {
  const versions = isRecord(crd.spec) && Array.isArray(crd.spec.versions) ? (crd.spec.versions as CrdVersion[]) : [];
  const byVersion = new Map<string, CelRule[]>();
  const causes: StatusCause[] = [];
  const notEnforced: string[] = [];
  versions.forEach((v, i) => {
    const schema = v.schema?.openAPIV3Schema;
    if (!schema) return;
    const { rules, errors } = collectRules(schema);
    byVersion.set(v.name, rules);
    for (const { rule, error } of errors) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: `spec.versions[${i}].schema.openAPIV3Schema${schemaPath(rule.at)}.x-kubernetes-validations`,
        message: `Invalid value: ${JSON.stringify(rule.rule)}: compilation failed: ${error}`,
      });
    }
    for (const rule of rules)
      if (rule.notEnforced)
        notEnforced.push(
          `version ${v.name}, ${rule.at.length ? rule.at.join('.') : '<root>'}: rule ${JSON.stringify(rule.rule)} ` +
            `${rule.notEnforced}: NOT ENFORCED by the sandbox`,
        );
  });
  return { byVersion, causes, notEnforced };
}

/**
 * What the API server checks of a CRD: name = plural.group, names, scope, versions with schemas; no built-in of that
 * name.
 */
export function crdCauses(
  crd: KObject,
  isBuiltin: (group: string, plural: string) => boolean = () => false,
): StatusCause[] {
  const spec = isRecord(crd.spec) ? crd.spec : {};
  const causes: StatusCause[] = [];
  if (typeof spec.group !== 'string' || spec.group === '')
    causes.push({ reason: 'FieldValueRequired', field: 'spec.group', message: 'Required value' });
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster')
    causes.push({
      reason: 'FieldValueNotSupported',
      field: 'spec.scope',
      message: `Unsupported value: ${JSON.stringify(spec.scope)}: supported values: "Cluster", "Namespaced"`,
    });
  causes.push(...namesCauses(spec), ...versionCauses(spec), ...crdValidations(crd).causes);
  const names = isRecord(spec.names) ? spec.names : {};
  const expected = `${String(names.plural)}.${String(spec.group)}`;
  if (causes.length === 0 && crd.metadata.name !== expected) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
      message: `Invalid value: "${crd.metadata.name}": must be spec.names.plural+"."+spec.group`,
    });
  }
  if (causes.length === 0 && isBuiltin(String(spec.group), String(names.plural))) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'spec.names.plural',
      message: `Invalid value: "${String(names.plural)}": the built-in resource ${expected} exists`,
    });
  }
  return causes;
}

/** Served versions, the storage version first (the one clients get by default). */
function servedVersions(spec: CrdSpec): string[] {
  const served = spec.versions.filter((v) => v.served).map((v) => v.name);
  const storage = spec.versions.find((v) => v.storage)?.name;
  return storage && served.includes(storage) ? [storage, ...served.filter((n) => n !== storage)] : served;
}

function schemasOf(spec: CrdSpec): { schemas: Map<string, JsonSchema>; printerColumns: Map<string, PrinterColumn[]> } {
  const schemas = new Map<string, JsonSchema>();
  const printerColumns = new Map<string, PrinterColumn[]>();
  for (const v of spec.versions) {
    if (v.schema?.openAPIV3Schema) schemas.set(v.name, v.schema.openAPIV3Schema);
    printerColumns.set(v.name, v.additionalPrinterColumns ?? []);
  }
  return { schemas, printerColumns };
}

/** The resource a (valid) CRD serves. */
export function crdToType(crd: KObject): ResourceType {
  const spec = specOf(crd);
  const names = spec.names;
  const storage = spec.versions.find((v) => v.storage);
  return {
    group: spec.group,
    versions: servedVersions(spec),
    resource: names.plural,
    kind: names.kind,
    listKind: names.listKind ?? `${names.kind}List`,
    singular: names.singular ?? names.kind.toLowerCase(),
    namespaced: spec.scope === 'Namespaced',
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
    status: Boolean(storage?.subresources?.status),
    scale: storage?.subresources?.scale,
    generation: true,
    createOnUpdate: false,
    builtin: false,
    virtual: false,
    ...schemasOf(spec),
    validations: crdValidations(crd).byVersion,
    crdName: crd.metadata.name,
  };
}

/** Status of an accepted CRD: Established and NamesAccepted, storedVersions. */
export function crdStatus(crd: KObject, now: string): Record<string, unknown> {
  const spec = specOf(crd);
  const old = isRecord(crd.status) ? crd.status : {};
  const stored = Array.isArray(old.storedVersions) ? (old.storedVersions as string[]) : [];
  const storage = spec.versions.find((v) => v.storage)?.name;
  const names = {
    ...spec.names,
    singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
    listKind: spec.names.listKind ?? `${spec.names.kind}List`,
  };
  const condition = (type: string, reason: string, message: string): Record<string, string> => ({
    type,
    status: 'True',
    lastTransitionTime: now,
    reason,
    message,
  });
  const notEnforced = crdValidations(crd).notEnforced;
  // a sandbox-only condition, so that a rule the sandbox cannot check is never silently ignored
  const sandbox = notEnforced.length
    ? [{ ...condition('SandboxValidationNotEnforced', 'MissingCELLibrary', notEnforced.join('; ')) }]
    : [];
  return {
    conditions: [
      condition('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
      ...sandbox,
    ],
    acceptedNames: names,
    storedVersions: storage && !stored.includes(storage) ? [...stored, storage] : stored,
  };
}

/** Where a rule sits in the schema, as the API server names it: `.properties[spec].items`. */
function schemaPath(at: readonly string[]): string {
  return at.map((k) => (k === '*' ? '.items' : `.properties[${k}]`)).join('');
}
