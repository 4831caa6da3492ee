/**
 * Location estimates: the median, and the Hodges–Lehmann estimate of the shift between two samples
 * (the median of every difference xᵢ − yⱼ), the estimate R's `wilcox.test(x, y, conf.int = TRUE)`
 * reports as "difference in location" when it computes the exact distribution.
 */

/** The k-th smallest value (0-based) of a typed array, rearranging it: Hoare's selection, linear on average. */
function select(values: Float64Array, k: number): number {
  let low = 0;
  let high = values.length - 1;
  while (low < high) {
    const pivot = values[(low + high) >>> 1]!;
    let i = low;
    let j = high;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        [values[i], values[j]] = [values[j]!, values[i]!];
        i++;
        j--;
      }
    }
    if (k <= j) high = j;
    else if (k >= i) low = i;
    else return values[k]!;
  }
  return values[k]!;
}

/** The median of a typed array (the mean of the two middle values of an even count); rearranges it. */
function medianInPlace(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return NaN;
  const upper = select(values, n >> 1);
  if (n % 2 === 1) return upper;
  // After selecting the upper middle, every value left of it is at most it: the lower middle is their maximum.
  let lower = -Infinity;
  for (let i = 0; i < n >> 1; i++) lower = Math.max(lower, values[i]!);
  return (lower + upper) / 2;
}

export function median(values: readonly number[]): number {
  return medianInPlace(Float64Array.from(values));
}

/** The Hodges–Lehmann shift of x against y: the median of the n·m differences xᵢ − yⱼ. */
export function hodgesLehmann(x: readonly number[], y: readonly number[]): number {
  const differences = new Float64Array(x.length * y.length);
  let k = 0;
  for (const a of x) for (const b of y) differences[k++] = a - b;
  return medianInPlace(differences);
}
