import { z } from 'zod';

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** Seconds in a Go-style duration (`30s`, `5m`, `1h30m`, `1.5s`, `250ms`); null when malformed. */
export function parseDuration(text: string): number | null {
  if (!DURATION.test(text)) return null;
  let seconds = 0;
  for (const [, amount, unit] of text.matchAll(PART)) {
    seconds += Number(amount) * (UNIT_SECONDS[unit ?? 's'] ?? 1);
  }
  return Math.round(seconds * 1000) / 1000;
}

/** Seconds as the shortest Go-style duration: 300 → `5m`, 5400 → `1h30m`. */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.round((seconds % 60) * 1000) / 1000;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s ? `${s}s` : ''].join('') || '0s';
}

export const durationSchema = z
  .string()
  .regex(DURATION, { error: (iss) => `expected a duration like 30s, 5m or 1h30m, got ${JSON.stringify(iss.input)}` })
  .refine((text) => (parseDuration(text) ?? 1) > 0, { error: 'a duration must be longer than 0s' });
