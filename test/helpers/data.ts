/**
 * Seeded generators of test inputs shared by several test files.
 */
import { Rng } from './prng.js';
import type { PolicyLossInputs } from '../../lib/index.js';
import { resolveConfig, type PolicyLossConfigRef } from '../oracle/index.js';

/**
 * Pairs of rows that differ by a tiny multiplicative shift: q_c ∝ p_c·exp(ε·z_c) with
 * ε = 10^U(-4.5, -1.5) per row, so FR ≈ ε spans ~3e-5 … 3e-2 (a good part of it ≥ 1e-3).
 */
export function tinyShiftCase(seed: number, rows: number, cols: number): { p: Float32Array; q: Float32Array } {
  const rng = new Rng(seed);
  const p = rng.probRows(rows, cols);
  const q = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const eps = 10 ** rng.range(-4.5, -1.5);
    for (let c = 0; c < cols; c++) q[r * cols + c] = p[r * cols + c]! * Math.exp(eps * rng.normal());
  }
  return { p, q };
}

export interface PolicyCaseOptions {
  batch: number;
  steps: number;
  /** Advantages per token (batch*steps) instead of per sequence. */
  perTokenAdvantages?: boolean;
  /** Provide oldLogp (default true); otherwise ℓ_old defaults to ℓ (ratio 1). */
  old?: boolean;
  /** Provide refLogp for the KL term (default true). */
  ref?: boolean;
  /** Probability that a token inside a sequence's length stays unmasked (default 0.85). */
  density?: number;
  /** Sequences that are entirely masked. */
  maskedRows?: number[];
  /** Per-token log-ratio ℓ − ℓ_old (default N(0, 0.35²)). */
  logRatio?: (rng: Rng, b: number, t: number) => number;
  /** Put NaN into every masked entry of logp/oldLogp/refLogp (and per-token advantages). */
  nanInMasked?: boolean;
}

export type PolicyCase = PolicyLossInputs;

/** A random but well-formed policy-loss input (every unmasked advantage has |A| ≥ 0.05). */
export function makePolicyCase(seed: number, o: PolicyCaseOptions): PolicyCase {
  const rng = new Rng(seed);
  const { batch: B, steps: T } = o;
  const density = o.density ?? 0.85;
  const mask = new Uint8Array(B * T);
  for (let b = 0; b < B; b++) {
    if (o.maskedRows?.includes(b)) continue;
    const L = rng.int(1, T);
    let any = false;
    for (let t = 0; t < L; t++) {
      const on = t === 0 || rng.bool(density);
      mask[b * T + t] = on ? 1 : 0;
      any ||= on;
    }
  }
  const logp = rng.f32(B * T, () => rng.range(-4, -0.02));
  const oldLogp = o.old === false ? undefined : new Float32Array(B * T);
  const refLogp = o.ref === false ? undefined : new Float32Array(B * T);
  const logRatio = o.logRatio ?? ((r: Rng) => 0.35 * r.normal());
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      if (oldLogp) oldLogp[i] = logp[i]! - logRatio(rng, b, t);
      if (refLogp) refLogp[i] = logp[i]! + 0.3 * rng.normal();
    }
  }
  const signedAdv = () => (rng.bool() ? 1 : -1) * rng.range(0.05, 2);
  const advantages = o.perTokenAdvantages ? rng.f32(B * T, signedAdv) : rng.f32(B, signedAdv);
  if (o.nanInMasked) {
    for (let i = 0; i < B * T; i++) {
      if (mask[i] === 1) continue;
      logp[i] = NaN;
      if (oldLogp) oldLogp[i] = NaN;
      if (refLogp) refLogp[i] = NaN;
      if (o.perTokenAdvantages) advantages[i] = NaN;
    }
  }
  return { logp, oldLogp, refLogp, advantages, mask, batch: B, steps: T };
}

/**
 * Smallest distance of any ratio actually used (token ratio, or the sequence ratio for
 * sequence-level importance) to a kink of the loss (1 − εlow, 1 + εhigh, δ). Finite differences
 * and float32-vs-float64 comparisons are only meaningful away from kinks.
 */
export function kinkDistance(c: PolicyCase, config: PolicyLossConfigRef): number {
  const cfg = resolveConfig(config, c.steps);
  const kinks = cfg.sapo ? [] : [1 - cfg.epsLow, 1 + cfg.epsHigh];
  if (cfg.delta !== undefined) kinks.push(cfg.delta);
  let best = Infinity;
  const old = c.oldLogp ?? c.logp;
  for (let b = 0; b < c.batch; b++) {
    let s = 0;
    let L = 0;
    const ratios: number[] = [];
    for (let t = 0; t < c.steps; t++) {
      const i = b * c.steps + t;
      if (c.mask[i] !== 1) continue;
      s += c.logp[i]! - old[i]!;
      L++;
      ratios.push(Math.exp(c.logp[i]! - old[i]!));
    }
    if (L === 0) continue;
    const used = cfg.importanceLevel === 'sequence' ? [Math.exp(s / L)] : ratios;
    for (const r of used) for (const k of kinks) best = Math.min(best, Math.abs(r - k));
  }
  return best;
}

/**
 * A case whose ratios keep at least `margin` from every kink (tries successive seeds; the
 * ratio r = 1 exactly of a default ℓ_old is never a kink since εlow, εhigh > 0).
 */
export function makeSmoothPolicyCase(
  seed: number,
  o: PolicyCaseOptions,
  config: PolicyLossConfigRef,
  margin = 1e-4,
): PolicyCase {
  for (let k = 0; k < 1000; k++) {
    const c = makePolicyCase(seed + 7919 * k, o);
    if (kinkDistance(c, config) >= margin) return c;
  }
  throw new Error('makeSmoothPolicyCase: no smooth case found');
}

/** Growing-context attention layout: `other` system keys, an image, a question, then one key per generated token. */
export interface AttentionLayout {
  keys: number;
  modality: Uint8Array;
  /** Keys valid at generation step t (prompt + t generated tokens). */
  lengthAt: (t: number) => number;
}

export function growingLayout(nOther: number, nVision: number, nQuestion: number, steps: number): AttentionLayout {
  const prompt = nOther + nVision + nQuestion;
  const keys = prompt + steps;
  const modality = new Uint8Array(keys);
  for (let k = 0; k < keys; k++) modality[k] = k < nOther ? 0 : k < nOther + nVision ? 1 : 2;
  return { keys, modality, lengthAt: (t) => prompt + t };
}
