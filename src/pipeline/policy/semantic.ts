import { DURATION_BOUNDS, formatDuration, parseDuration } from './duration.js';
import type { PolicyIssue } from './issues.js';
import { isObj, list, type Obj } from './objects.js';
import { referenceIssues, valueExpressionIssues } from './references.js';
import { credentialIssues } from './urls.js';
import { routingIssues } from './routing.js';
import { BUILTIN_RULES } from './vocabulary.js';
import { comparisonIssues } from './compare.js';
import { inconclusiveIssues, webhookIssues, webQueryIssues } from './analysis-issues.js';
import { cloudWatchQueryIssues } from './cloudwatch-issues.js';
import { canaryScaleIssues } from './canary-scale.js';

/** The only variables a query template may use (docs/architecture.md, "The policy"). */
export const TEMPLATE_VARIABLES = ['target.name', 'target.namespace', 'policy.name', 'rollout.canaryRevision'] as const;
export const TEMPLATE = /\{\{\s*([^}]*?)\s*\}\}/g;

/**
 * Cross-field rules the schema cannot say field by field. Runs on the raw spec, tolerant of wrong
 * types (the schema reports those), so that one pass reports every problem of a file.
 */
export function semanticIssues(spec: unknown): PolicyIssue[] {
  if (!isObj(spec)) return [];
  return [
    ...stepIssues(spec),
    ...checkIssues(spec),
    ...referenceIssues(spec),
    ...ruleIssues(spec),
    ...credentialIssues(spec),
    ...timeoutIssues(spec),
    ...routingIssues(spec),
    ...webQueryIssues(spec),
    ...cloudWatchQueryIssues(spec),
    ...webhookIssues(spec),
    ...canaryScaleIssues(spec),
  ];
}

/** A canary has steps; a blue-green policy has none (its stages are the preview and the switch). */
function strategyIssues(spec: Obj): PolicyIssue[] {
  const blueGreen = spec.strategy === 'blueGreen';
  const steps = list(spec.steps);
  if (!blueGreen) {
    if (spec.blueGreen !== undefined)
      return [{ path: ['spec', 'blueGreen'], message: 'blueGreen settings need strategy: blueGreen' }];
    return spec.steps === undefined || (Array.isArray(spec.steps) && steps.length === 0)
      ? [{ path: ['spec', 'steps'], message: 'at least one step is needed' }]
      : [];
  }
  const issues: PolicyIssue[] = [];
  if (spec.steps !== undefined)
    issues.push({
      path: ['spec', 'steps'],
      message: 'steps and blueGreen exclude each other: a blue-green policy has no steps',
    });
  if (spec.blueGreen === undefined)
    issues.push({ path: ['spec', 'blueGreen'], message: 'strategy blueGreen needs the blueGreen section' });
  return issues;
}

function stepIssues(spec: Obj): PolicyIssue[] {
  const issues: PolicyIssue[] = [...strategyIssues(spec)];
  let previous: { weight: number; index: number } | undefined;
  list(spec.steps).forEach((step, index) => {
    if (!isObj(step) || typeof step.weight !== 'number') return;
    if (previous && step.weight <= previous.weight) {
      issues.push({
        path: ['spec', 'steps', index, 'weight'],
        message: `weights must ascend: ${step.weight} is not above ${previous.weight} (steps[${previous.index}])`,
      });
    }
    previous = { weight: step.weight, index };
  });
  return issues;
}

function checkIssues(spec: Obj): PolicyIssue[] {
  const providers = isObj(spec.providers) ? Object.keys(spec.providers) : [];
  const seen = new Map<string, number>();
  return list(spec.checks).flatMap((check, index) => {
    if (!isObj(check)) return [];
    const at = (...rest: (string | number)[]) => ['spec', 'checks', index, ...rest];
    const issues: PolicyIssue[] = [];
    if (typeof check.name === 'string') {
      const first = seen.get(check.name);
      if (first !== undefined)
        issues.push({ path: at('name'), message: `duplicate check name "${check.name}" (first at checks[${first}])` });
      else seen.set(check.name, index);
    }
    if (typeof check.provider === 'string' && !providers.includes(check.provider)) {
      const known = providers.length ? `; providers are ${providers.join(', ')}` : '; spec.providers is empty';
      issues.push({ path: at('provider'), message: `unknown provider "${check.provider}"${known}` });
    }
    issues.push(...(check.compare === undefined ? boundIssues(check, at) : []), ...comparisonIssues(check, at));
    issues.push(...inconclusiveIssues(check, at), ...queryIssues(check, at), ...rangeIssues(spec, check, at));
    if (typeof check.value === 'string') issues.push(...valueExpressionIssues(check.value, at('value')));
    return issues;
  });
}

/** A comparison samples a window of each side: its provider must answer range queries (the web provider does not). */
function rangeIssues(spec: Obj, check: Obj, at: (...rest: (string | number)[]) => (string | number)[]): PolicyIssue[] {
  const provider = isObj(spec.providers) && typeof check.provider === 'string' ? spec.providers[check.provider] : null;
  if (check.compare === undefined || !isObj(provider) || provider.web === undefined) return [];
  return [
    {
      path: at('provider'),
      message: `a comparison check needs range queries, which the web provider "${String(check.provider)}" has not; use prometheus, datadog or newRelic`,
    },
  ];
}

/** The template variables of a check's query, or of both queries of its comparison. */
function queryIssues(check: Obj, at: (...rest: (string | number)[]) => (string | number)[]): PolicyIssue[] {
  const queries: [string, unknown][] = isObj(check.compare)
    ? [
        ['canary', check.compare.canary],
        ['primary', check.compare.primary],
      ]
    : [];
  return [['query', check.query] as [string, unknown], ...queries].flatMap(([field, text]) =>
    typeof text === 'string' ? templateIssues(text, field === 'query' ? at('query') : at('compare', field)) : [],
  );
}

function boundIssues(check: Obj, at: (...rest: (string | number)[]) => (string | number)[]): PolicyIssue[] {
  if (check.query === undefined) return [{ path: at(), message: 'a check needs a "query" (or a "compare")' }];
  if (check.min === undefined && check.max === undefined) {
    return [{ path: at(), message: 'a check needs at least one bound: min or max' }];
  }
  if (typeof check.min === 'number' && typeof check.max === 'number' && check.min > check.max) {
    return [{ path: at('min'), message: `min ${check.min} is above max ${check.max}` }];
  }
  return [];
}

export function templateIssues(query: string, path: (string | number)[]): PolicyIssue[] {
  return [...query.matchAll(TEMPLATE)]
    .map((m) => m[1] ?? '')
    .filter((variable) => !(TEMPLATE_VARIABLES as readonly string[]).includes(variable))
    .map((variable) => ({
      path,
      message: `unknown template variable "{{ ${variable} }}"; the variables are ${TEMPLATE_VARIABLES.join(', ')}`,
    }));
}

function ruleIssues(spec: Obj): PolicyIssue[] {
  const seen = new Map<string, number>();
  return list(spec.rules).flatMap((rule, index) => {
    if (!isObj(rule) || typeof rule.name !== 'string') return [];
    const path = ['spec', 'rules', index, 'name'];
    if ((BUILTIN_RULES as readonly unknown[]).includes(rule.name)) {
      return [{ path, message: `"${rule.name}" is the name of a built-in rule; choose another` }];
    }
    const first = seen.get(rule.name);
    if (first !== undefined)
      return [{ path, message: `duplicate rule name "${rule.name}" (first at rules[${first}])` }];
    seen.set(rule.name, index);
    return [];
  });
}

/** A provider's timeout above the interval would let one tick's queries run into the next. */
function timeoutIssues(spec: Obj): PolicyIssue[] {
  const interval = parseDuration(typeof spec.interval === 'string' ? spec.interval : '30s');
  if (interval === null || !isObj(spec.providers)) return [];
  return Object.entries(spec.providers).flatMap(([name, provider]) =>
    Object.entries(isObj(provider) ? provider : {}).flatMap(([kind, settings]) => {
      const timeout = isObj(settings) && typeof settings.timeout === 'string' ? parseDuration(settings.timeout) : null;
      if (timeout === null || timeout <= interval || timeout > DURATION_BOUNDS.timeout.max) return [];
      return [
        {
          path: ['spec', 'providers', name, kind, 'timeout'],
          message:
            `${formatDuration(timeout)} is above spec.interval ${formatDuration(interval)}: a query must end ` +
            `before the next tick`,
        },
      ];
    }),
  );
}
