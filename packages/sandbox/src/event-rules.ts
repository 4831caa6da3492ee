import type { StatusCause } from './status.js';
import { QUALIFIED_NAME } from './validation.js';
import { isRecord, type KObject } from './types.js';

/**
 * Event validation of the API server (validation/events.go): the legacy rules every Event passes,
 * and the strict ones for Events created through events.k8s.io. Fields are named as there.
 */

const NOTE_LIMIT = 1024;
const LENGTH_LIMIT = 128;

const required = (field: string): StatusCause => ({ reason: 'FieldValueRequired', field, message: 'Required value' });
const tooLong = (field: string, max: number): StatusCause => ({
  reason: 'FieldValueTooLong',
  field,
  message: `Too long: must have at most ${max} bytes`,
});
const notMatching = (ns: string): StatusCause => ({
  reason: 'FieldValueInvalid',
  field: 'involvedObject.namespace',
  message: `Invalid value: ${JSON.stringify(ns)}: does not match event.namespace`,
});

function text(event: KObject, key: string): string {
  return typeof event[key] === 'string' ? event[key] : '';
}

function involvedNamespace(event: KObject): string {
  const involved = isRecord(event.involvedObject) ? event.involvedObject : {};
  return typeof involved.namespace === 'string' ? involved.namespace : '';
}

/** The reporter, action and length rules shared by "new" (eventTime) Events and events.k8s.io. */
function reporterCauses(event: KObject, controllerField: string, noteField?: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const controller = text(event, 'reportingComponent');
  if (!controller) causes.push(required(controllerField));
  else if (!QUALIFIED_NAME.test(controller))
    causes.push({
      reason: 'FieldValueInvalid',
      field: controllerField,
      message: `Invalid value: ${JSON.stringify(controller)}: must be a qualified name`,
    });
  if (!text(event, 'reportingInstance')) causes.push(required('reportingInstance'));
  if (text(event, 'reportingInstance').length > LENGTH_LIMIT) causes.push(tooLong('reportingInstance', LENGTH_LIMIT));
  if (!text(event, 'action')) causes.push(required('action'));
  if (text(event, 'action').length > LENGTH_LIMIT) causes.push(tooLong('action', LENGTH_LIMIT));
  if (noteField && Buffer.byteLength(text(event, 'message')) > NOTE_LIMIT) causes.push(tooLong(noteField, NOTE_LIMIT));
  return causes;
}

/** legacyValidateEvent: every Event, through either API. */
function legacyEventCauses(event: KObject, coreApi: boolean): StatusCause[] {
  const namespace = event.metadata.namespace ?? '';
  const involved = involvedNamespace(event);
  if (!event.eventTime) {
    const ok = involved === '' ? namespace === '' || namespace === 'default' : namespace === involved;
    return ok ? [] : [notMatching(involved)];
  }
  const causes: StatusCause[] = [];
  if (involved === '' && namespace !== 'default' && namespace !== 'kube-system') causes.push(notMatching(involved));
  causes.push(...reporterCauses(event, coreApi ? 'reportingComponent' : 'reportingController'));
  return causes;
}

/**
 * ValidateEventCreate: the legacy rules, and for events.k8s.io/v1 eventTime, reporter, action, reason, note ≤ 1 KiB.
 */
export function eventCauses(event: KObject, via: { coreApi: boolean; create: boolean }): StatusCause[] {
  const causes = legacyEventCauses(event, via.coreApi);
  if (via.coreApi || !via.create) return causes;
  if (!event.eventTime) causes.push(required('eventTime'));
  const type = text(event, 'type');
  if (type !== 'Normal' && type !== 'Warning')
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'type',
      message: `Invalid value: "": has invalid value: ${type}`,
    });
  causes.push(...reporterCauses(event, 'reportingController', 'note'));
  if (!text(event, 'reason')) causes.push(required('reason'));
  if (text(event, 'reason').length > LENGTH_LIMIT) causes.push(tooLong('reason', LENGTH_LIMIT));
  return dedupe(causes);
}

function dedupe(causes: StatusCause[]): StatusCause[] {
  const seen = new Set<string>();
  return causes.filter((c) => {
    const key = `${c.field ?? ''}|${c.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
