import type { IHTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { cookieRegex, matchKindOf, type MatchEntry } from '../../pipeline/policy/strategies.js';
import { integerSplit } from '../../pipeline/policy/weights.js';
import { headerConditions, OWN, ownName, setCookie, type Affinity, type Extras } from './extras.js';
import type { ServiceNames } from './services.js';

/**
 * Pure edits of an HTTPRoute for what Kubestead adds beside the weights (docs/strategies.md): before each split rule,
 * an A/B rule (its matches, each with the step's header matches, to the canary backend: Gateway API gives a match
 * with more header matches precedence) and a session affinity rule (the cookie); on the split rule, a
 * RequestMirror filter to the canary and the canary backend's Set-Cookie (a ResponseHeaderModifier). Kubestead's
 * rules are named `kubestead-…`; everything of the user's is kept.
 */

type Spec = IHTTPRoute['spec'];
/** A rule; `name` is in the CRD (Gateway API ≥ 1.2) and not yet in the published models. */
type Rule = NonNullable<Spec['rules']>[number] & { name?: string };
type RouteMatch = NonNullable<Rule['matches']>[number];
type HeaderMatch = NonNullable<RouteMatch['headers']>[number];
type Filter = NonNullable<Rule['filters']>[number];
type BackendRef = NonNullable<Rule['backendRefs']>[number];

const SET_COOKIE = 'Set-Cookie';
/** A rule without matches matches every path (the CRD's default). */
const MATCH_ALL: RouteMatch = { path: { type: 'PathPrefix', value: '/' } };

const isOwnRule = (rule: Rule): boolean => rule.name?.startsWith(OWN) ?? false;
const ownMirror = (filter: Filter, names: ServiceNames): boolean =>
  filter.type === 'RequestMirror' && filter.requestMirror?.backendRef.name === names.canary;

/** The spec without Kubestead's additions: its rules and its mirror filters (the Set-Cookie goes with the split). */
export function withoutRuleExtras(spec: Spec, names: ServiceNames): Spec {
  const all: Rule[] = spec.rules ?? [];
  const rules = all.filter((rule) => !isOwnRule(rule)).map((rule) => withoutMirror(rule, names));
  return { ...spec, rules };
}

function withoutMirror(rule: Rule, names: ServiceNames): Rule {
  if (!rule.filters?.some((f) => ownMirror(f, names))) return rule;
  const filters = rule.filters.filter((f) => !ownMirror(f, names));
  const { filters: _filters, ...rest } = rule;
  return filters.length > 0 ? { ...rest, filters } : rest;
}

/**
 * The rules of a split spec (`split`: the rules at `indexes` already split, as withRuleSplit gives them) with the
 * additions `extras` asks for.
 */
export function withRuleExtras(spec: Spec, indexes: number[], names: ServiceNames, extras: Extras): Spec {
  const all: Rule[] = spec.rules ?? [];
  const rules = all.flatMap((rule, index): Rule[] => {
    const canary = rule.backendRefs?.find((ref) => ref.name === names.canary);
    if (!indexes.includes(index) || !canary) return [rule];
    const label = rule.name ?? `rule-${index}`;
    // The only backend of its rule; 1 is the CRD's default, written so that a read compares equal.
    const target = { ...canary, weight: 1 };
    const added: Rule[] = [];
    if (extras.match) added.push(ownRule(rule, ownName('ab', label), crossed(rule, extras.match), target));
    if (extras.affinity)
      added.push(ownRule(rule, ownName('affinity', label), crossed(rule, [cookieEntry(extras.affinity)]), target));
    return [...added, decorated(rule, target, names, extras)];
  });
  return { ...spec, rules };
}

/** What of a spec is Kubestead's additions, to compare a live object with what a write would make of it. */
export function ruleExtrasOf(spec: Spec, names: ServiceNames): unknown {
  const all: Rule[] = spec.rules ?? [];
  return all.map((rule) =>
    isOwnRule(rule)
      ? rule
      : {
          mirrors: (rule.filters ?? []).filter((f) => ownMirror(f, names)),
          cookie: (rule.backendRefs ?? []).filter((r) => r.name === names.canary).flatMap((r) => cookieOf(r) ?? []),
        },
  );
}

const cookieOf = (ref: BackendRef): string | undefined =>
  ref.filters?.flatMap((f) => f.responseHeaderModifier?.add ?? []).find((h) => h.name === SET_COOKIE)?.value;

const cookieEntry = (affinity: Affinity): MatchEntry => ({
  cookie: { name: affinity.cookieName, value: affinity.value },
});

/** A rule of Kubestead's: the user's rule (filters, timeouts …) with its own matches, to the canary backend only. */
function ownRule(rule: Rule, name: string, matches: RouteMatch[], canary: BackendRef): Rule {
  return { ...rule, name, matches, backendRefs: [canary] };
}

/** Each of the rule's matches joined with each entry's header matches (Exact or RegularExpression). */
function crossed(rule: Rule, entries: MatchEntry[]): RouteMatch[] {
  const base = rule.matches?.length ? rule.matches : [MATCH_ALL];
  return base.flatMap((match) =>
    entries.map((entry) => {
      const ours = headerConditions(entry, (n, v) => ({ regex: cookieRegex(n, v) })).map(
        ({ name, match: m }): HeaderMatch => {
          const { kind, value } = matchKindOf(m);
          return { type: kind === 'regex' ? 'RegularExpression' : 'Exact', name, value };
        },
      );
      const names = new Set(ours.map((h) => h.name.toLowerCase()));
      const kept = (match.headers ?? []).filter((h) => !names.has(h.name.toLowerCase()));
      return { ...match, headers: [...kept, ...ours] };
    }),
  );
}

/** The split rule with the step's RequestMirror filter and, under session affinity, the canary's Set-Cookie. */
function decorated(rule: Rule, canary: BackendRef, names: ServiceNames, extras: Extras): Rule {
  const withMirror =
    extras.mirror === undefined
      ? rule
      : { ...rule, filters: [...(rule.filters ?? []), mirrorFilter(canary, extras.mirror)] };
  const affinity = extras.affinity;
  if (!affinity) return withMirror;
  const backendRefs = (withMirror.backendRefs ?? []).map((ref) =>
    ref.name === names.canary ? withCookie(ref, affinity) : ref,
  );
  return { ...withMirror, backendRefs };
}

/** A RequestMirror of `percent` to the canary: `percent` when whole, else the exact fraction. */
function mirrorFilter(canary: BackendRef, percent: number): Filter {
  const split = integerSplit(percent);
  const part =
    Number.isInteger(percent) || !split
      ? { percent }
      : { fraction: { numerator: split.canary, denominator: split.total } };
  const { filters: _filters, weight: _weight, ...backendRef } = canary;
  return { type: 'RequestMirror', requestMirror: { backendRef, ...part } };
}

function withCookie(ref: BackendRef, affinity: Affinity): BackendRef {
  const header = { name: SET_COOKIE, value: setCookie(affinity) };
  const filters = ref.filters ?? [];
  const existing = filters.findIndex((f) => f.type === 'ResponseHeaderModifier');
  if (existing < 0)
    return {
      ...ref,
      filters: [...filters, { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [header] } }],
    };
  return {
    ...ref,
    filters: filters.map((f, i) =>
      i === existing
        ? {
            ...f,
            responseHeaderModifier: {
              ...f.responseHeaderModifier,
              add: [...(f.responseHeaderModifier?.add ?? []), header],
            },
          }
        : f,
    ),
  };
}
