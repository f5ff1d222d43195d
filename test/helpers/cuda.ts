/**
 * What the CUDA tests need: whether a GPU can be used here (and why not, printed when skipping),
 * half-precision rounding (half.ts), and CPU/CUDA comparison tolerances.
 */
import { it } from 'vitest';
import { capabilities } from '../../lib/index.js';

export { bfloat16Bits, float16Bits, halfBits, halfValue, toHalf } from './half.js';

// Every CUDA output buffer starts as all-ones bytes (NaN, −1) in the test processes, so an element
// a kernel never writes shows up as a mismatch instead of a lucky 0 (native/cuda/calls.cpp).
process.env.DYCO_RL_CUDA_POISON = '1';

const caps = capabilities();

/** A CUDA device can be used by the addon on this machine. */
export const cudaAvailable: boolean = caps.cuda;

/**
 * Set by scripts/gpu-check.sh in its compute-sanitizer phases. A test that provokes a CUDA API error
 * on purpose (an allocation that must fail) would count among the sanitizer's errors, so such a
 * test runs in the plain CUDA test run only.
 */
export const underComputeSanitizer: boolean = process.env.DYCO_RL_UNDER_SANITIZER === '1';

/** Why the CUDA tests are skipped here ('' when they run). */
export const cudaSkipReason: string = caps.cuda ? '' : `no usable CUDA device: ${caps.cudaReason ?? 'no reason reported'}`;

/**
 * When CUDA cannot be used: prints why (once per file) and registers a skipped test named with the
 * reason, so the report shows it next to the skipped suites.
 */
export function reportCudaSkip(file: string): void {
  if (cudaAvailable) return;
  console.log(`[${file}] CUDA tests skipped: ${cudaSkipReason} (npm run test:cuda-emulated runs them on the CPU emulator)`);
  it.skip(`CUDA tests skipped: ${cudaSkipReason}`, () => {});
}

/**
 * CUDA vs the CPU kernels, which compute the same formulas in another order: Fisher–Rao distances
 * and ratios agree to a few float32 roundings; the float64 loss to float64 roundings.
 */
export const CPU_FR_TOL = { abs: 2e-7, rel: 2e-6 };
export const CPU_RATIO_TOL = { abs: 1e-7, rel: 1e-6 };
export const CPU_GRAD_TOL = { abs: 1e-9, rel: 1e-6 };
export const CPU_SCALAR_TOL = { abs: 1e-12, rel: 1e-9 };
