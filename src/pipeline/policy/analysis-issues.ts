import type { PolicyIssue } from './issues.js';
import { isObj, type Obj } from './objects.js';

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
