import { addon } from './native.js';
import type { ExecutionOptions, FieldOf, Float32Output, FloatInput, Int32Input, Placement, Uint8Input } from './device.js';

/** Key modality labels used by {@link attentionStats}. */
export const Modality = {
  /** System prompt and anything before the image: counted in neither region. */
  Other: 0,
  /** Image tokens. */
  Vision: 1,
  /** Every position after the last image token: question, template and the completion so far. */
  Text: 2,
} as const;

/** Layout of head-averaged attention rows for {@link attentionStats}. */
export interface AttentionStatsShape<M extends Uint8Input = Uint8Array, L extends Int32Input = Int32Array> {
  /** Number of sequences. */
  batch: number;
  /** Generated tokens per sequence (rows per sequence). */
  steps: number;
  /** Stored keys per row (row stride). */
  keys: number;
  /** `Uint8Array(keys)`: 0 other, 1 vision, 2 text (see {@link Modality}); may be a uint8 DeviceArray. */
  modality: M;
  /**
   * `Int32Array(batch*steps)`: keys valid at step (b,t), each in `[0, keys]` (the text region
   * grows as tokens are generated). Defaults to `keys`. Keys past the length are never read.
   * May be an int32 DeviceArray.
   */
  lengths?: L;
}

/**
 * Per-token attention signals of method §2 and the relative ratios of §4, each `Float32Array(batch*steps)`
 * (`P = 'device'`: each a float32 DeviceArray, when the inputs were on the GPU).
 */
export interface AttentionStats<P extends 'host' | 'device' = 'host'> {
  /** `ρ_vis = r_vis / max(r_vis + r_txt, 1e-8)`, r = attention mass on the region's valid keys. */
  ratioVis: Float32Output<P>;
  /** `ρ_txt = r_txt / max(r_vis + r_txt, 1e-8)`. */
  ratioTxt: Float32Output<P>;
  /** Fisher–Rao shift of the vision distribution from the previous step (0 at t = 0). */
  frVis: Float32Output<P>;
  /** Fisher–Rao shift of the text distribution over the common prefix of the two text regions (0 at t = 0). */
  frTxt: Float32Output<P>;
}

/** Where the outputs of {@link attentionStats} go for these argument types. */
type StatsPlacement<A, S extends AttentionStatsShape<Uint8Input, Int32Input>> = Placement<A | S['modality'] | FieldOf<S, 'lengths'>>;

/**
 * Attention statistics of every generated token, in one fused pass over each attention row.
 *
 * For row (b,t) with `L = lengths[b,t]` valid keys: region masses `r_vis`, `r_txt` over the
 * vision and text keys below `L`, and the relative ratios `ρ`. For t ≥ 1, with
 * `m = min(L_{t−1}, L_t)`: `frVis` / `frTxt` are Fisher–Rao distances between the previous and
 * current row's vision (text) keys below `m`, each renormalised over those keys; a region with zero
 * mass is uniform; a region with no keys below `m` gives 0. Entries of "other" keys are never read.
 *
 * On CUDA (`options.device`: `'cpu' | 'cuda' | 'auto'`) the same pass is one read of each row by
 * the GPU. `attn` may be half-precision host data (`{ data: Uint16Array, dtype }`) or a
 * DeviceArray (float32/float16/bfloat16); with any DeviceArray input the four outputs are DeviceArrays.
 *
 * @param attn - `Float32Array(batch*steps*keys)` of non-negative finite attention weights.
 * @throws RangeError for a negative/NaN/infinite weight (named with its index), a modality label
 *   outside {0,1,2}, lengths outside `[0, keys]`, or sizes that do not match the shape; TypeError
 *   for arguments of the wrong type; Error when `device: 'cuda'` cannot be used or on a CUDA error.
 */
export function attentionStats<A extends FloatInput, S extends AttentionStatsShape<Uint8Input, Int32Input>>(
  attn: A,
  shape: S,
  options?: ExecutionOptions,
): AttentionStats<StatsPlacement<A, S>> {
  return addon.attentionStats(attn, shape, options) as AttentionStats<StatsPlacement<A, S>>;
}

/** {@link attentionStats} on a worker thread; inputs must not be modified until the promise settles. */
export function attentionStatsAsync<A extends FloatInput, S extends AttentionStatsShape<Uint8Input, Int32Input>>(
  attn: A,
  shape: S,
  options?: ExecutionOptions,
): Promise<AttentionStats<StatsPlacement<A, S>>> {
  return addon.attentionStatsAsync(attn, shape, options) as Promise<AttentionStats<StatsPlacement<A, S>>>;
}
