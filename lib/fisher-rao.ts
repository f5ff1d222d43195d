import { addon } from './native.js';
import type { ExecutionOptions, FieldOf, Float32Output, FloatInput, Int32Input, Placement } from './device.js';

/** Shape of two batches of distributions compared row by row. */
export interface FisherRaoShape {
  /** Number of rows (distributions); a non-negative integer. */
  rows: number;
  /** Entries per row; a positive integer. */
  cols: number;
}

/** Shape of a batch of sequences of distributions, compared step to step. */
export interface FisherRaoAdjacentShape<L extends Int32Input = Int32Array> {
  /** Number of sequences. */
  batch: number;
  /** Rows per sequence. */
  steps: number;
  /** Stored entries per row (row stride). */
  width: number;
  /**
   * `Int32Array(batch*steps)`: entries of row (b,t) that are valid, each in `[0, width]`.
   * Defaults to `width` for every row. Entries past a row's length are never read. May be a
   * DeviceArray of int32.
   */
  lengths?: L;
}

/**
 * Fisher–Rao distance between row i of `p` and row i of `q`, for every row.
 *
 * Each row is first normalised to sum to 1; a row with zero mass counts as uniform.
 * The distance is `2·arccos(Σ √(p̂ q̂))`, in `[0, π]`, computed in the numerically stable form
 * `4·arcsin(½‖√p̂ − √q̂‖₂)` with float64 accumulation, so small shifts are not lost to rounding.
 *
 * Runs on the CPU or on CUDA (`options.device`: `'cpu' | 'cuda' | 'auto'`); both give the same numbers to
 * float rounding. `p` and `q` may be half-precision host data (`{ data: Uint16Array, dtype }`) or
 * DeviceArrays (float32/float16/bfloat16, the same type for both); with a DeviceArray input the
 * result is a DeviceArray.
 *
 * @param p - `Float32Array(rows*cols)`, row-major, non-negative finite entries.
 * @param q - `Float32Array(rows*cols)`, same layout as `p`.
 * @returns `Float32Array(rows)` of distances (a DeviceArray when an input is one).
 * @throws TypeError when `p`/`q` are not float arrays (or differ in element type) or the shape
 *   fields are not numbers; RangeError when lengths do not match the shape, or an entry is
 *   negative, NaN or infinite (the message names the array and the index); Error when
 *   `device: 'cuda'` cannot be used, or with CUDA's message on a CUDA error.
 * @example
 * ```ts
 * const p = new Float32Array([1, 0, 0.5, 0.5]);
 * const q = new Float32Array([0, 1, 0.5, 0.5]);
 * fisherRao(p, q, { rows: 2, cols: 2 }); // Float32Array [π, 0]
 * fisherRao(p, q, { rows: 2, cols: 2 }, { device: 'cuda' }); // the same, computed on the GPU
 * ```
 */
export function fisherRao<P extends FloatInput, Q extends FloatInput>(
  p: P,
  q: Q,
  shape: FisherRaoShape,
  options?: ExecutionOptions,
): Float32Output<Placement<P | Q>> {
  return addon.fisherRao(p, q, shape, options) as Float32Output<Placement<P | Q>>;
}

/** {@link fisherRao} on a worker thread; inputs must not be modified until the promise settles. */
export function fisherRaoAsync<P extends FloatInput, Q extends FloatInput>(
  p: P,
  q: Q,
  shape: FisherRaoShape,
  options?: ExecutionOptions,
): Promise<Float32Output<Placement<P | Q>>> {
  return addon.fisherRaoAsync(p, q, shape, options) as Promise<Float32Output<Placement<P | Q>>>;
}

/**
 * Fisher–Rao distance between consecutive rows of each sequence.
 *
 * Entry (b,t) is the distance between rows (b,t−1) and (b,t) over their first
 * `m = min(lengths[b,t−1], lengths[b,t])` entries, each side renormalised over that prefix
 * (zero mass → uniform over the prefix). Entry (b,0) is 0, and so is any entry whose common
 * prefix is empty (`m = 0`).
 *
 * Runs on the CPU or on CUDA (`options.device`); `x` may be half-precision host data or a
 * DeviceArray, `lengths` an int32 DeviceArray; with a DeviceArray input the result is one.
 *
 * @param x - `Float32Array(batch*steps*width)`, row-major.
 * @returns `Float32Array(batch*steps)`.
 * @example
 * ```ts
 * // one sequence of three rows over a growing prefix
 * const x = new Float32Array([1, 0, 0,  0.5, 0.5, 0,  0.2, 0.3, 0.5]);
 * fisherRaoAdjacent(x, { batch: 1, steps: 3, width: 3, lengths: new Int32Array([1, 2, 3]) });
 * ```
 */
export function fisherRaoAdjacent<X extends FloatInput, S extends FisherRaoAdjacentShape<Int32Input>>(
  x: X,
  shape: S,
  options?: ExecutionOptions,
): Float32Output<Placement<X | FieldOf<S, 'lengths'>>> {
  return addon.fisherRaoAdjacent(x, shape, options) as Float32Output<Placement<X | FieldOf<S, 'lengths'>>>;
}

/** {@link fisherRaoAdjacent} on a worker thread; inputs must not be modified until the promise settles. */
export function fisherRaoAdjacentAsync<X extends FloatInput, S extends FisherRaoAdjacentShape<Int32Input>>(
  x: X,
  shape: S,
  options?: ExecutionOptions,
): Promise<Float32Output<Placement<X | FieldOf<S, 'lengths'>>>> {
  return addon.fisherRaoAdjacentAsync(x, shape, options) as Promise<Float32Output<Placement<X | FieldOf<S, 'lengths'>>>>;
}
