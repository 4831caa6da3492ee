import { describe, expect, it } from 'vitest';
import { averageRanks, exactSf, mannWhitneyU, uFrequencies } from '../../src/lib/stats/mann-whitney.js';
import { hodgesLehmann, median } from '../../src/lib/stats/location.js';
import { erfc, normalSf } from '../../src/lib/stats/normal.js';

/**
 * Every expected value below is a literal from a published source, named beside it: the
 * examples of SciPy's `mannwhitneyu` documentation (scipy/stats/_mannwhitneyu.py, the same in
 * SciPy 1.7 to 1.17), and R's `wilcox.test` (R 4.2.2) on the examples of its own help page
 * (`?wilcox.test`: Hollander & Wolfe's permeability data, and `airquality`). R prints W, the U
 * of its first sample, as SciPy does. A p-value matches to 13 significant digits (the sources
 * print 16 or 17).
 */
const closeTo = (actual: number, expected: number) =>
  expect(Math.abs(actual - expected) / expected, `${actual} vs ${expected}`).toBeLessThan(1e-13);

// SciPy docs, "Examples": ages at diagnosis of type II diabetes (from Shier 2004).
const MALES = [19, 22, 16, 29, 24];
const FEMALES = [20, 11, 17, 12];
// R ?wilcox.test, "Two-sample test": Hollander & Wolfe (1973) 69f, permeability constants.
const TERM = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
const EARLY = [1.15, 0.88, 0.9, 0.74, 1.21];
// R ?wilcox.test, "Formula interface": airquality$Ozone of May (5) and August (8), NA removed, in data order.
const OZONE_MAY = [41, 36, 12, 18, 28, 23, 19, 8, 7, 16, 11, 14, 18, 14, 34, 6, 30, 11, 1, 11, 4, 32, 23, 45, 115, 37];
const OZONE_AUG = [
  39, 9, 16, 78, 35, 66, 122, 89, 110, 44, 28, 65, 22, 59, 23, 31, 44, 21, 9, 45, 168, 73, 76, 118, 84, 85,
];

describe('mannWhitneyU: the p-values and U of the published examples', () => {
  it.each([
    // source, x, y, options, U, p, method used
    [
      'SciPy docs: mannwhitneyu(males, females, method="exact") → U1 17.0, p 0.1111111111111111',
      MALES,
      FEMALES,
      { method: 'exact' },
      17,
      0.1111111111111111,
      'exact',
    ],
    [
      'SciPy docs: the same with the default method (auto: 4 and 5 values, no ties → exact)',
      MALES,
      FEMALES,
      {},
      17,
      0.1111111111111111,
      'exact',
    ],
    [
      'SciPy docs: mannwhitneyu(males, females, method="asymptotic") → 0.11134688653314041',
      MALES,
      FEMALES,
      { method: 'asymptotic' },
      17,
      0.11134688653314041,
      'asymptotic',
    ],
    [
      'SciPy docs: use_continuity=False, method="asymptotic" → 0.0864107329737',
      MALES,
      FEMALES,
      { method: 'asymptotic', continuity: false },
      17,
      0.0864107329737,
      'asymptotic',
    ],
    [
      'SciPy docs: mannwhitneyu(females, males, alternative="less", method="exact") → statistic 3.0, pvalue 0.05555555555555555',
      FEMALES,
      MALES,
      { alternative: 'less', method: 'exact' },
      3,
      0.05555555555555555,
      'exact',
    ],
    [
      'R: wilcox.test(x, y, alternative = "g") → W = 35, p-value 0.1272061272061272 (exact)',
      TERM,
      EARLY,
      { alternative: 'greater' },
      35,
      0.1272061272061272,
      'exact',
    ],
    [
      'R: wilcox.test(x, y, alternative = "greater", exact = FALSE, correct = FALSE) → 0.1103356809599234',
      TERM,
      EARLY,
      { alternative: 'greater', method: 'asymptotic', continuity: false },
      35,
      0.1103356809599234,
      'asymptotic',
    ],
    [
      'R: wilcox.test(x, y, alternative = "greater", exact = FALSE) (continuity correction) → 0.12231180256349168',
      TERM,
      EARLY,
      { alternative: 'greater', method: 'asymptotic' },
      35,
      0.12231180256349168,
      'asymptotic',
    ],
    [
      'R: wilcox.test(x, y, conf.int = TRUE) → p-value 0.2544122544122544 (two-sided, exact)',
      TERM,
      EARLY,
      {},
      35,
      0.2544122544122544,
      'exact',
    ],
    [
      'R: wilcox.test(Ozone ~ Month, airquality, subset = Month %in% c(5, 8)) → W = 127.5, p 0.00012080783076877442 (ties, continuity)',
      OZONE_MAY,
      OZONE_AUG,
      {},
      127.5,
      0.00012080783076877442,
      'asymptotic',
    ],
    [
      'R: wilcox.test(may, aug, alternative = "less") → 6.0403915384387211e-05',
      OZONE_MAY,
      OZONE_AUG,
      { alternative: 'less' },
      127.5,
      6.0403915384387211e-5,
      'asymptotic',
    ],
    [
      'R: wilcox.test(may, aug, alternative = "greater") → 0.9999439498752809',
      OZONE_MAY,
      OZONE_AUG,
      { alternative: 'greater' },
      127.5,
      0.9999439498752809,
      'asymptotic',
    ],
  ] as const)('%s', (_, x, y, options, u, p, method) => {
    const result = mannWhitneyU(x, y, options);
    expect(result.u).toBe(u);
    expect(result.method).toBe(method);
    closeTo(result.pValue, p);
  });

  it('U of x and U of y add up to n·m (SciPy docs: U2 = nx*ny - U1 → 3.0)', () => {
    expect(mannWhitneyU(FEMALES, MALES).u).toBe(MALES.length * FEMALES.length - 17);
  });

  it('never gives a p-value above 1: U at the centre of its distribution, and samples all of one value', () => {
    expect(mannWhitneyU([1, 2], [1.5, 1.5]).pValue).toBe(1);
    expect(mannWhitneyU([3, 3, 3], [3, 3, 3, 3]).pValue).toBe(1);
  });

  it('refuses empty samples and values that are not finite', () => {
    expect(() => mannWhitneyU([], [1])).toThrow('both samples need at least one value');
    expect(() => mannWhitneyU([1, NaN], [1])).toThrow('every value must be finite');
  });
});

describe('the exact distribution of U', () => {
  it.each([
    // m, n, frequencies of U = 0 … m·n, enumerated by hand (the C(m+n, m) ways to place m of the m+n ranks)
    [1, 1, [1, 1]],
    [2, 2, [1, 1, 2, 1, 1]],
    [2, 3, [1, 1, 2, 2, 2, 1, 1]],
    [3, 3, [1, 1, 2, 3, 3, 3, 3, 2, 1, 1]],
  ])('m = %i, n = %i', (m, n, frequencies) => {
    expect(uFrequencies(m, n).map(Number)).toEqual(frequencies);
    expect(uFrequencies(n, m).map(Number)).toEqual(frequencies);
  });

  it('sums to C(m+n, m) for a long sample beside a short one: C(508, 8)', () => {
    const total = uFrequencies(8, 500).reduce((a, b) => a + b, 0n);
    let binomial = 1n;
    for (let i = 1n; i <= 8n; i++) binomial = (binomial * (500n + i)) / i;
    expect(total).toBe(binomial);
  });

  it.each([
    [0, 4, 5, 1],
    [17, 4, 5, 7 / 126],
    [20, 4, 5, 1 / 126],
    [21, 4, 5, 0],
  ])('P(U ≥ %i) for m = %i, n = %i is %d', (u, m, n, p) => {
    expect(exactSf(u, m, n)).toBeCloseTo(p, 15);
  });
});

describe('ranks, the median and the Hodges–Lehmann shift', () => {
  it('gives tied values the average of their ranks, and counts each tie', () => {
    expect(averageRanks([10, 20, 10, 30, 20, 20])).toEqual({ ranks: [1.5, 4, 1.5, 6, 4, 4], ties: [2, 3, 1] });
  });

  it.each([
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
    [[5, 5, 1, 5], 5],
    [[7], 7],
  ])('median(%j) = %d', (values, expected) => {
    expect(median(values)).toBe(expected);
  });

  it('R: wilcox.test(x, y, conf.int = TRUE) → difference in location 0.305 (exact: the median of the 50 differences)', () => {
    expect(hodgesLehmann(TERM, EARLY)).toBeCloseTo(0.30500000000000005, 15);
  });

  it('is the shift between a sample and the same sample moved by a constant', () => {
    const primary = [0.21, 0.19, 0.25, 0.2, 0.22, 0.18, 0.24];
    expect(
      hodgesLehmann(
        primary.map((v) => v + 0.05),
        primary,
      ),
    ).toBeCloseTo(0.05, 12);
  });
});

describe('erfc and the normal survival function', () => {
  it.each([
    // x, erfc(x) as scipy.special.erfc gives it (SciPy 1.17.1)
    [-5, 1.9999999999984626],
    [-1, 1.8427007929497148],
    [-0.3, 1.3286267594591274],
    [0, 1],
    [0.2, 0.7772974107895215],
    [0.5, 0.4795001221869535],
    [1, 0.15729920705028516],
    [2, 0.004677734981047266],
    [3.9, 3.479224859723178e-8],
    [4.1, 6.7000276540849075e-9],
    [10, 2.0884875837625446e-45],
    [26, 5.663192408856145e-296],
    [27, 0],
  ])('erfc(%d) = %d', (x, expected) => {
    if (expected === 0) expect(erfc(x)).toBe(0);
    else closeTo(erfc(x), expected);
  });

  it('P(Z > 1.959963984540054) = 0.025 (the two-sided 5 % point)', () => {
    expect(normalSf(1.959963984540054)).toBeCloseTo(0.025, 15);
  });
});
