import { addon } from './native.js';
import type { ExecutionOptions, Float32Input, Float32Output, FloatInput, Placement, Uint8Input } from './device.js';

/** Policy-gradient objectives of method §6. */
export type PolicyAlgorithm = 'grpo' | 'bnpo' | 'dr_grpo' | 'dapo' | 'gspo' | 'sapo';

/**
 * Per-token log-probabilities and advantages, row-major `[batch, steps]`. The type parameters
 * widen the arrays for the GPU: log-probs may be half-precision host data or DeviceArrays
 * (float32/float16/bfloat16), advantages and mask DeviceArrays of float32 / uint8.
 */
export interface PolicyLossInputs<
  F extends FloatInput = Float32Array,
  A extends Float32Input = Float32Array,
  M extends Uint8Input = Uint8Array,
> {
  /** ℓ: new log-probs, `Float32Array(batch*steps)`. The gradient is taken with respect to these. */
  logp: F;
  /** ℓ_old from the rollout policy. Default: ℓ itself (ratio 1, gradient not 0). */
  oldLogp?: F;
  /** ℓ_ref from the reference model for the k3 KL term. Default: none (KL term 0). */
  refLogp?: F;
  /** `Float32Array(batch)` (per sequence) or `Float32Array(batch*steps)` (per token). */
  advantages: A;
  /** `Uint8Array(batch*steps)` of 0/1: which tokens count. Masked entries of the other arrays are never read. */
  mask: M;
  batch: number;
  steps: number;
}

/**
 * Loss configuration. Unset fields take the algorithm's defaults:
 *
 * | algorithm | epsLow | epsHigh | beta | importanceLevel | reduction |
 * |---|---|---|---|---|---|
 * | grpo | 0.2 | 0.2 | 0.04 | token | mean over sequences of the per-sequence token mean |
 * | bnpo | 0.2 | 0.2 | 0.04 | token | Σ m·loss / max(Σ m, 1) |
 * | dr_grpo | 0.2 | 0.2 | 0.04 | token | Σ m·loss / (batch · maxCompletionLength) |
 * | dapo | 0.2 | 0.28 | 0 | token | Σ m·loss / max(Σ m, 1) |
 * | gspo | 3e-4 | 4e-4 | 0.005 | sequence (only) | as grpo: `−mean_b(g_b − β·kl_b)` |
 * | sapo | – | – | 0.04 | token | as grpo; soft gate with tauPos 1.0, tauNeg 1.05 |
 */
export interface PolicyLossConfig {
  algorithm: PolicyAlgorithm;
  /** Lower clip: ratios below `1 − epsLow` are clipped. */
  epsLow?: number;
  /** Upper clip: ratios above `1 + epsHigh` are clipped. */
  epsHigh?: number;
  /** Two-sided clip δ (> 1): the unclipped branch uses `min(r, δ)`. Default: none. */
  delta?: number;
  /** KL coefficient β (k3 estimator against `refLogp`). */
  beta?: number;
  /** `'token'`: r_t = exp(ℓ_t − ℓ_old_t); `'sequence'`: r_t = exp(mean over the sequence of m·(ℓ − ℓ_old)), gradient through the mean. */
  importanceLevel?: 'token' | 'sequence';
  /** SAPO temperature for positive advantages. Default 1.0. */
  tauPos?: number;
  /** SAPO temperature for non-positive advantages. Default 1.05. */
  tauNeg?: number;
  /** Dr.GRPO's constant normaliser. Default: `steps`. */
  maxCompletionLength?: number;
}

/** Loss value, its gradient and the usual metrics (`P = 'device'`: the gradient stays on the GPU). */
export interface PolicyLossResult<P extends 'host' | 'device' = 'host'> {
  /** The scalar loss. */
  loss: number;
  /** ∂loss/∂logp, `Float32Array(batch*steps)` (a float32 DeviceArray for GPU inputs); 0 on masked tokens. */
  grad: Float32Output<P>;
  /** Share of unmasked tokens with `r < 1 − epsLow` and `A < 0` (their gradient is clipped). */
  clipFractionLow: number;
  /** Share of unmasked tokens with `r > 1 + epsHigh` and `A > 0`. */
  clipFractionHigh: number;
  /** Mean k3 KL over unmasked tokens (0 without `refLogp`). */
  kl: number;
  /** Mean importance ratio over unmasked tokens. */
  ratioMean: number;
}

/**
 * Fused policy loss and its gradient with respect to `logp`, in one pass (float64 arithmetic).
 *
 * Per token: `loss_t = −min(r̃·A, clip(r, 1−epsLow, 1+epsHigh)·A) + β·k_t` (PPO-clip family) or
 * `−(4/τ)·σ(τ(r−1))·A + β·k_t` (sapo), with `k_t = exp(ℓ_ref − ℓ) − (ℓ_ref − ℓ) − 1`, then the
 * algorithm's reduction (see {@link PolicyLossConfig}). At a tie of the two branches of `min`, the
 * unclipped branch's gradient is taken (both equal `−r·A` inside the clip range); at `r = δ` the
 * unclipped branch still has gradient. Sequences with no unmasked token contribute 0. With no
 * unmasked token at all, every metric is 0.
 *
 * On CUDA (`options.device`: `'cpu' | 'cuda' | 'auto'`) forward and backward are one kernel with
 * the same float64 arithmetic, and the sums over sequences are added in sequence order.
 *
 * @throws TypeError / RangeError naming the argument for wrong types, sizes, unknown algorithm,
 *   out-of-range config values, mask values other than 0/1, or non-finite values on unmasked
 *   tokens; Error when `device: 'cuda'` cannot be used or on a CUDA error.
 * @example
 * ```ts
 * const { loss, grad } = policyLoss(
 *   { logp, oldLogp, advantages, mask, batch: 2, steps: 3 },
 *   { algorithm: 'dapo' },
 * );
 * ```
 */
export function policyLoss<I extends PolicyLossInputs<FloatInput, Float32Input, Uint8Input>>(
  inputs: I,
  config: PolicyLossConfig,
  options?: ExecutionOptions,
): PolicyLossResult<Placement<I[keyof I]>> {
  return addon.policyLoss(inputs, config, options) as PolicyLossResult<Placement<I[keyof I]>>;
}

/** {@link policyLoss} on a worker thread; inputs must not be modified until the promise settles. */
export function policyLossAsync<I extends PolicyLossInputs<FloatInput, Float32Input, Uint8Input>>(
  inputs: I,
  config: PolicyLossConfig,
  options?: ExecutionOptions,
): Promise<PolicyLossResult<Placement<I[keyof I]>>> {
  return addon.policyLossAsync(inputs, config, options) as Promise<PolicyLossResult<Placement<I[keyof I]>>>;
}
