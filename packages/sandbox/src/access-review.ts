import type { Caller } from './api.js';
import type { UserInfo } from './auth.js';
import type { Attributes } from './rbac.js';
import { badRequest } from './status.js';
import { isRecord, type KObject } from './types.js';

/** Decides a request (RBAC when enforced; every user may do everything otherwise, as AlwaysAllow). */
export type Authorize = (user: UserInfo, attributes: Attributes | { nonResourcePath: string; verb: string }) => boolean;

function text(o: Record<string, unknown>, key: string): string | undefined {
  return typeof o[key] === 'string' && o[key] !== '' ? o[key] : undefined;
}

function attributesOf(spec: Record<string, unknown>): Parameters<Authorize>[1] {
  if (isRecord(spec.resourceAttributes)) {
    const r = spec.resourceAttributes;
    return {
      verb: text(r, 'verb') ?? '',
      group: text(r, 'group') ?? '',
      resource: text(r, 'resource') ?? '',
      subresource: text(r, 'subresource'),
      namespace: text(r, 'namespace'),
      name: text(r, 'name'),
    };
  }
  if (isRecord(spec.nonResourceAttributes))
    return {
      nonResourcePath: text(spec.nonResourceAttributes, 'path') ?? '',
      verb: text(spec.nonResourceAttributes, 'verb') ?? '',
    };
  throw badRequest('spec: Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified');
}

function reviewedUser(kind: string, spec: Record<string, unknown>, caller: Caller): UserInfo {
  if (kind === 'SelfSubjectAccessReview') return caller.user;
  const user = text(spec, 'user');
  const groups = Array.isArray(spec.groups) ? spec.groups.filter((g): g is string => typeof g === 'string') : [];
  if (!user && groups.length === 0)
    throw badRequest('spec.user: Invalid value: "": at least one of user or group must be specified');
  return { username: user ?? '', groups };
}

/** Answers a SelfSubjectAccessReview (the caller) or SubjectAccessReview (spec.user/groups): status.allowed. */
export function accessReview(
  kind: 'SelfSubjectAccessReview' | 'SubjectAccessReview',
  body: unknown,
  caller: Caller,
  authorize: Authorize,
): KObject {
  const review = isRecord(body) ? body : {};
  const spec = isRecord(review.spec) ? review.spec : {};
  const allowed = authorize(reviewedUser(kind, spec, caller), attributesOf(spec));
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind,
    metadata: {},
    spec,
    status: allowed ? { allowed: true, reason: 'allowed by the sandbox authorizer' } : { allowed: false },
  };
}
