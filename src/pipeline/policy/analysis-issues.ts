import type { PolicyIssue } from './issues.js';
import { isObj, list, type Obj } from './objects.js';

type At = (...rest: (string | number)[]) => (string | number)[];

/**
 * A check's inconclusive band lies inside its bounds: `inconclusive.max` between `min` and `max`, `inconclusive.min`
 * between `min` and `max`, the two in order. A band with nothing in it is an error (it would never apply).
 */
export function inconclusiveIssues(check: Obj, at: At): PolicyIssue[] {
  const band = check.inconclusive;
  if (!isObj(band)) return [];
  if (band.min === undefined && band.max === undefined)
    return [{ path: at('inconclusive'), message: 'an inconclusive band needs max or min' }];
  return [...sideIssues(check, band, 'max', at), ...sideIssues(check, band, 'min', at), ...orderIssues(band, at)];
}

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

function sideIssues(check: Obj, band: Obj, side: 'min' | 'max', at: At): PolicyIssue[] {
  const edge = num(band[side]);
  if (edge === undefined) return [];
  const path = at('inconclusive', side);
  const bound = num(check[side]);
  if (bound === undefined)
    return [{ path, message: `inconclusive.${side} needs the check's ${side}: the band lies between them` }];
  const inside = side === 'max' ? edge < bound : edge > bound;
  if (!inside)
    return [
      {
        path,
        message: `inconclusive.${side} ${edge} must be ${side === 'max' ? 'below max' : 'above min'} ${bound}`,
      },
    ];
  const other = num(check[side === 'max' ? 'min' : 'max']);
  const beyond = other !== undefined && (side === 'max' ? edge < other : edge > other);
  return beyond
    ? [
        {
          path,
          message: `inconclusive.${side} ${edge} is outside the bounds (${side === 'max' ? 'min' : 'max'} ${other})`,
        },
      ]
    : [];
}

function orderIssues(band: Obj, at: At): PolicyIssue[] {
  const [min, max] = [num(band.min), num(band.max)];
  if (min === undefined || max === undefined || min <= max) return [];
  return [{ path: at('inconclusive', 'min'), message: `inconclusive.min ${min} is above inconclusive.max ${max}` }];
}

/**
 * A web check's query: with GET a path or query string (starting with `/` or `?`: it is joined to the provider's url,
 * never an address of its own); with POST a JSON body (placeholders standing for strings inside quotes).
 */
export function webQueryIssues(spec: Obj): PolicyIssue[] {
  const providers = isObj(spec.providers) ? spec.providers : {};
  return list(spec.checks).flatMap((check, index) => {
    if (!isObj(check) || typeof check.query !== 'string' || typeof check.provider !== 'string') return [];
    const provider = providers[check.provider];
    const web = isObj(provider) && isObj(provider.web) ? provider.web : undefined;
    if (!web) return [];
    const path = ['spec', 'checks', index, 'query'];
    if (web.method === 'POST') return jsonBodyIssues(check.query, path);
    return /^[/?]/.test(check.query)
      ? []
      : [
          {
            path,
            message:
              "a GET web check's query is a path or query string joined to the provider's url: start it with / or ?",
          },
        ];
  });
}

function jsonBodyIssues(query: string, path: (string | number)[]): PolicyIssue[] {
  try {
    JSON.parse(query.replace(/\{\{[^}]*\}\}/g, 'x'));
    return [];
  } catch (error) {
    return [
      {
        path,
        message: `a POST web check's query is its JSON body (placeholders inside strings): ${(error as Error).message}`,
      },
    ];
  }
}

/** Webhook names are unique: a webhook's answers are the fact `webhooks.<name>`. */
export function webhookIssues(spec: Obj): PolicyIssue[] {
  const seen = new Map<string, number>();
  return list(spec.webhooks).flatMap((hook, index) => {
    if (!isObj(hook) || typeof hook.name !== 'string') return [];
    const first = seen.get(hook.name);
    if (first === undefined) {
      seen.set(hook.name, index);
      return [];
    }
    return [
      {
        path: ['spec', 'webhooks', index, 'name'],
        message: `duplicate webhook name "${hook.name}" (first at webhooks[${first}])`,
      },
    ];
  });
}
