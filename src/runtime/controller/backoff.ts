/** `base · 2^(failures-1)`, capped at `max`: the delay before retry number `failures` (1, 2, …). */
export function backoffDelay(failures: number, baseMs: number, maxMs: number): number {
  if (failures <= 0) return 0;
  return Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
}

/** A capped exponential backoff that remembers its failures until reset. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {}

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    this.failures += 1;
    return backoffDelay(this.failures, this.baseMs, this.maxMs);
  }

  reset(): void {
    this.failures = 0;
  }
}
