/**
 * Float64 reference for logitsPolicyLoss: log-softmax of logits/T per row, the target's log-prob,
 * the policy-loss oracle (policy-loss.ts) on those log-probs, and the chain rule back to the logits:
 * ∂loss/∂x_v = g·(1[v = target] − softmax_v)/T with g = ∂loss/∂ℓ. Rows of masked tokens are not
 * read and get ℓ = 0 and a zero gradient.
 */
import type { PolicyLossConfigRef, PolicyLossInputsRef, PolicyLossRefResult } from './policy-loss.js';
import { policyLossRef, policyLossValueRef } from './policy-loss.js';

/** The policy-loss oracle's inputs with the logits (and what turns them into ℓ) in place of ℓ. */
export interface LogitsPolicyLossInputsRef extends Omit<PolicyLossInputsRef, 'logp'> {
  /** Decoded logit values, `[batch, steps, vocab]` (−Infinity allowed). */
  logits: ArrayLike<number>;
  targets: ArrayLike<number>;
  vocab: number;
  temperature?: number;
}

/** The policy-loss oracle's result with ℓ and ∂loss/∂logits in place of ∂loss/∂ℓ. */
export interface LogitsPolicyLossRefResult extends Omit<PolicyLossRefResult, 'grad'> {
  logp: Float64Array;
  gradLogits: Float64Array;
}

/** ℓ per token (0 where masked) and, per row, log Z of logits/T. */
export function selectiveLogSoftmaxRef(
  inputs: Pick<LogitsPolicyLossInputsRef, 'logits' | 'targets' | 'mask' | 'batch' | 'steps' | 'vocab' | 'temperature'>,
): { logp: Float64Array; logZ: Float64Array } {
  const { logits, targets, mask, batch, steps, vocab: V } = inputs;
  const T = inputs.temperature ?? 1;
  const logp = new Float64Array(batch * steps);
  const logZ = new Float64Array(batch * steps);
  for (let i = 0; i < batch * steps; i++) {
    if (mask[i] !== 1) continue;
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, logits[i * V + v]! / T);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[i * V + v]! / T - m);
    logZ[i] = m + Math.log(s);
    logp[i] = logits[i * V + targets[i]!]! / T - logZ[i]!;
  }
  return { logp, logZ };
}

export function logitsPolicyLossRef(inputs: LogitsPolicyLossInputsRef, config: PolicyLossConfigRef): LogitsPolicyLossRefResult {
  const { logits, targets, mask, batch, steps, vocab: V } = inputs;
  const T = inputs.temperature ?? 1;
  const { logp, logZ } = selectiveLogSoftmaxRef(inputs);
  const loss = policyLossRef({ ...inputs, logp }, config);
  const gradLogits = new Float64Array(batch * steps * V);
  for (let i = 0; i < batch * steps; i++) {
    if (mask[i] !== 1) continue;
    const g = loss.grad[i]!;
    for (let v = 0; v < V; v++) {
      const p = Math.exp(logits[i * V + v]! / T - logZ[i]!);
      gradLogits[i * V + v] = (g * ((v === targets[i] ? 1 : 0) - p)) / T;
    }
  }
  const { grad: _gradLogp, ...metrics } = loss;
  return { ...metrics, logp, gradLogits };
}


/**
 * Central finite differences of the loss with respect to every logit of an unmasked row (masked
 * rows get 0), with ℓ_old held at the unperturbed log-probs when `oldLogp` is unset.
 */
export function logitsPolicyLossFiniteDiff(inputs: LogitsPolicyLossInputsRef, config: PolicyLossConfigRef, h = 1e-6): Float64Array {
  const x = Float64Array.from(inputs.logits);
  const old = inputs.oldLogp ?? selectiveLogSoftmaxRef(inputs).logp;
  const value = (): number => {
    const { logp } = selectiveLogSoftmaxRef({ ...inputs, logits: x });
    return policyLossValueRef({ ...inputs, logp, oldLogp: old }, config);
  };
  const out = new Float64Array(x.length);
  const V = inputs.vocab;
  for (let i = 0; i < x.length; i++) {
    if (inputs.mask[Math.floor(i / V)] !== 1 || !Number.isFinite(x[i]!)) continue;
    const x0 = x[i]!;
    x[i] = x0 + h;
    const fp = value();
    x[i] = x0 - h;
    const fm = value();
    x[i] = x0;
    out[i] = (fp - fm) / (2 * h);
  }
  return out;
}
