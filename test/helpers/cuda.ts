/**
 * What the CUDA tests need: whether a GPU can be used here (and why not, printed when skipping),
 * float32 → float16/bfloat16 rounding and back, written from IEEE 754 (independently of the
 * addon's conversions), and CPU/CUDA/oracle comparison tolerances.
 */
import { it } from 'vitest';
import { capabilities } from '../../lib/index.js';

const caps = capabilities();

/** A CUDA device can be used by the addon on this machine. */
export const cudaAvailable: boolean = caps.cuda;

/** Why the CUDA tests are skipped here ('' when they run). */
export const cudaSkipReason: string = caps.cuda ? '' : `no usable CUDA device: ${caps.cudaReason ?? 'no reason reported'}`;

/**
 * When CUDA cannot be used: prints why (once per file) and registers a skipped test named with the
 * reason, so the report shows it next to the skipped suites.
 */
export function reportCudaSkip(file: string): void {
  if (cudaAvailable) return;
  console.log(`[${file}] CUDA tests skipped: ${cudaSkipReason}`);
  it.skip(`CUDA tests skipped: ${cudaSkipReason}`, () => {});
}

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

/** A float32 array rounded to half precision: the bits to pass, and their exact values for the oracle. */
export function toHalf(x: Float32Array, dtype: 'float16' | 'bfloat16'): { bits: Uint16Array; values: Float32Array } {
  const bits = new Uint16Array(x.length);
  const values = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    bits[i] = dtype === 'bfloat16' ? bfloat16Bits(x[i]!) : float16Bits(x[i]!);
    values[i] = halfValue(bits[i]!, dtype);
  }
  return { bits, values };
}

/**
 * CUDA vs the CPU kernels, which compute the same formulas in another order: Fisher–Rao distances
 * and ratios agree to a few float32 roundings; the float64 loss to float64 roundings.
 */
export const CPU_FR_TOL = { abs: 2e-7, rel: 2e-6 };
export const CPU_RATIO_TOL = { abs: 1e-7, rel: 1e-6 };
export const CPU_GRAD_TOL = { abs: 1e-9, rel: 1e-6 };
export const CPU_SCALAR_TOL = { abs: 1e-12, rel: 1e-9 };
