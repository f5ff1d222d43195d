/**
 * float32 → float16 / bfloat16 rounding (to nearest even) and back, written from IEEE 754,
 * independently of the addon's own conversions: builds half-precision inputs for the tests and the
 * GPU benchmark, and the exact values the oracle is given.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → bfloat16 bits, round to nearest even (NaN stays NaN). */
export function bfloat16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return (bits >>> 16) | 0x40;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 → IEEE binary16 bits, round to nearest even, with subnormals and overflow to ∞. */
export function float16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e16 = exponent - 127 + 15;
  if (e16 >= 0x1f) return sign | 0x7c00;
  if (e16 <= 0) {
    if (e16 < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e16;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const middle = 1 << (shift - 1);
    if (rest > middle || (rest === middle && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e16 << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++; // a carry rounds into the exponent, as it should
  return sign | half;
}

/** The value of float16 / bfloat16 bits. */
export function halfValue(bits: number, dtype: 'float16' | 'bfloat16'): number {
  if (dtype === 'bfloat16') {
    u32[0] = bits << 16;
    return f32[0]!;
  }
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** The half-precision bits of a float32 array (rounded to nearest even). */
export function halfBits(x: Float32Array, dtype: 'float16' | 'bfloat16'): Uint16Array {
  const bits = new Uint16Array(x.length);
  const round = dtype === 'bfloat16' ? bfloat16Bits : float16Bits;
  for (let i = 0; i < x.length; i++) bits[i] = round(x[i]!);
  return bits;
}

/** A float32 array rounded to half precision: the bits to pass, and their exact values for the oracle. */
export function toHalf(x: Float32Array, dtype: 'float16' | 'bfloat16'): { bits: Uint16Array; values: Float32Array } {
  const bits = halfBits(x, dtype);
  const values = Float32Array.from(bits, (b) => halfValue(b, dtype));
  return { bits, values };
}

export type HalfDtype = 'float16' | 'bfloat16';

/** Values rounded to the half type, as bit patterns (the logits-loss tests' spelling of {@link halfBits}). */
export function encodeHalf(values: ArrayLike<number>, dtype: HalfDtype): Uint16Array {
  return halfBits(Float32Array.from(values), dtype);
}

/** Bit patterns widened to numbers (exact). */
export function decodeHalf(bits: Uint16Array, dtype: HalfDtype): Float64Array {
  return Float64Array.from(bits, (b) => halfValue(b, dtype));
}
