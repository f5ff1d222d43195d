/**
 * IEEE float16 and bfloat16 bit patterns for the tests, by plain arithmetic on the value (not the
 * bit manipulation the native code uses), so the two can check each other. Encoders round the
 * float32 value (`Math.fround`) to nearest, ties to even.
 */

const roundHalfEven = (x: number): number => {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : r;
};

/** Exponent e with 2^e ≤ a < 2^(e+1), for a > 0. */
function exponentOf(a: number): number {
  let e = Math.floor(Math.log2(a));
  while (2 ** e > a) e--;
  while (2 ** (e + 1) <= a) e++;
  return e;
}

/** Encodes with `mantissaBits` fraction bits, exponent bias `bias`, all-ones exponent for Inf/NaN. */
function encode(value: number, mantissaBits: number, exponentBits: number): number {
  const f = Math.fround(value);
  const signShift = mantissaBits + exponentBits;
  const expAllOnes = (1 << exponentBits) - 1;
  const bias = (1 << (exponentBits - 1)) - 1;
  if (Number.isNaN(f)) return (expAllOnes << mantissaBits) | (1 << (mantissaBits - 1));
  const sign = f < 0 || Object.is(f, -0) ? 1 << signShift : 0;
  const a = Math.abs(f);
  const minNormal = 2 ** (1 - bias);
  if (a < minNormal) return sign | roundHalfEven(a / 2 ** (1 - bias - mantissaBits)); // 1 << mantissaBits is the smallest normal
  const e = exponentOf(a);
  const mantissa = roundHalfEven((a / 2 ** e - 1) * 2 ** mantissaBits); // may carry into the exponent
  const bits = ((e + bias) << mantissaBits) + mantissa;
  return sign | Math.min(bits, expAllOnes << mantissaBits); // overflow → Inf
}

function decode(bits: number, mantissaBits: number, exponentBits: number): number {
  const signShift = mantissaBits + exponentBits;
  const expAllOnes = (1 << exponentBits) - 1;
  const bias = (1 << (exponentBits - 1)) - 1;
  const sign = bits & (1 << signShift) ? -1 : 1;
  const e = (bits >> mantissaBits) & expAllOnes;
  const m = bits & ((1 << mantissaBits) - 1);
  if (e === expAllOnes) return m ? NaN : sign * Infinity;
  if (e === 0) return sign * m * 2 ** (1 - bias - mantissaBits);
  return sign * (1 + m / 2 ** mantissaBits) * 2 ** (e - bias);
}

export const toFloat16Bits = (x: number): number => encode(x, 10, 5);
export const fromFloat16Bits = (bits: number): number => decode(bits, 10, 5);
export const toBFloat16Bits = (x: number): number => encode(x, 7, 8);
export const fromBFloat16Bits = (bits: number): number => decode(bits, 7, 8);

export type HalfDtype = 'float16' | 'bfloat16';

/** Values rounded to the half type, as bit patterns. */
export function encodeHalf(values: ArrayLike<number>, dtype: HalfDtype): Uint16Array {
  const enc = dtype === 'float16' ? toFloat16Bits : toBFloat16Bits;
  return Uint16Array.from({ length: values.length }, (_, i) => enc(values[i]!));
}

/** Bit patterns widened to numbers (exact). */
export function decodeHalf(bits: Uint16Array, dtype: HalfDtype): Float64Array {
  const dec = dtype === 'float16' ? fromFloat16Bits : fromBFloat16Bits;
  return Float64Array.from(bits, dec);
}
