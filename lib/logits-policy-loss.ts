/**
 * The policy loss of method §6 computed from logits: selective log-softmax, the loss, its metrics
 * and ∂loss/∂logits in one native call, without a `batch × steps × vocab` float32 intermediate.
 * @packageDocumentation
 */
import { addon } from './native.js';
import type { DeviceArray } from './device-array.js';
import type { Device, Float32Input, Int32Input, Placement, Uint8Input } from './device.js';
import type { PolicyLossConfig } from './policy-loss.js';

/** Element type of the logits. float16 and bfloat16 are passed as `Uint16Array` bit patterns. */
export type LogitsDtype = 'float32' | 'float16' | 'bfloat16';

/** Logits on the host (`Float32Array`, or `Uint16Array` bits with `dtype`) or on the GPU (a DeviceArray of float32/float16/bfloat16). */
export type LogitsInput = Float32Array | Uint16Array | DeviceArray;

/**
 * Logits of the new policy at the completion tokens and the terms of the loss, row-major. The type
 * parameters widen the arrays for the GPU: any of them may be a DeviceArray (logits of
 * float32/float16/bfloat16, targets of int32, log-probs and advantages of float32, mask of uint8),
 * and then the call runs on CUDA and returns `logp` (and a new `gradLogits`) as DeviceArrays.
 */
export interface LogitsPolicyLossInputs<
  L extends LogitsInput = Float32Array | Uint16Array,
  I extends Int32Input = Int32Array,
  F extends Float32Input = Float32Array,
  M extends Uint8Input = Uint8Array,
> {
  /**
   * `[batch, steps, vocab]` logits: a `Float32Array`, or a `Uint16Array` of IEEE float16 or bfloat16
   * bit patterns (say which with {@link LogitsPolicyLossInputs.dtype}). Entries may be `-Infinity`
   * (probability 0, e.g. a vocabulary mask) but not NaN or `+Infinity`; a row that is `-Infinity`
   * throughout, or at its target, is an error unless the token is masked. Rows of masked tokens
   * are never read. Or a DeviceArray of float32/float16/bfloat16, which carries its own type.
   */
  logits: L;
  /** Required for a `Uint16Array`; `'float32'` (the default) for a `Float32Array`; for a DeviceArray, its dtype (the default; another is a TypeError). */
  dtype?: LogitsDtype;
  /** `Int32Array(batch*steps)`: the token whose log-prob is taken in each row, in `[0, vocab)` (read on unmasked tokens only). */
  targets: I;
  /** ℓ_old from the rollout policy. Default: the new log-probs detached (ratio 1, gradient not 0). */
  oldLogp?: F;
  /** ℓ_ref from the reference model for the k3 KL term. Default: none. */
  refLogp?: F;
  /** `Float32Array(batch)` (per sequence) or `Float32Array(batch*steps)` (per token). */
  advantages: F;
  /** `Uint8Array(batch*steps)` of 0/1: which tokens count. */
  mask: M;
  batch: number;
  steps: number;
  vocab: number;
  /** The log-probs are of `softmax(logits / temperature)`. Default 1. */
  temperature?: number;
}

/** Options of {@link logitsPolicyLoss}. */
export interface LogitsPolicyLossOptions {
  /**
   * Write ∂loss/∂logits over `inputs.logits`, in its own dtype (float16/bfloat16 gradients are
   * rounded to nearest even), instead of into a new `Float32Array`: no memory proportional to the
   * logits is allocated. The logits are gone afterwards. When the call fails, the logits are left
   * untouched (every check runs before the gradient is written). Default false.
   */
  inPlace?: boolean;
  /**
   * A `Float32Array(batch*steps*vocab)` (or a float32 DeviceArray of that length, which makes the
   * call run on CUDA) to write ∂loss/∂logits into instead of a new array, e.g. one buffer reused
   * across training steps (a fresh array of this size costs the operating system's page faults on
   * every call). Must not overlap the logits; not with `inPlace`. It is returned as `gradLogits`.
   */
  gradLogits?: Float32Array | DeviceArray<'float32'>;
  /**
   * Where to run: `'cpu'`, `'cuda'` or `'auto'` (default: the environment variable
   * `DYCO_RL_DEVICE`, else `'auto'`: CUDA when a GPU can be used). DeviceArray arguments always run
   * on CUDA (with `'cpu'` they are a TypeError). On CUDA, host arrays are copied to the GPU for the
   * call and results copied back; `inPlace` over host logits copies the gradient back only once
   * every check has passed.
   */
  device?: Device;
}

/**
 * Loss, metrics, new log-probs and the gradient with respect to the logits (`P = 'device'`: some
 * input was a DeviceArray, and `logp` and a new `gradLogits` are DeviceArrays).
 */
export interface LogitsPolicyLossResult<P extends 'host' | 'device' = 'host'> {
  /** The scalar loss, as {@link policyLoss} gives it for `logp`. */
  loss: number;
  /** Share of unmasked tokens with `r < 1 − epsLow` and `A < 0`. */
  clipFractionLow: number;
  /** Share of unmasked tokens with `r > 1 + epsHigh` and `A > 0`. */
  clipFractionHigh: number;
  /** Mean k3 KL over unmasked tokens (0 without `refLogp`). */
  kl: number;
  /** Mean importance ratio over unmasked tokens. */
  ratioMean: number;
  /**
   * `Float32Array(batch*steps)` (a float32 DeviceArray for device inputs): log-prob of each target
   * under `softmax(logits / temperature)`; 0 on masked tokens.
   */
  logp: P extends 'device' ? DeviceArray<'float32'> : Float32Array;
  /**
   * ∂loss/∂logits, `[batch, steps, vocab]`, 0 on rows of masked tokens: a new `Float32Array` (a
   * new float32 DeviceArray for device inputs), `options.gradLogits` when given, or with `inPlace`
   * the `inputs.logits` array itself (same dtype; the DeviceArray itself when it is one).
   */
  gradLogits: P extends 'device' ? DeviceArray : Float32Array | Uint16Array;
}

/**
 * The policy loss of {@link policyLoss} from logits, with its gradient with respect to the logits,
 * on a worker thread.
 *
 * For each unmasked token (b, t), one streaming pass over its vocabulary row computes the
 * log-sum-exp of `logits / temperature` online (blocks reduced in float32 from cache, combined
 * in float64) and `ℓ = logits[target]/T − logsumexp`; the loss and `g = ∂loss/∂ℓ` come from the
 * same code as {@link policyLoss} (every algorithm, reduction and the sequence-level ratio); a
 * second pass writes `∂loss/∂logits_v = g·(1[v = target] − softmax_v)/T`. Extra memory is
 * `O(batch·steps)` besides the float32 gradient (none with `inPlace`, or with a reused
 * `options.gradLogits`).
 *
 * Accuracy against a float64 evaluation of the same inputs (measured on the tests' cases): `logp`
 * within about 1e-6 absolute (plus float32 rounding, 6e-8·|logp|, for very unlikely targets); each
 * gradient entry within about 1e-6 of its own value where softmax > e^-10, up to ~1e-5 relative for
 * far smaller probabilities (the exponential's argument and value are float32).
 * Half-precision inputs are widened exactly; an in-place half-precision gradient is the float32 one
 * rounded to nearest even (2^-8 relative for bfloat16, 2^-11 for float16).
 *
 * On CUDA (`options.device`, or DeviceArray arguments) the same three phases run on the GPU: one
 * 256-thread block per (b, t) row streams the row in 16-byte loads for an online log-sum-exp
 * (float32 exp, float64 sums, combined across the block in a fixed order), the loss on ℓ is the
 * CUDA {@link policyLoss} kernel, and one block per row writes the gradient. Results match the
 * CPU kernel to float32 rounding (the sums are taken in another order), are bit-identical from
 * run to run, and errors are the CPU's (same class and message). Extra GPU memory is 3 floats per
 * (b, t) row besides the inputs' copies (none for DeviceArrays) and the outputs.
 *
 * @param inputs - logits, targets and the loss terms; must not be modified until the promise settles.
 * @param config - the loss, exactly as for {@link policyLoss}.
 * @param options - `inPlace`, or an output array `gradLogits`.
 * @returns (a promise of) the loss, the metrics of {@link policyLoss}, `logp` and `gradLogits`.
 * @throws (rejects) TypeError / RangeError naming the argument: wrong types or lengths (`logits`
 *   must hold `batch × steps × vocab` entries), a `dtype` that does not fit the array, a target
 *   outside `[0, vocab)`, a mask value other than 0/1, a non-positive temperature, NaN or
 *   `+Infinity` logits, `-Infinity` at a target or across a whole row, non-finite loss terms
 *   on unmasked tokens, or an `options.gradLogits` of the wrong length, overlapping the logits, or
 *   given together with `inPlace`; a DeviceArray with `device: 'cpu'` (TypeError); Error when
 *   `device: 'cuda'` cannot be used (the message says why) or on a CUDA error.
 * @example
 * ```ts
 * const { loss, logp, gradLogits } = await logitsPolicyLoss(
 *   { logits, targets, oldLogp, advantages, mask, batch: 8, steps: 512, vocab: 151936 },
 *   { algorithm: 'dapo' },
 *   { inPlace: true },
 * );
 * ```
 */
export function logitsPolicyLoss<I extends LogitsPolicyLossInputs<LogitsInput, Int32Input, Float32Input, Uint8Input>>(
  inputs: I,
  config: PolicyLossConfig,
  options: LogitsPolicyLossOptions = {},
): Promise<LogitsPolicyLossResult<Placement<I[keyof I]>>> {
  return addon.logitsPolicyLossAsync(inputs, config, options) as Promise<LogitsPolicyLossResult<Placement<I[keyof I]>>>;
}
