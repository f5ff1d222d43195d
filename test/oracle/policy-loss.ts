/**
 * Float64 reference for the fused policy losses of method §6, with the per-algorithm defaults of
 * the table in lib/policy-loss.ts. Written as plain loops: first the per-token ratio, then the
 * per-token loss and its derivative with respect to the ratio, then the reduction weights, and
 * finally the chain rule back to ℓ (through exp for token-level ratios, through the sequence mean
 * for sequence-level ones).
 */

import type { PolicyAlgorithm, PolicyLossConfig } from '../../lib/index.js';

export type PolicyAlgorithmRef = PolicyAlgorithm;
export type PolicyLossConfigRef = PolicyLossConfig;

export interface PolicyLossInputsRef {
  logp: ArrayLike<number>;
  oldLogp?: ArrayLike<number>;
  refLogp?: ArrayLike<number>;
  advantages: ArrayLike<number>;
  mask: ArrayLike<number>;
  batch: number;
  steps: number;
}

export interface PolicyLossRefResult {
  loss: number;
  grad: Float64Array;
  clipFractionLow: number;
  clipFractionHigh: number;
  kl: number;
  ratioMean: number;
}

type Reduction = 'sequence-mean' | 'token-mean' | 'constant';

export interface ResolvedConfig {
  algorithm: PolicyAlgorithmRef;
  epsLow: number;
  epsHigh: number;
  delta: number | undefined;
  beta: number;
  importanceLevel: 'token' | 'sequence';
  tauPos: number;
  tauNeg: number;
  maxCompletionLength: number;
  reduction: Reduction;
  sapo: boolean;
}

const DEFAULTS: Record<PolicyAlgorithmRef, { epsLow: number; epsHigh: number; beta: number; importanceLevel: 'token' | 'sequence'; reduction: Reduction }> = {
  grpo: { epsLow: 0.2, epsHigh: 0.2, beta: 0.04, importanceLevel: 'token', reduction: 'sequence-mean' },
  bnpo: { epsLow: 0.2, epsHigh: 0.2, beta: 0.04, importanceLevel: 'token', reduction: 'token-mean' },
  dr_grpo: { epsLow: 0.2, epsHigh: 0.2, beta: 0.04, importanceLevel: 'token', reduction: 'constant' },
  dapo: { epsLow: 0.2, epsHigh: 0.28, beta: 0, importanceLevel: 'token', reduction: 'token-mean' },
  gspo: { epsLow: 3e-4, epsHigh: 4e-4, beta: 0.005, importanceLevel: 'sequence', reduction: 'sequence-mean' },
  // SAPO has no clip range; the eps values are unused (clip-fraction metrics are not defined for it).
  sapo: { epsLow: NaN, epsHigh: NaN, beta: 0.04, importanceLevel: 'token', reduction: 'sequence-mean' },
};

/** The configuration with every unset field replaced by the algorithm's default. */
export function resolveConfig(config: PolicyLossConfigRef, steps: number): ResolvedConfig {
  const d = DEFAULTS[config.algorithm];
  if (!d) throw new Error(`oracle: unknown algorithm ${String(config.algorithm)}`);
  return {
    algorithm: config.algorithm,
    epsLow: config.epsLow ?? d.epsLow,
    epsHigh: config.epsHigh ?? d.epsHigh,
    delta: config.delta,
    beta: config.beta ?? d.beta,
    // GSPO is sequence-level only.
    importanceLevel: config.algorithm === 'gspo' ? 'sequence' : (config.importanceLevel ?? d.importanceLevel),
    tauPos: config.tauPos ?? 1.0,
    tauNeg: config.tauNeg ?? 1.05,
    maxCompletionLength: config.maxCompletionLength ?? steps,
    reduction: d.reduction,
    sapo: config.algorithm === 'sapo',
  };
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * Loss, gradient and metrics. With `oldLogp` unset, ℓ_old is ℓ detached (ratio 1, gradient not 0).
 * Masked entries of every array are never read.
 *
 * Tie convention: when the unclipped term r̃·A ≤ clip(r)·A (so min picks it, ties included) the
 * unclipped branch's gradient is used: −A·∂r̃/∂r with ∂r̃/∂r = 1 for r ≤ δ and 0 for r > δ.
 * Otherwise the clipped branch: −A·∂clip(r)/∂r, which is 1 inside [1−εlow, 1+εhigh] and 0 outside.
 */
export function policyLossRef(inputs: PolicyLossInputsRef, config: PolicyLossConfigRef): PolicyLossRefResult {
  return compute(inputs, config, true);
}

/** Only the loss value, as a function of ℓ with ℓ_old fixed (pass `oldLogp` explicitly for finite differences). */
export function policyLossValueRef(inputs: PolicyLossInputsRef, config: PolicyLossConfigRef): number {
  return compute(inputs, config, false).loss;
}

function compute(inputs: PolicyLossInputsRef, config: PolicyLossConfigRef, wantGrad: boolean): PolicyLossRefResult {
  const { logp, refLogp, advantages, mask, batch: B, steps: T } = inputs;
  const old = inputs.oldLogp ?? logp;
  const cfg = resolveConfig(config, T);
  // Per-sequence advantages have length B; otherwise per token (B*T). With T = 1 both index alike.
  const perToken = advantages.length !== B;
  const adv = (b: number, t: number): number => (perToken ? advantages[b * T + t]! : advantages[b]!);
  const grad = new Float64Array(B * T);

  // Sequence lengths and reduction weight per unmasked token.
  const L = new Int32Array(B);
  let total = 0;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) if (mask[b * T + t] === 1) L[b]!++;
    total += L[b]!;
  }
  const weight = (b: number): number => {
    switch (cfg.reduction) {
      case 'sequence-mean':
        return 1 / (B * Math.max(L[b]!, 1));
      case 'token-mean':
        return 1 / Math.max(total, 1);
      case 'constant':
        return 1 / (B * cfg.maxCompletionLength);
    }
  };

  let loss = 0;
  let nLow = 0;
  let nHigh = 0;
  let klSum = 0;
  let ratioSum = 0;

  for (let b = 0; b < B; b++) {
    if (L[b] === 0) continue; // contributes 0
    const w = weight(b);
    // Sequence-level ratio s_b = exp(Σ_t m(ℓ − ℓ_old) / L_b).
    let seqRatio = NaN;
    if (cfg.importanceLevel === 'sequence') {
      let s = 0;
      for (let t = 0; t < T; t++) {
        const i = b * T + t;
        if (mask[i] === 1) s += logp[i]! - old[i]!;
      }
      seqRatio = Math.exp(s / L[b]!);
    }
    // Σ_t w·∂loss_t/∂r_t over the sequence (for the chain rule through the sequence mean).
    let dSeq = 0;
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      if (mask[i] !== 1) continue;
      const A = adv(b, t);
      const r = cfg.importanceLevel === 'sequence' ? seqRatio : Math.exp(logp[i]! - old[i]!);
      let lt: number; // policy part of loss_t
      let dldr: number; // ∂(policy part)/∂r
      if (cfg.sapo) {
        const tau = A > 0 ? cfg.tauPos : cfg.tauNeg;
        const sg = sigmoid(tau * (r - 1));
        lt = -(4 / tau) * sg * A;
        dldr = -4 * sg * (1 - sg) * A;
      } else {
        const lo = 1 - cfg.epsLow;
        const hi = 1 + cfg.epsHigh;
        const rt = cfg.delta !== undefined ? Math.min(r, cfg.delta) : r;
        const drt = cfg.delta !== undefined && r > cfg.delta ? 0 : 1;
        const rc = Math.min(Math.max(r, lo), hi);
        const drc = r >= lo && r <= hi ? 1 : 0;
        const unclipped = rt * A;
        const clipped = rc * A;
        if (unclipped <= clipped) {
          lt = -unclipped;
          dldr = -A * drt;
        } else {
          lt = -clipped;
          dldr = -A * drc;
        }
        if (r < lo && A < 0) nLow++;
        if (r > hi && A > 0) nHigh++;
      }
      let k = 0;
      let dkdl = 0;
      if (refLogp) {
        const d = refLogp[i]! - logp[i]!;
        k = Math.exp(d) - d - 1;
        dkdl = 1 - Math.exp(d);
      }
      loss += w * (lt + cfg.beta * k);
      klSum += k;
      ratioSum += r;
      if (wantGrad) {
        grad[i] = w * cfg.beta * dkdl;
        if (cfg.importanceLevel === 'sequence') dSeq += w * dldr;
        else grad[i]! += w * dldr * r;
      }
    }
    if (wantGrad && cfg.importanceLevel === 'sequence') {
      // ∂s_b/∂ℓ_t = s_b · m_t / L_b
      for (let t = 0; t < T; t++) {
        const i = b * T + t;
        if (mask[i] === 1) grad[i]! += (dSeq * seqRatio) / L[b]!;
      }
    }
  }

  const nTok = total;
  return {
    loss,
    grad,
    clipFractionLow: cfg.sapo ? NaN : nTok > 0 ? nLow / nTok : 0,
    clipFractionHigh: cfg.sapo ? NaN : nTok > 0 ? nHigh / nTok : 0,
    kl: nTok > 0 ? klSum / nTok : 0,
    ratioMean: nTok > 0 ? ratioSum / nTok : 0,
  };
}

/**
 * Central finite differences of {@link policyLossValueRef} with respect to each unmasked ℓ_i
 * (masked entries get 0), ℓ_old held fixed at the unperturbed ℓ when `oldLogp` is unset.
 */
export function policyLossFiniteDiff(inputs: PolicyLossInputsRef, config: PolicyLossConfigRef, h = 1e-6): Float64Array {
  const logp = Float64Array.from(inputs.logp as ArrayLike<number>);
  const old = inputs.oldLogp ?? Float64Array.from(logp);
  const out = new Float64Array(logp.length);
  for (let i = 0; i < logp.length; i++) {
    if (inputs.mask[i] !== 1) continue;
    const x = logp[i]!;
    logp[i] = x + h;
    const fp = policyLossValueRef({ ...inputs, logp, oldLogp: old }, config);
    logp[i] = x - h;
    const fm = policyLossValueRef({ ...inputs, logp, oldLogp: old }, config);
    logp[i] = x;
    out[i] = (fp - fm) / (2 * h);
  }
  return out;
}
