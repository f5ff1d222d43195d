/**
 * Float64 reference for roles, alignment, sequence scores, score normalisation and advantage
 * reweighting (method §4).
 */

export interface CoordinationInputsRef {
  frVis: ArrayLike<number>;
  frTxt: ArrayLike<number>;
  ratioVis: ArrayLike<number>;
  ratioTxt: ArrayLike<number>;
  mask?: ArrayLike<number>;
  batch: number;
  steps: number;
}

export interface CoordinationOptionsRef {
  tauVis?: number;
  tauTxt?: number;
}

export interface CoordinationScoresRef {
  roles: Int8Array;
  alignment: Float64Array;
  sequenceScore: Float64Array;
}

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * Δ = frVis − frTxt; vision (1) if Δ > tauVis, text (−1) if Δ < −tauTxt, else neutral (0);
 * step 0 and masked tokens are neutral (and their inputs are never read).
 * alignment = ρ_vis / ρ_txt / 0; sequenceScore = σ(mean alignment over non-neutral tokens), 0.5 if none.
 */
export function coordinationScoresRef(
  inputs: CoordinationInputsRef,
  options: CoordinationOptionsRef = {},
): CoordinationScoresRef {
  const tauVis = options.tauVis ?? 0;
  const tauTxt = options.tauTxt ?? 0.05;
  const { batch, steps, mask } = inputs;
  const roles = new Int8Array(batch * steps);
  const alignment = new Float64Array(batch * steps);
  const sequenceScore = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    let sum = 0;
    let count = 0;
    for (let t = 0; t < steps; t++) {
      const i = b * steps + t;
      if (t === 0 || (mask && mask[i] === 0)) continue;
      const delta = inputs.frVis[i]! - inputs.frTxt[i]!;
      if (delta > tauVis) {
        roles[i] = 1;
        alignment[i] = inputs.ratioVis[i]!;
      } else if (delta < -tauTxt) {
        roles[i] = -1;
        alignment[i] = inputs.ratioTxt[i]!;
      } else {
        continue;
      }
      sum += alignment[i]!;
      count++;
    }
    sequenceScore[b] = count > 0 ? sigmoid(sum / count) : 0.5;
  }
  return { roles, alignment, sequenceScore };
}

/** Unbiased sample std of xs[lo..hi); 0 for fewer than two entries. */
export function unbiasedStd(xs: ArrayLike<number>, lo: number, hi: number): number {
  const n = hi - lo;
  if (n < 2) return 0;
  let mean = 0;
  for (let i = lo; i < hi; i++) mean += xs[i]!;
  mean /= n;
  let ss = 0;
  for (let i = lo; i < hi; i++) ss += (xs[i]! - mean) ** 2;
  return Math.sqrt(ss / (n - 1));
}

export function mean(xs: ArrayLike<number>, lo: number, hi: number): number {
  let s = 0;
  for (let i = lo; i < hi; i++) s += xs[i]!;
  return hi > lo ? s / (hi - lo) : 0;
}

/** ĉ = tanh((c − mean)/std_unbiased) per scope (whole batch, or consecutive groups); 0 when std ≤ 1e-8 or the scope has one score. */
export function normalizeScoresRef(scores: ArrayLike<number>, options: { groupSize?: number } = {}): Float64Array {
  const n = scores.length;
  const g = options.groupSize ?? n;
  const out = new Float64Array(n);
  if (n === 0) return out;
  for (let lo = 0; lo < n; lo += g) {
    const hi = lo + g;
    const m = mean(scores, lo, hi);
    const s = unbiasedStd(scores, lo, hi);
    for (let i = lo; i < hi; i++) out[i] = g < 2 || s <= 1e-8 ? 0 : Math.tanh((scores[i]! - m) / s);
  }
  return out;
}

export interface ReweightOptionsRef {
  alpha?: number;
  min?: number;
  max?: number;
  lengths?: ArrayLike<number>;
  minLength?: number;
  scaleByLength?: boolean;
}

/** The weight w_b of sequence b (method §4). */
export function reweightWeightsRef(scores: ArrayLike<number>, options: ReweightOptionsRef = {}): Float64Array {
  const alpha = options.alpha ?? 0.2;
  const lo = options.min ?? 0.8;
  const hi = options.max ?? 1.2;
  const minLength = options.minLength ?? 0;
  const B = scores.length;
  const w = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let c = scores[b]!;
    if (minLength > 0 && options.lengths![b]! < minLength) c = -1;
    let wb = Math.min(hi, Math.max(lo, 1 + alpha * c));
    if (options.scaleByLength) wb *= Math.min(options.lengths![b]! / minLength, 1);
    w[b] = wb;
  }
  return w;
}

/**
 * Â = A · w_b with w_b = clamp(1 + α·ĉ_b, min, max) (ĉ_b := −1 below minLength), optionally times
 * min(L_b / minLength, 1). `advantages` is per sequence (length batch) or per token (batch*steps,
 * every token of b scaled by w_b); batch = scores.length.
 */
export function reweightAdvantagesRef(
  advantages: ArrayLike<number>,
  scores: ArrayLike<number>,
  options: ReweightOptionsRef = {},
): Float64Array {
  const w = reweightWeightsRef(scores, options);
  const B = scores.length;
  const per = B === 0 ? 0 : advantages.length / B;
  const out = new Float64Array(advantages.length);
  for (let b = 0; b < B; b++) for (let j = 0; j < per; j++) out[b * per + j] = advantages[b * per + j]! * w[b]!;
  return out;
}
