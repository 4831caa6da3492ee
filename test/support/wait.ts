/**
 * Test support every suite uses: waiting on a condition (never on a fixed delay).
 */

/** What a probe returns while the condition does not hold yet: every falsy value. */
export type NotYet = undefined | null | false | 0 | '';

/**
 * Polls until `probe` returns a truthy value (and returns it), or fails after `timeoutMs`. Every
 * falsy value — undefined, null, false, 0, '' and NaN — means "not yet": a probe such as
 * `() => list.length` waits for a non-empty list, never succeeds at once on 0. To wait for a value
 * that may legitimately be falsy, return a boolean (`count === 0`) or wrap it (`{ count }`).
 */
export async function waitFor<T>(
  probe: () => T | NotYet | Promise<T | NotYet>,
  timeoutMs = 8000,
  what: string | (() => string) = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${typeof what === 'function' ? what() : what}${last instanceof Error ? `: ${last.message}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 25));
  }
}
