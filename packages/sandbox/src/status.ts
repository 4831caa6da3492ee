/** Kubernetes `Status` objects (meta/v1) and the error that carries one through the sandbox. */

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** An API error: the handler throws it, the server answers with its Status body. */
export class ApiError extends Error {
  constructor(readonly status: StatusBody) {
    super(status.message ?? status.reason ?? 'error');
  }
  get code(): number {
    return this.status.code;
  }
}

/**
 * The details as the API server encodes them (Go's field order, empty fields omitted): the core group's `""` is
 * not sent, so `details` of a Service is `{name, kind}` and of a Deployment `{name, group, kind}`.
 */
function encodedDetails(details: StatusDetails): StatusDetails {
  const out: StatusDetails = {};
  if (details.name) out.name = details.name;
  if (details.group) out.group = details.group;
  if (details.kind) out.kind = details.kind;
  if (details.uid) out.uid = details.uid;
  if (details.causes?.length)
    out.causes = details.causes.map(({ reason, message, field }) => ({
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
      ...(field ? { field } : {}),
    })) as StatusCause[];
  if (details.retryAfterSeconds) out.retryAfterSeconds = details.retryAfterSeconds;
  return out;
}

/**
 * A failure Status, its keys in the order of the API server's encoding (kind, apiVersion, metadata, status,
 * message, reason, details, code): clients compare the text (the Python client's e2e suite does).
 */
export function failure(code: number, reason: string, message: string, details?: StatusDetails): StatusBody {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details: encodedDetails(details) } : {}),
    code,
  };
}

export function success(details?: StatusDetails): StatusBody {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    ...(details ? { details: encodedDetails(details) } : {}),
    code: 200,
  };
}

/** The resource as errors name it: `deployments.apps`, or `configmaps` for the core group. */
export interface ResourceName {
  group: string;
  resource: string;
}

function qualified(r: ResourceName): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

export function notFound(r: ResourceName, name: string): ApiError {
  return new ApiError(
    failure(404, 'NotFound', `${qualified(r)} "${name}" not found`, { name, group: r.group, kind: r.resource }),
  );
}

export function alreadyExists(r: ResourceName, name: string): ApiError {
  return new ApiError(
    failure(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, {
      name,
      group: r.group,
      kind: r.resource,
    }),
  );
}

export function conflict(r: ResourceName, name: string, why: string): ApiError {
  const message = `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`;
  return new ApiError(failure(409, 'Conflict', message, { name, group: r.group, kind: r.resource }));
}

export function badRequest(message: string): ApiError {
  return new ApiError(failure(400, 'BadRequest', message));
}

export function forbidden(message: string, details?: StatusDetails): ApiError {
  return new ApiError(failure(403, 'Forbidden', message, details));
}

export function methodNotAllowed(message: string): ApiError {
  return new ApiError(failure(405, 'MethodNotAllowed', message));
}

export function gone(message: string): ApiError {
  return new ApiError(failure(410, 'Expired', message));
}

export interface InvalidTarget {
  kind: string;
  group: string;
  name: string;
}

/** 422 Invalid, worded as the API server words it: `Kind.group "name" is invalid: field: message, …`. */
export function invalid(target: InvalidTarget, causes: StatusCause[]): ApiError {
  const kind = target.group ? `${target.kind}.${target.group}` : target.kind;
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const joined = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  const message = `${kind} "${target.name}" is invalid: ${joined}`;
  return new ApiError(
    failure(422, 'Invalid', message, { name: target.name, group: target.group, kind: target.kind, causes }),
  );
}

/** Any thrown value as an ApiError; unknown errors are 500 InternalError. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError(failure(500, 'InternalError', `Internal error occurred: ${message}`));
}
