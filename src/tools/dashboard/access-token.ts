import { createHash } from 'node:crypto';
import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig, type V1UserInfo } from '@kubernetes/client-node';
import type { Clock } from '../../lib/clock/clock.js';
import { POLICY_RESOURCE } from '../../adapters/kube/names.js';
import type { Access } from './access.js';

export interface TokenAccessOptions {
  kubeConfig: KubeConfig;
  clock: Clock;
  /** How long a token's review and a namespace's access review are reused (default 10 s). */
  ttlMs?: number;
}

const MAX_ENTRIES = 1000;

/** A small cache whose entries expire by the injected clock; it forgets everything when it grows too big. */
class Expiring<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();
  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  async get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && hit.until > this.clock.now()) return hit.value;
    const value = await load();
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, { value, until: this.clock.now() + this.ttlMs });
    return value;
  }
}

/**
 * In the cluster: each request's `Authorization: Bearer TOKEN` is checked with a TokenReview, and each
 * namespace with a SubjectAccessReview (may the user `list rolloutpolicies` there?), both cached
 * briefly by a hash of the token (the token itself is kept nowhere and never logged).
 */
export function tokenAccess(options: TokenAccessOptions): Access {
  const authn = options.kubeConfig.makeApiClient(AuthenticationV1Api);
  const authz = options.kubeConfig.makeApiClient(AuthorizationV1Api);
  const ttl = options.ttlMs ?? 10_000;
  const users = new Expiring<V1UserInfo | null>(options.clock, ttl);
  const grants = new Expiring<boolean>(options.clock, ttl);

  const review = async (token: string): Promise<V1UserInfo | null> => {
    const answer = await authn.createTokenReview({ body: { spec: { token } } });
    return answer.status?.authenticated && answer.status.user?.username ? answer.status.user : null;
  };
  const mayList = async (user: V1UserInfo, namespace: string): Promise<boolean> => {
    const answer = await authz.createSubjectAccessReview({
      body: {
        spec: {
          user: user.username,
          groups: user.groups,
          uid: user.uid,
          extra: user.extra,
          resourceAttributes: {
            namespace,
            verb: 'list',
            group: POLICY_RESOURCE.group,
            resource: POLICY_RESOURCE.plural,
          },
        },
      },
    });
    return answer.status?.allowed === true;
  };

  return {
    async visible(authorization, namespaces) {
      const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
      if (!token) return null;
      const key = createHash('sha256').update(token).digest('hex');
      const user = await users.get(key, () => review(token));
      if (!user) return null;
      const allowed = await Promise.all(namespaces.map((ns) => grants.get(`${key}/${ns}`, () => mayList(user, ns))));
      return new Set(namespaces.filter((_, i) => allowed[i]));
    },
  };
}
