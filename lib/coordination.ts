import { addon } from './native.js';
import type { ExecutionOptions, Float32Input, Float32Output, Int8Output, Placement, Uint8Input } from './device.js';

/**
 * Per-token signals for {@link coordinationScores}, each `Float32Array(batch*steps)`, as
 * {@link attentionStats} returns them (on the host, or as DeviceArrays on the GPU).
 */
export interface CoordinationInputs<F extends Float32Input = Float32Array, M extends Uint8Input = Uint8Array> {
  frVis: F;
  frTxt: F;
  /** Relative vision ratio ρ_vis (not the raw mass). */
  ratioVis: F;
  /** Relative text ratio ρ_txt. */
  ratioTxt: F;
  /** `Uint8Array(batch*steps)` of 0/1; 0 marks padding or tokens after EOS. Defaults to all ones. */
  mask?: M;
  batch: number;
  steps: number;
}

/** Role thresholds of method §4, and the device. */
export interface CoordinationOptions extends ExecutionOptions {
  /** A token is visual when `frVis − frTxt > tauVis`. Default 0. */
  tauVis?: number;
  /** A token is textual when `frVis − frTxt < −tauTxt`. Default 0.05. */
  tauTxt?: number;
}

/** Roles, alignment and per-sequence score (method §4, Eq. 6–9); DeviceArrays when `P = 'device'`. */
export interface CoordinationScores<P extends 'host' | 'device' = 'host'> {
  /** `Int8Array(batch*steps)`: 1 vision, −1 text, 0 neutral (step 0 and masked tokens are neutral). */
  roles: Int8Output<P>;
  /** `Float32Array(batch*steps)`: ρ_vis for vision tokens, ρ_txt for text tokens, 0 for neutral ones. */
  alignment: Float32Output<P>;
  /** `Float32Array(batch)`: σ(mean alignment over the sequence's non-neutral tokens); 0.5 if it has none. */
  sequenceScore: Float32Output<P>;
}

/**
 * Assigns each generated token a functional role from its attention shifts and scores how well
 * each sequence's attention follows those roles.
 * Runs on the CPU or on CUDA (`options.device`); with DeviceArray inputs (the outputs of
 * {@link attentionStats} on the GPU) the results are DeviceArrays.
 * @throws RangeError for non-finite inputs on unmasked tokens after step 0 (the only ones read),
 *   mask values other than 0/1,
 *   non-finite thresholds, or sizes that do not match `batch*steps`; Error when
 *   `device: 'cuda'` cannot be used or on a CUDA error.
 */
export function coordinationScores<I extends CoordinationInputs<Float32Input, Uint8Input>>(
  inputs: I,
  options: CoordinationOptions = {},
): CoordinationScores<Placement<I[keyof I]>> {
  return addon.coordinationScores(inputs, options) as CoordinationScores<Placement<I[keyof I]>>;
}

/** {@link coordinationScores} on a worker thread. */
export function coordinationScoresAsync<I extends CoordinationInputs<Float32Input, Uint8Input>>(
  inputs: I,
  options: CoordinationOptions = {},
): Promise<CoordinationScores<Placement<I[keyof I]>>> {
  return addon.coordinationScoresAsync(inputs, options) as Promise<CoordinationScores<Placement<I[keyof I]>>>;
}

/** Options of {@link normalizeScores}. */
export interface NormalizeOptions {
  /** Normalise within consecutive groups of this size (must divide the length); default: the whole batch. */
  groupSize?: number;
}

/**
 * `ĉ = tanh((c − mean) / std)` over the batch or per group, with the unbiased std (float64).
 * CPU only: it reads one score per sequence (download a DeviceArray of scores first).
 * A scope whose std is ≤ 1e-8 (or that holds one score) gives 0 for all its entries.
 * @param scores - `Float32Array` of finite sequence scores.
 */
export function normalizeScores(scores: Float32Array, options: NormalizeOptions = {}): Float32Array {
  return addon.normalizeScores(scores, options);
}

/** Options of {@link reweightAdvantages} (method §4). */
export interface ReweightOptions {
  /** Weight slope α in `w = clamp(1 + α·ĉ, min, max)`. Default 0.2. */
  alpha?: number;
  /** Lower clamp of the weight. Default 0.8. */
  min?: number;
  /** Upper clamp of the weight. Default 1.2. */
  max?: number;
  /** `Int32Array(batch)`: valid completion tokens per sequence; required when `minLength > 0` or `scaleByLength`. */
  lengths?: Int32Array;
  /** Completions with fewer valid tokens get `ĉ = −1` (reference length guard). Default 0 (off). */
  minLength?: number;
  /** Also multiply by `min(L_b / minLength, 1)`, as the reference SAPO run does. Default false. */
  scaleByLength?: boolean;
}

/**
 * Scales each sequence's advantage by its coordination weight: `Â_b = A_b · clamp(1 + α·ĉ_b, min, max)`.
 * @param advantages - `Float32Array(batch)` (per sequence) or `Float32Array(batch*steps)` (per token:
 *   every token of sequence b is scaled by `w_b`).
 * @param normalizedScores - `Float32Array(batch)` from {@link normalizeScores}.
 * @returns a new Float32Array of the same length as `advantages`.
 */
export function reweightAdvantages(
  advantages: Float32Array,
  normalizedScores: Float32Array,
  options: ReweightOptions = {},
): Float32Array {
  return addon.reweightAdvantages(advantages, normalizedScores, options);
}
