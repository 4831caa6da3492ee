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

const DURATION_TEXT = z
  .string()
  .regex(DURATION, { error: (iss) => `expected a duration like 30s, 5m or 1h30m, got ${JSON.stringify(iss.input)}` });

/** The allowed range of each duration of a policy, in seconds (docs/policy.md). */
export const DURATION_BOUNDS = {
  interval: { min: 1, max: 3600 },
  soak: { min: 0, max: 24 * 3600 },
  pause: { min: 0.001, max: 7 * 24 * 3600 },
  timeout: { min: 0.1, max: 300 },
  progressDeadline: { min: 10, max: 24 * 3600 },
  /** A comparison check's `compare.window` and `compare.step`. */
  window: { min: 1, max: 24 * 3600 },
  step: { min: 1, max: 3600 },
  scaleDownDelay: { min: 0, max: 24 * 3600 },
  maxAge: { min: 1, max: 30 * 24 * 3600 },
} as const;

/** A duration within [min, max] seconds; `0s` only when min is 0. */
export function boundedDuration(bounds: { min: number; max: number }) {
  return DURATION_TEXT.superRefine((text, ctx) => {
    const seconds = parseDuration(text);
    if (seconds === null) return;
    if (bounds.min > 0 && seconds === 0) ctx.addIssue({ code: 'custom', message: 'a duration must be longer than 0s' });
    else if (seconds < bounds.min)
      ctx.addIssue({
        code: 'custom',
        message: `must be at least ${formatDuration(bounds.min)}, got ${JSON.stringify(text)}`,
      });
    else if (seconds > bounds.max)
      ctx.addIssue({
        code: 'custom',
        message: `must be at most ${formatDuration(bounds.max)}, got ${JSON.stringify(text)}`,
      });
  });
}
