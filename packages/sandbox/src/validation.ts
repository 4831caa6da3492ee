import type { StatusCause } from './status.js';
import type { KObject } from './types.js';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
export const QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export type NameRule = 'subdomain' | 'label' | 'path';

function nameCause(name: string, rule: NameRule): StatusCause | undefined {
  if (rule === 'path') {
    if (name === '.' || name === '..' || /[/%]/.test(name))
      return {
        reason: 'FieldValueInvalid',
        field: 'metadata.name',
        message: `Invalid value: "${name}": may not contain '/' or '%'`,
      };
    return undefined;
  }
  if (rule === 'label' && (!LABEL.test(name) || name.length > 63)) {
    return {
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
      message:
        `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric ` +
        `characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', ` +
        `regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
    };
  }
  if (rule === 'subdomain' && (!SUBDOMAIN.test(name) || name.length > 253)) {
    return {
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
      message:
        `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric ` +
        `characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex ` +
        `used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    };
  }
  return undefined;
}

function labelCauses(labels: unknown): StatusCause[] {
  if (labels === undefined) return [];
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels))
    return [
      { reason: 'FieldValueInvalid', field: 'metadata.labels', message: 'Invalid value: must be a map of strings' },
    ];
  const causes: StatusCause[] = [];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    if (!QUALIFIED_NAME.test(k))
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'metadata.labels',
        message:
          `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and ` +
          `must start and end with an alphanumeric character`,
      });
    if (typeof v !== 'string' || !LABEL_VALUE.test(v) || v.length > 63)
      causes.push({
        reason: 'FieldValueInvalid',
        field: `metadata.labels`,
        message:
          `Invalid value: ${JSON.stringify(v)}: a valid label must be an empty string or consist of ` +
          `alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
      });
  }
  return causes;
}

function annotationCauses(annotations: unknown): StatusCause[] {
  if (annotations === undefined) return [];
  const ok =
    typeof annotations === 'object' &&
    annotations !== null &&
    !Array.isArray(annotations) &&
    Object.values(annotations).every((v) => typeof v === 'string');
  return ok
    ? []
    : [
        {
          reason: 'FieldValueInvalid',
          field: 'metadata.annotations',
          message: 'Invalid value: annotations must be a map of strings',
        },
      ];
}

/** What ObjectMeta validation of the API server checks: name, labels, annotations. */
export function metadataCauses(object: KObject, rule: NameRule): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = object.metadata.name;
  if (!name)
    causes.push({
      reason: 'FieldValueRequired',
      field: 'metadata.name',
      message: 'Required value: name or generateName is required',
    });
  else {
    const cause = nameCause(name, rule);
    if (cause) causes.push(cause);
  }
  causes.push(...labelCauses(object.metadata.labels), ...annotationCauses(object.metadata.annotations));
  if (object.metadata.finalizers !== undefined && !Array.isArray(object.metadata.finalizers)) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'metadata.finalizers',
      message: 'Invalid value: must be a list of strings',
    });
  }
  return causes;
}
