/**
 * Percent weights as integer pairs, exactly. A step weight is a decimal percent (0.1 = one request
 * in a thousand); a router writes two integers whose ratio is that share with nothing rounded.
 */

/** The most decimal places a weight is searched for; past this a weight is refused everywhere. */
export const MAX_DECIMALS = 10;

/** Two relative integer weights: canary / (canary + primary) is the canary's share. */
export interface IntegerSplit {
  canary: number;
  primary: number;
  /** canary + primary: 100 for whole percents, 1000 for one decimal place, … */
  total: number;
}

/** The decimal places a percent weight needs (0.5 → 1, 0.0001 → 4), or null past MAX_DECIMALS. */
export function decimalsOf(weight: number): number | null {
  for (let decimals = 0; decimals <= MAX_DECIMALS; decimals++) {
    const scale = 10 ** decimals;
    if (Math.round(weight * scale) / scale === weight) return decimals;
  }
  return null;
}

/**
 * The smallest total of the form 100·10^d that gives `weight` exactly: 5 → 5/95, 0.5 → 5/995,
 * 0.1 → 1/999. Null when the weight has more than MAX_DECIMALS places or is outside 0–100.
 */
export function integerSplit(weight: number): IntegerSplit | null {
  if (!Number.isFinite(weight) || weight < 0 || weight > 100) return null;
  const decimals = decimalsOf(weight);
  if (decimals === null) return null;
  const scale = 10 ** decimals;
  const total = 100 * scale;
  const canary = Math.round(weight * scale);
  return { canary, primary: total - canary, total };
}

/** The canary's percent share of two relative weights; 0 when both are 0 (nothing is routed). */
export function shareOf(canary: number, total: number): number {
  return total > 0 ? (canary * 100) / total : 0;
}

/** `5/1000 (0.5%)` */
export function describeShare(canary: number, total: number): string {
  return `${canary}/${total} (${shareOf(canary, total)}%)`;
}

/** A percent as a person writes it: 0.00000001, not 1e-8. */
export function percentText(weight: number): string {
  const decimals = decimalsOf(weight);
  return decimals === null ? String(weight) : weight.toFixed(decimals);
}

/** Canary pods enough to carry `weight` percent of what `stableReplicas` carry (a weighted router's need). */
export function podsForWeight(weight: number, stableReplicas: number): number {
  if (weight <= 0) return 0;
  return Math.max(1, Math.ceil((stableReplicas * Math.min(weight, 100)) / 100));
}
