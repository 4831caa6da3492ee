/**
 * Kubernetes resource quantities (`resource.Quantity`): parsed exactly, and written back in the
 * canonical form the API server stores and returns (`0.5` → `500m`, `1024Mi` → `1Gi`, `1` → `1`).
 */

type Format = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export interface Quantity {
  /** The value is mantissa × 10^scale, exactly. */
  mantissa: bigint;
  scale: number;
  format: Format;
}

const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const SHAPE = /^([+-]?)([0-9]*)(?:\.([0-9]*))?([a-zA-Z]*)([-+]?[0-9]*)$/;

function suffixOf(letters: string, digits: string): { format: Format; scale: number; binary: number } | undefined {
  if (digits === '' && letters in DECIMAL) return { format: 'DecimalSI', scale: DECIMAL[letters] ?? 0, binary: 0 };
  if (digits === '' && letters in BINARY) return { format: 'BinarySI', scale: 0, binary: BINARY[letters] ?? 0 };
  if ((letters === 'e' || letters === 'E') && /^[-+]?[0-9]+$/.test(digits))
    return { format: 'DecimalExponent', scale: Number(digits), binary: 0 };
  return undefined;
}

/** Below a nano the API server rounds up (away from zero) to a whole nano. */
function roundToNano(mantissa: bigint, scale: number): { mantissa: bigint; scale: number } {
  if (scale >= -9) return { mantissa, scale };
  const divisor = 10n ** BigInt(-9 - scale);
  const rounded = mantissa / divisor;
  const exact = rounded * divisor === mantissa;
  return { mantissa: exact ? rounded : rounded + (mantissa > 0n ? 1n : -1n), scale: -9 };
}

function textOf(input: unknown): string | undefined {
  if (typeof input === 'number' && Number.isFinite(input)) return String(input);
  return typeof input === 'string' ? input.trim() : undefined;
}

/** A quantity from its text (or a JSON number, which the API server reads as text); undefined when it is none. */
export function parseQuantity(input: unknown): Quantity | undefined {
  const m = SHAPE.exec(textOf(input) ?? '!');
  if (!m) return undefined;
  const [, sign = '', whole = '', fraction = '', letters = '', digits = ''] = m;
  const suffix = whole === '' && fraction === '' ? undefined : suffixOf(letters, digits);
  if (!suffix) return undefined;
  const mantissa = BigInt(`${sign === '-' ? '-' : ''}${whole}${fraction}`) * 1024n ** BigInt(suffix.binary);
  return { ...roundToNano(mantissa, suffix.scale - fraction.length), format: suffix.format };
}

function decimalCanonical(q: Quantity): string {
  let { mantissa, scale } = q;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    scale += 1;
  }
  // the exponent is lowered to a multiple of three: 1.5 is 1500m, 15k stays 15k
  const down = ((scale % 3) + 3) % 3;
  mantissa *= 10n ** BigInt(down);
  scale -= down;
  const suffix = Object.entries(DECIMAL).find(([, s]) => s === scale)?.[0];
  if (q.format === 'DecimalSI' && suffix !== undefined) return `${mantissa}${suffix}`;
  return scale === 0 ? `${mantissa}` : `${mantissa}e${scale}`;
}

/** The whole value of a quantity, or undefined when it has a fraction. */
function integral(q: Quantity): bigint | undefined {
  if (q.scale >= 0) return q.mantissa * 10n ** BigInt(q.scale);
  const divisor = 10n ** BigInt(-q.scale);
  return q.mantissa % divisor === 0n ? q.mantissa / divisor : undefined;
}

/** The canonical text of a quantity (Quantity.String of the stored value). */
export function formatQuantity(q: Quantity): string {
  if (q.mantissa === 0n) return '0';
  if (q.format !== 'BinarySI') return decimalCanonical(q);
  let value = integral(q);
  // small or fractional binary values are shown in decimal form, as the API server does
  if (value === undefined || (value < 1024n && value > -1024n)) return decimalCanonical({ ...q, format: 'DecimalSI' });
  let power = 0;
  while (value % 1024n === 0n && power < 6) {
    value /= 1024n;
    power += 1;
  }
  const suffix = Object.entries(BINARY).find(([, p]) => p === power)?.[0] ?? '';
  return `${value}${suffix}`;
}

/** The canonical text of a quantity given as text or a number; the input itself when it does not parse. */
export function canonicalQuantity(value: unknown): unknown {
  const q = parseQuantity(value);
  return q ? formatQuantity(q) : value;
}

/** The value in thousandths, rounded up (Quantity.MilliValue), e.g. CPU millicores. */
export function milliValue(q: Quantity): number {
  const shift = q.scale + 3;
  if (shift >= 0) return Number(q.mantissa * 10n ** BigInt(shift));
  const divisor = 10n ** BigInt(-shift);
  const whole = q.mantissa / divisor;
  return Number(whole * divisor === q.mantissa || q.mantissa < 0n ? whole : whole + 1n);
}

/** A millivalue as the controllers write it: `resource.NewMilliQuantity(v, DecimalSI).String()`. */
export function milliQuantity(milli: number): string {
  return formatQuantity({ mantissa: BigInt(Math.round(milli)), scale: -3, format: 'DecimalSI' });
}
