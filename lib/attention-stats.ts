import { addon } from './native.js';

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
export interface AttentionStatsShape {
  /** Number of sequences. */
  batch: number;
  /** Generated tokens per sequence (rows per sequence). */
  steps: number;
  /** Stored keys per row (row stride). */
  keys: number;
  /** `Uint8Array(keys)`: 0 other, 1 vision, 2 text (see {@link Modality}). */
  modality: Uint8Array;
  /**
   * `Int32Array(batch*steps)`: keys valid at step (b,t), each in `[0, keys]` (the text region
   * grows as tokens are generated). Defaults to `keys`. Keys past the length are never read.
   */
  lengths?: Int32Array;
}

/** Per-token attention signals of method §2 and the relative ratios of §4, each `Float32Array(batch*steps)`. */
export interface AttentionStats {
  /** `ρ_vis = r_vis / max(r_vis + r_txt, 1e-8)`, r = attention mass on the region's valid keys. */
  ratioVis: Float32Array;
  /** `ρ_txt = r_txt / max(r_vis + r_txt, 1e-8)`. */
  ratioTxt: Float32Array;
  /** Fisher–Rao shift of the vision distribution from the previous step (0 at t = 0). */
  frVis: Float32Array;
  /** Fisher–Rao shift of the text distribution over the common prefix of the two text regions (0 at t = 0). */
  frTxt: Float32Array;
}

/**
 * Attention statistics of every generated token, in one fused pass over each attention row.
 *
 * For row (b,t) with `L = lengths[b,t]` valid keys: region masses `r_vis`, `r_txt` over the
 * vision and text keys below `L`, and the relative ratios `ρ`. For t ≥ 1, with
 * `m = min(L_{t−1}, L_t)`: `frVis` / `frTxt` are Fisher–Rao distances between the previous and
 * current row's vision (text) keys below `m`, each renormalised over those keys; a region with zero
 * mass is uniform; a region with no keys below `m` gives 0. Entries of "other" keys are never read.
 *
 * @param attn - `Float32Array(batch*steps*keys)` of non-negative finite attention weights.
 * @throws RangeError for a negative/NaN/infinite weight (named with its index), a modality label
 *   outside {0,1,2}, lengths outside `[0, keys]`, or sizes that do not match the shape.
 */
export function attentionStats(attn: Float32Array, shape: AttentionStatsShape): AttentionStats {
  return addon.attentionStats(attn, shape) as AttentionStats;
}

/** {@link attentionStats} on a worker thread; inputs must not be modified until the promise settles. */
export function attentionStatsAsync(attn: Float32Array, shape: AttentionStatsShape): Promise<AttentionStats> {
  return addon.attentionStatsAsync(attn, shape) as Promise<AttentionStats>;
}
