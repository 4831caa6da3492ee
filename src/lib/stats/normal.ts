/**
 * The complementary error function to full double precision: W. J. Cody's rational Chebyshev
 * approximations ("Rational Chebyshev approximations for the error function", Math. Comp. 23,
 * 1969, pp. 631-638; the coefficients of his SPECFUN routine CALERF, netlib.org/specfun/erf),
 * relative error below 1e-15 everywhere (written as the doubles they round to). Node has no erfc.
 */
interface Rational {
  lead: number;
  num: readonly number[];
  den: readonly number[];
  last: readonly [number, number];
}

/** |x| up to 0.46875: erf(x) = x · R(x²). */
const SMALL: Rational = {
  lead: 0.18577770618460315,
  num: [3.1611237438705655, 113.86415415105016, 377.485237685302],
  den: [23.601290952344122, 244.02463793444417, 1282.6165260773723],
  last: [3209.3775891384694, 2844.236833439171],
};
/** |x| in (0.46875, 4]: erfc(x) = exp(−x²) · R(x). */
const MIDDLE: Rational = {
  lead: 2.1531153547440383e-8,
  num: [
    0.5641884969886701, 8.883149794388377, 66.11919063714163, 298.6351381974001, 881.952221241769, 1712.0476126340707,
    2051.0783778260716,
  ],
  den: [
    15.744926110709835, 117.6939508913125, 537.1811018620099, 1621.3895745666903, 3290.7992357334597, 4362.619090143247,
    3439.3676741437216,
  ],
  last: [1230.3393547979972, 1230.3393548037495],
};
/** |x| above 4: erfc(x) = exp(−x²)/x · (1/√π − R(1/x²)/x²). */
const LARGE: Rational = {
  lead: 0.016315387137302097,
  num: [0.30532663496123236, 0.36034489994980445, 0.12578172611122926, 0.016083785148742275],
  den: [2.568520192289822, 1.8729528499234604, 0.5279051029514285, 0.06051834131244132],
  last: [0.0006587491615298378, 0.0023352049762686918],
};
const ONE_OVER_SQRT_PI = 0.5641895835477563;
/** Beyond this, erfc(x) underflows to 0 in double precision. */
const X_BIG = 26.543;

/** A rational function of t, (lead·tᵏ⁺¹ + …) / (tᵏ⁺¹ + …), in Horner form as Cody evaluates it. */
function ratio(t: number, { lead, num, den, last }: Rational): number {
  let n = lead * t;
  let d = t;
  for (let i = 0; i < num.length; i++) {
    n = (n + num[i]!) * t;
    d = (d + den[i]!) * t;
  }
  return (n + last[0]) / (d + last[1]);
}

/** exp(-y²) without the cancellation of squaring y whole: y split into a multiple of 1/16 and the rest. */
function expMinusSquare(y: number): number {
  const head = Math.trunc(y * 16) / 16;
  const rest = (y - head) * (y + head);
  return Math.exp(-head * head) * Math.exp(-rest);
}

/** erfc(|x|) for |x| above 0.46875. */
function erfcTail(y: number): number {
  if (y <= 4) {
    return expMinusSquare(y) * ratio(y, MIDDLE);
  }
  if (y >= X_BIG) return 0;
  const inv = 1 / (y * y);
  const r = inv * ratio(inv, LARGE);
  return expMinusSquare(y) * ((ONE_OVER_SQRT_PI - r) / y);
}

/** The complementary error function, erfc(x) = 1 − erf(x). */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const y = Math.abs(x);
  if (y <= 0.46875) {
    const square = y > 1.11e-16 ? y * y : 0;
    return 1 - x * ratio(square, SMALL);
  }
  const tail = erfcTail(y);
  return x < 0 ? 2 - tail : tail;
}

/** The standard normal distribution's survival function, P(Z > z). */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}
