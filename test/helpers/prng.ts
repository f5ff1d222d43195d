/**
 * A tiny seeded PRNG (mulberry32) so that every randomised test reproduces exactly.
 * Each test builds its own `Rng` from a fixed seed; print the seed in the test name when it matters.
 */

import { mulberry32 } from '../../lib/random.js';

export { mulberry32 };

export class Rng {
  private readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = mulberry32(seed);
  }
  /** Uniform in [0, 1). */
  uniform(): number {
    return this.next();
  }
  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Integer uniform in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    let u = this.next();
    while (u <= 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** True with probability `p`. */
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  /** One element of `xs`. */
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  /** `Float32Array(n)` filled by `f`. */
  f32(n: number, f: (i: number) => number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = f(i);
    return out;
  }
  /** `Float32Array(n)` uniform in [lo, hi). */
  f32Uniform(n: number, lo = 0, hi = 1): Float32Array {
    return this.f32(n, () => this.range(lo, hi));
  }
  /**
   * `rows*cols` non-negative weights that look like attention/probability rows: exponentials of
   * normals (heavy-ish tail), each row normalised to sum 1 (then rounded to float32, so rows are
   * only approximately normalised, which the kernels must handle anyway).
   */
  probRows(rows: number, cols: number, temperature = 1): Float32Array {
    const out = new Float32Array(rows * cols);
    const tmp = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) {
        tmp[c] = Math.exp(temperature * this.normal());
        s += tmp[c]!;
      }
      for (let c = 0; c < cols; c++) out[r * cols + c] = tmp[c]! / s;
    }
    return out;
  }
}
