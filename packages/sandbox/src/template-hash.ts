import { isRecord } from './types.js';

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** JSON with sorted keys: the same template always gives the same text. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The pod-template-hash of a pod template: FNV-32a, encoded as the controller's SafeEncodeString does. */
export function podTemplateHash(template: unknown, collisionCount = 0): string {
  const hash = fnv32a(`${stableJson(template)}${collisionCount ? String(collisionCount) : ''}`);
  return [...String(hash)].map((c) => ALPHANUMS[c.charCodeAt(0) % ALPHANUMS.length]).join('');
}

/** maxSurge / maxUnavailable: an int, or a percentage of `total` rounded up (surge) or down (unavailable). */
export function resolveIntOrPercent(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(typeof value === 'string' ? value : '');
  if (!match) return 0;
  const exact = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}
