import { semanticForm } from './semantic.js';

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * The pod-template-hash of a pod template: FNV-32a over its Go value (semanticForm: an absent field, its null and
 * its zero value hash alike, as the controller's DeepHashObject of the decoded template does), encoded as its
 * SafeEncodeString does.
 */
export function podTemplateHash(template: unknown, collisionCount = 0): string {
  const hash = fnv32a(`${JSON.stringify(semanticForm(template))}${collisionCount ? String(collisionCount) : ''}`);
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
