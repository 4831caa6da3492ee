import type { UserInfo } from './auth.js';
import { isRecord, type KObject } from './types.js';

/** The user of an `Authorization` header's value, or undefined (the sandbox's token authenticator). */
export type Authenticate = (header: string | undefined) => UserInfo | undefined;

/**
 * Answers a TokenReview (authentication.k8s.io/v1) as a real API server does for its token users:
 * status.authenticated with the user (username, uid, groups) for a known token, false otherwise.
 */
export function tokenReview(body: unknown, authenticate: Authenticate): KObject {
  const review = isRecord(body) ? body : {};
  const spec = isRecord(review.spec) ? review.spec : {};
  const token = typeof spec.token === 'string' ? spec.token : '';
  const user = token === '' ? undefined : authenticate(`Bearer ${token}`);
  const audiences = Array.isArray(spec.audiences) ? spec.audiences : [];
  return {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    metadata: {},
    spec,
    status: user
      ? {
          authenticated: true,
          user: { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups },
          audiences,
        }
      : { user: {}, error: token === '' ? 'no token' : 'invalid bearer token' },
  };
}
