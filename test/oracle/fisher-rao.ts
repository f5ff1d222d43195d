/**
 * Float64 reference for the Fisher–Rao distance (method §3), written from the spec.
 *
 * FR(p, q) = 2·arccos(Σ √(p̂ q̂)) on the normalised rows p̂, q̂. The arccos form is itself
 * imprecise near BC = 1 even in float64 (for FR ≈ 1e-7, 1 − BC ≈ 1e-15 is at the rounding level),
 * so the oracle uses the equivalent form 4·arcsin(½‖√p̂ − √q̂‖₂), which has no cancellation.
 * A row (region) with zero mass is uniform.
 */

// The public shape types (type-only: erased at run time, so the oracle never loads the addon).
import type { FisherRaoAdjacentShape, FisherRaoShape } from '../../lib/index.js';
export type { FisherRaoAdjacentShape, FisherRaoShape };

/**
 * FR between two (unnormalised, non-negative) distributions given as the entries
 * `a[aOff + idx[j]]` and `b[bOff + idx[j]]`, j < idx.length; zero mass → uniform over idx.
 * Returns 0 for an empty index set (the callers decide whether that case is meaningful).
 */
export function frOverIndices(
  a: ArrayLike<number>,
  aOff: number,
  b: ArrayLike<number>,
  bOff: number,
  idx: ArrayLike<number>,
): number {
  const n = idx.length;
  if (n === 0) return 0;
  let sa = 0;
  let sb = 0;
  for (let j = 0; j < n; j++) {
    sa += a[aOff + idx[j]!]!;
    sb += b[bOff + idx[j]!]!;
  }
  let acc = 0;
  for (let j = 0; j < n; j++) {
    const pa = sa > 0 ? a[aOff + idx[j]!]! / sa : 1 / n;
    const pb = sb > 0 ? b[bOff + idx[j]!]! / sb : 1 / n;
    const d = Math.sqrt(pa) - Math.sqrt(pb);
    acc += d * d;
  }
  return 4 * Math.asin(Math.min(1, 0.5 * Math.sqrt(acc)));
}

/** FR between a[aOff .. aOff+n) and b[bOff .. bOff+n) (contiguous), zero mass → uniform. */
export function frContiguous(a: ArrayLike<number>, aOff: number, b: ArrayLike<number>, bOff: number, n: number): number {
  if (n === 0) return 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < n; i++) {
    sa += a[aOff + i]!;
    sb += b[bOff + i]!;
  }
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const pa = sa > 0 ? a[aOff + i]! / sa : 1 / n;
    const pb = sb > 0 ? b[bOff + i]! / sb : 1 / n;
    const d = Math.sqrt(pa) - Math.sqrt(pb);
    acc += d * d;
  }
  return 4 * Math.asin(Math.min(1, 0.5 * Math.sqrt(acc)));
}

/** Row-by-row FR of `p` and `q` (each `rows*cols`, row-major), float64. */
export function fisherRaoRef(p: ArrayLike<number>, q: ArrayLike<number>, shape: FisherRaoShape): Float64Array {
  const { rows, cols } = shape;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) out[r] = frContiguous(p, r * cols, q, r * cols, cols);
  return out;
}

/**
 * The textbook form 2·arccos(BC) evaluated in float64 (for cross-checking the oracle where FR is
 * not small; it loses precision as FR → 0).
 */
export function fisherRaoAcos64(p: ArrayLike<number>, q: ArrayLike<number>, shape: FisherRaoShape): Float64Array {
  const { rows, cols } = shape;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let sp = 0;
    let sq = 0;
    for (let c = 0; c < cols; c++) {
      sp += p[r * cols + c]!;
      sq += q[r * cols + c]!;
    }
    let bc = 0;
    for (let c = 0; c < cols; c++) {
      const pp = sp > 0 ? p[r * cols + c]! / sp : 1 / cols;
      const qq = sq > 0 ? q[r * cols + c]! / sq : 1 / cols;
      bc += Math.sqrt(pp * qq);
    }
    out[r] = 2 * Math.acos(Math.min(1, bc));
  }
  return out;
}

/**
 * The naive form a careless kernel would use: everything in float32 (Math.fround after every
 * operation), BC accumulated in float32, then 2·acos(BC). Exported to show that it FAILS the
 * tiny-shift accuracy criterion (rel ≤ 1e-4 where FR ≥ 1e-3), i.e. that criterion has teeth.
 */
export function fisherRaoNaiveFloat32(p: ArrayLike<number>, q: ArrayLike<number>, shape: FisherRaoShape): Float32Array {
  const f = Math.fround;
  const { rows, cols } = shape;
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let sp = 0;
    let sq = 0;
    for (let c = 0; c < cols; c++) {
      sp = f(sp + f(p[r * cols + c]!));
      sq = f(sq + f(q[r * cols + c]!));
    }
    const u = f(1 / cols);
    let bc = 0;
    for (let c = 0; c < cols; c++) {
      const pp = sp > 0 ? f(f(p[r * cols + c]!) / sp) : u;
      const qq = sq > 0 ? f(f(q[r * cols + c]!) / sq) : u;
      bc = f(bc + f(Math.sqrt(f(pp * qq))));
    }
    bc = Math.min(bc, 1);
    out[r] = f(2 * f(Math.acos(bc)));
  }
  return out;
}

/**
 * Step-to-step FR of each sequence: entry (b,0) = 0; entry (b,t) over the common prefix
 * m = min(len[b,t−1], len[b,t]), each side renormalised over the prefix (zero mass → uniform);
 * m = 0 → 0. Lengths default to `width`.
 */
export function fisherRaoAdjacentRef(x: ArrayLike<number>, shape: FisherRaoAdjacentShape): Float64Array {
  const { batch, steps, width, lengths } = shape;
  const out = new Float64Array(batch * steps);
  for (let b = 0; b < batch; b++) {
    for (let t = 1; t < steps; t++) {
      const i = b * steps + t;
      const l0 = lengths ? lengths[i - 1]! : width;
      const l1 = lengths ? lengths[i]! : width;
      const m = Math.min(l0, l1);
      out[i] = m === 0 ? 0 : frContiguous(x, (i - 1) * width, x, i * width, m);
    }
  }
  return out;
}
