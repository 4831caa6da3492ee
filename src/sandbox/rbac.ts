import type { Api } from './api.js';
import { isAdmin, type UserInfo } from './auth.js';
import { forbidden, type ApiError } from './status.js';
import { isRecord, type KObject } from './types.js';

/** What a request asks to do, as RBAC sees it. */
export interface Attributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

const RBAC = 'rbac.authorization.k8s.io';

function subjectMatches(s: Subject, user: UserInfo): boolean {
  if (s.kind === 'User') return s.name === user.username;
  if (s.kind === 'Group') return user.groups.includes(s.name);
  if (s.kind === 'ServiceAccount') return user.username === `system:serviceaccount:${s.namespace ?? ''}:${s.name}`;
  return false;
}

function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  const has = (list: string[] | undefined, value: string): boolean => (list ?? []).includes('*') || (list ?? []).includes(value);
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resources = rule.resources ?? [];
  const resourceOk = resources.includes('*') || resources.includes(resource) || (a.subresource !== undefined && resources.includes(`${a.resource}/*`));
  const namesOk = !rule.resourceNames?.length || (a.name !== undefined && rule.resourceNames.includes(a.name));
  return has(rule.verbs, a.verb) && has(rule.apiGroups, a.group) && resourceOk && namesOk;
}

/** Evaluates Role/ClusterRole and their bindings, as the RBAC authorizer does (allow-only). */
export class RbacAuthorizer {
  constructor(private readonly api: Api) {}

  private objects(resource: string, namespace?: string): KObject[] {
    const type = this.api.registry.get(RBAC, resource);
    return type ? this.api.store.list(`${RBAC}/${resource}`, namespace) : [];
  }

  private rulesOf(ref: unknown, namespace: string | undefined): PolicyRule[] {
    if (!isRecord(ref) || typeof ref.name !== 'string') return [];
    const role = ref.kind === 'ClusterRole'
      ? this.objects('clusterroles').find((r) => r.metadata.name === ref.name)
      : this.objects('roles', namespace).find((r) => r.metadata.name === ref.name);
    return Array.isArray(role?.rules) ? (role.rules as PolicyRule[]) : [];
  }

  private rulesFor(user: UserInfo, namespace: string | undefined): PolicyRule[] {
    const bound = (b: KObject): boolean => Array.isArray(b.subjects) && (b.subjects as Subject[]).some((s) => subjectMatches(s, user));
    const rules = this.objects('clusterrolebindings').filter(bound).flatMap((b) => this.rulesOf(b.roleRef, undefined));
    if (namespace) rules.push(...this.objects('rolebindings', namespace).filter(bound).flatMap((b) => this.rulesOf(b.roleRef, namespace)));
    return rules;
  }

  allows(user: UserInfo, a: Attributes): boolean {
    if (isAdmin(user)) return true;
    if (a.group === 'authentication.k8s.io' && a.resource === 'selfsubjectreviews') return true;
    return this.rulesFor(user, a.namespace).some((r) => ruleAllows(r, a));
  }

  /** The 403 the API server answers for a denied request. */
  denial(user: UserInfo, a: Attributes): ApiError {
    const qualified = a.group ? `${a.resource}.${a.group}` : a.resource;
    const what = a.name ? `${qualified} "${a.name}"` : qualified;
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
    return forbidden(`${what} is forbidden: User "${user.username}" cannot ${a.verb} resource "${resource}" in API group "${a.group}" ${scope}`, {
      name: a.name, group: a.group, kind: a.resource,
    });
  }
}
