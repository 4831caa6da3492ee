import type { Api } from './api.js';
import { isAdmin, type UserInfo } from './auth.js';
import { forbidden, type ApiError } from './status.js';
import { matchesLabelSelector } from './selectors.js';
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
  nonResourceURLs?: string[];
}

/** A request for a path outside the resource API (`/healthz`, `/metrics`). */
export interface NonResource {
  nonResourcePath: string;
  verb: string;
}

/** Reviews every authenticated user may create, as the system:basic-user ClusterRole allows. */
const ALWAYS_ALLOWED = new Set([
  'authentication.k8s.io/selfsubjectreviews',
  'authorization.k8s.io/selfsubjectaccessreviews',
  'authorization.k8s.io/selfsubjectrulesreviews',
]);

function nonResourceAllows(rule: PolicyRule, a: NonResource): boolean {
  const urls = rule.nonResourceURLs ?? [];
  const verbs = rule.verbs ?? [];
  const urlOk = urls.some(
    (u) => u === '*' || u === a.nonResourcePath || (u.endsWith('*') && a.nonResourcePath.startsWith(u.slice(0, -1))),
  );
  return urlOk && (verbs.includes('*') || verbs.includes(a.verb));
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
  const has = (list: string[] | undefined, value: string): boolean =>
    (list ?? []).includes('*') || (list ?? []).includes(value);
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resources = rule.resources ?? [];
  const resourceOk =
    resources.includes('*') ||
    resources.includes(resource) ||
    (a.subresource !== undefined && resources.includes(`${a.resource}/*`));
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
    const role =
      ref.kind === 'ClusterRole'
        ? this.objects('clusterroles').find((r) => r.metadata.name === ref.name)
        : this.objects('roles', namespace).find((r) => r.metadata.name === ref.name);
    if (role && ref.kind === 'ClusterRole' && isRecord(role.aggregationRule))
      return this.aggregated(role.aggregationRule);
    return Array.isArray(role?.rules) ? (role.rules as PolicyRule[]) : [];
  }

  /**
   * An aggregated ClusterRole (view, edit, admin) has the rules of every ClusterRole its selectors match (aggregated
   * ones too).
   */
  private aggregated(rule: Record<string, unknown>, depth = 0): PolicyRule[] {
    const selectors = Array.isArray(rule.clusterRoleSelectors) ? rule.clusterRoleSelectors : [];
    const members = this.objects('clusterroles').filter((r) =>
      selectors.some((s) => matchesLabelSelector(s, r.metadata.labels)),
    );
    return members.flatMap((r) => {
      if (isRecord(r.aggregationRule)) return depth < 5 ? this.aggregated(r.aggregationRule, depth + 1) : [];
      return Array.isArray(r.rules) ? (r.rules as PolicyRule[]) : [];
    });
  }

  private rulesFor(user: UserInfo, namespace: string | undefined): PolicyRule[] {
    const bound = (b: KObject): boolean =>
      Array.isArray(b.subjects) && (b.subjects as Subject[]).some((s) => subjectMatches(s, user));
    const rules = this.objects('clusterrolebindings')
      .filter(bound)
      .flatMap((b) => this.rulesOf(b.roleRef, undefined));
    if (namespace)
      rules.push(
        ...this.objects('rolebindings', namespace)
          .filter(bound)
          .flatMap((b) => this.rulesOf(b.roleRef, namespace)),
      );
    return rules;
  }

  allows(user: UserInfo, a: Attributes | NonResource): boolean {
    if (isAdmin(user)) return true;
    if ('nonResourcePath' in a) return this.rulesFor(user, undefined).some((r) => nonResourceAllows(r, a));
    if (ALWAYS_ALLOWED.has(`${a.group}/${a.resource}`)) return true;
    return this.rulesFor(user, a.namespace).some((r) => ruleAllows(r, a));
  }

  /** The 403 the API server answers for a denied request. */
  denial(user: UserInfo, a: Attributes): ApiError {
    const qualified = a.group ? `${a.resource}.${a.group}` : a.resource;
    const what = a.name ? `${qualified} "${a.name}"` : qualified;
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
    return forbidden(
      `${what} is forbidden: User "${user.username}" cannot ${a.verb} resource "${resource}" in API group ` +
        `"${a.group}" ${scope}`,
      {
        name: a.name,
        group: a.group,
        kind: a.resource,
      },
    );
  }
}
