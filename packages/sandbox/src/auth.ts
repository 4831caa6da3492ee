import { randomBytes } from 'node:crypto';

/** Who a request is (authentication.k8s.io UserInfo). */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
}

export const ADMIN_USER: UserInfo = { username: 'kubestead-admin', groups: ['system:masters', 'system:authenticated'] };
export const SYSTEM_USER: UserInfo = {
  username: 'system:kube-controller-manager',
  groups: ['system:masters', 'system:authenticated'],
};

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Bearer tokens and the users they stand for. */
export class TokenAuthenticator {
  private readonly tokens = new Map<string, UserInfo>();

  add(token: string, user: UserInfo): void {
    this.tokens.set(token, {
      ...user,
      groups: user.groups.includes('system:authenticated') ? user.groups : [...user.groups, 'system:authenticated'],
    });
  }

  /** The user of an `Authorization: Bearer …` header, or undefined (→ 401). */
  authenticate(header: string | undefined): UserInfo | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return match?.[1] ? this.tokens.get(match[1]) : undefined;
  }
}

export function isAdmin(user: UserInfo): boolean {
  return user.groups.includes('system:masters');
}
