import { normalSf } from './normal.js';

/**
 * The Mann-Whitney U test of two independent samples, computed as SciPy's
 * `scipy.stats.mannwhitneyu(x, y, use_continuity=…, alternative=…, method=…)` computes it
 * (scipy/stats/_mannwhitneyu.py): U is the statistic of the first sample, `x`; the p-value comes
 * from the exact null distribution of U, or from the normal approximation with the tie correction
 * and (by default) the continuity correction. `auto`, SciPy's default, takes the exact distribution
 * when one of the samples has at most 8 values and no value is tied, the normal approximation
 * otherwise. R's `wilcox.test(x, y)` reports the same U as `W`.
 */
export type Alternative = 'two-sided' | 'less' | 'greater';
export type Method = 'auto' | 'exact' | 'asymptotic';

export interface MannWhitneyOptions {
  /** `greater`: x is stochastically greater than y; `less`: smaller; `two-sided` (default): either. */
  alternative?: Alternative;
  method?: Method;
  /** The continuity correction of the normal approximation (default true, as SciPy). */
  continuity?: boolean;
}

export interface MannWhitneyResult {
  /** U of the first sample: the number of pairs (xᵢ, yⱼ) with xᵢ > yⱼ, a tie counting a half. */
  u: number;
  pValue: number;
  method: 'exact' | 'asymptotic';
}

/** Average ranks (1-based) of the values, and the size of every group of tied values. */
export function averageRanks(values: readonly number[]): { ranks: number[]; ties: number[] } {
  const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Array<number>(values.length);
  const ties: number[] = [];
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && values[order[end]!] === values[order[start]!]) end++;
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]!] = rank;
    ties.push(end - start);
    start = end;
  }
  return { ranks, ties };
}

/**
 * How many of the C(m+n, m) arrangements of two samples give each U, 0 … m·n: the coefficients of
 * the Gaussian binomial [m+n choose m]_q = ∏ᵢ (1 − q^(n+i)) / (1 − q^i), built one factor at a
 * time in exact integers (each partial product is itself a Gaussian binomial, so every division is exact).
 */
export function uFrequencies(m: number, n: number): bigint[] {
  const [small, large] = m <= n ? [m, n] : [n, m];
  let poly: bigint[] = [1n];
  for (let i = 1; i <= small; i++) {
    const degree = i * large;
    const times = new Array<bigint>(degree + i + 1).fill(0n);
    poly.forEach((c, k) => {
      times[k]! += c;
      times[k + large + i]! -= c;
    });
    const next = new Array<bigint>(degree + 1).fill(0n);
    for (let k = 0; k <= degree; k++) next[k] = times[k]! + (k >= i ? next[k - i]! : 0n);
    poly = next;
  }
  return poly;
}

/** P(U ≥ u) under the null hypothesis, from the exact distribution (SciPy's `_MWU.sf`). */
export function exactSf(u: number, m: number, n: number): number {
  const counts = uFrequencies(m, n);
  const from = Math.max(0, Math.trunc(u));
  let tail = 0n;
  let total = 0n;
  counts.forEach((c, k) => {
    total += c;
    if (k >= from) tail += c;
  });
  return Number(tail) / Number(total);
}

/** The chosen statistic and the factor of the p-value (two-sided doubles the one tail). */
function oriented(u1: number, n1: number, n2: number, alternative: Alternative): { u: number; factor: number } {
  const u2 = n1 * n2 - u1;
  if (alternative === 'greater') return { u: u1, factor: 1 };
  if (alternative === 'less') return { u: u2, factor: 1 };
  return { u: Math.max(u1, u2), factor: 2 };
}

/** The normal approximation's p-value of the chosen statistic, tie-corrected (SciPy's `_get_mwu_z`). */
function asymptoticP(u: number, sizes: [number, number], ties: number[], continuity: boolean): number {
  const [n1, n2] = sizes;
  const n = n1 + n2;
  const tieTerm = ties.reduce((sum, t) => sum + (t ** 3 - t), 0);
  const sd = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  const numerator = u - (n1 * n2) / 2 - (continuity ? 0.5 : 0);
  return normalSf(numerator / sd);
}

/** Whether the exact distribution is used: asked for, or `auto` with a sample of at most 8 values and no tie. */
function usesExact(method: Method, sizes: [number, number], ties: number[]): boolean {
  if (method !== 'auto') return method === 'exact';
  return Math.min(...sizes) <= 8 && ties.every((t) => t === 1);
}

export function mannWhitneyU(
  x: readonly number[],
  y: readonly number[],
  options: MannWhitneyOptions = {},
): MannWhitneyResult {
  const [n1, n2] = [x.length, y.length];
  if (n1 === 0 || n2 === 0) throw new RangeError('mannWhitneyU: both samples need at least one value');
  if ([...x, ...y].some((v) => !Number.isFinite(v))) throw new RangeError('mannWhitneyU: every value must be finite');
  const { ranks, ties } = averageRanks([...x, ...y]);
  const u1 = ranks.slice(0, n1).reduce((sum, r) => sum + (r - (n1 + 1) / 2), 0);
  const { u, factor } = oriented(u1, n1, n2, options.alternative ?? 'two-sided');
  const exact = usesExact(options.method ?? 'auto', [n1, n2], ties);
  const tail = exact ? exactSf(u, n1, n2) : asymptoticP(u, [n1, n2], ties, options.continuity ?? true);
  // SciPy clips too: a two-sided p of a U at the centre would be above 1.
  return { u: u1, pValue: Math.min(1, Math.max(0, tail * factor)), method: exact ? 'exact' : 'asymptotic' };
}
