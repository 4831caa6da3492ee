/**
 * How much the fuzzers run: a fixed seed and a fixed number of cases in CI (a few seconds per
 * file), more with `npm run fuzz` (KUBESTEAD_FUZZ_RUNS, KUBESTEAD_FUZZ_SEED; docs/reliability.md).
 */
const runs = Number(process.env.KUBESTEAD_FUZZ_RUNS ?? '');
const seed = Number(process.env.KUBESTEAD_FUZZ_SEED ?? '');

/** fast-check parameters: `base` cases (CI), or KUBESTEAD_FUZZ_RUNS times as many. */
export function fuzzRuns(base: number): { numRuns: number; seed: number } {
  return {
    numRuns: Number.isInteger(runs) && runs > 0 ? base * runs : base,
    seed: Number.isInteger(seed) && process.env.KUBESTEAD_FUZZ_SEED ? seed : 21,
  };
}
