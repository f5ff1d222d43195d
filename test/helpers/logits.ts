/**
 * Logits-level policy-loss cases and their comparison with the float64 oracle, shared by
 * test/logits-policy-loss.test.ts (CPU) and test/cuda/logits-policy-loss.test.ts (tolerances are
 * described in the former's header).
 */
import { expect } from 'vitest';
import type { LogitsPolicyLossInputs, LogitsPolicyLossResult, PolicyLossConfig } from '../../lib/index.js';
import { logitsPolicyLossRef, selectiveLogSoftmaxRef, type LogitsPolicyLossRefResult, type PolicyLossConfigRef } from '../oracle/index.js';
import { Rng } from './prng.js';
import { expectAllClose, expectClose, type Tolerance } from './assert.js';
import { kinkDistance } from './data.js';
import { decodeHalf, encodeHalf, type HalfDtype } from './half.js';

export const LOSS_TOL = { abs: 1e-6, rel: 1e-5 };
export const FRAC_TOL = { abs: 1e-9, rel: 0 };
export const LOGP_TOL = { abs: 2e-6, rel: 1e-6 };

export interface LogitsCaseOptions {
  batch: number;
  steps: number;
  vocab: number;
  temperature?: number;
  dtype?: 'float32' | HalfDtype;
  perTokenAdvantages?: boolean;
  /** Provide oldLogp (default true). */
  old?: boolean;
  /** Provide refLogp (default true). */
  ref?: boolean;
  maskedRows?: number[];
  /** Standard deviation of the logits (default 3). */
  scale?: number;
  /** ℓ − ℓ_old per token (default N(0, 0.3²)). */
  logRatio?: (rng: Rng, b: number, t: number) => number;
}

export interface LogitsCase {
  inputs: LogitsPolicyLossInputs;
  /** The logits as the kernel reads them (decoded), for the oracle. */
  values: Float64Array;
}

/**
 * Random logits (half the targets boosted to be likely, so some log-probs are near 0), a mask with
 * trailing padding, old/ref log-probs placed relative to the oracle's log-probs; retried until
 * every ratio is ≥ `margin` from a clip kink.
 */
export function makeLogitsCase(seed: number, o: LogitsCaseOptions, config: PolicyLossConfig, margin = 1e-4): LogitsCase {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const rng = new Rng(seed + 7919 * attempt);
    const { batch: B, steps: T, vocab: V } = o;
    const n = B * T;
    const raw = new Float64Array(n * V);
    for (let i = 0; i < raw.length; i++) raw[i] = (o.scale ?? 3) * rng.normal();
    const targets = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      targets[i] = rng.int(0, V - 1);
      if (rng.bool()) raw[i * V + targets[i]!] += 8;
    }
    const dtype = o.dtype ?? 'float32';
    const logits = dtype === 'float32' ? Float32Array.from(raw) : encodeHalf(raw, dtype);
    const values = logits instanceof Float32Array ? Float64Array.from(logits) : decodeHalf(logits, dtype as HalfDtype);
    const mask = new Uint8Array(n);
    for (let b = 0; b < B; b++) {
      if (o.maskedRows?.includes(b)) continue;
      const L = rng.int(1, T);
      for (let t = 0; t < L; t++) mask[b * T + t] = t === 0 || rng.bool(0.85) ? 1 : 0;
    }
    const base = { logits: values, targets, mask, batch: B, steps: T, vocab: V, temperature: o.temperature };
    const { logp } = selectiveLogSoftmaxRef(base);
    const logRatio = o.logRatio ?? ((r: Rng) => 0.3 * r.normal());
    const oldLogp = o.old === false ? undefined : Float32Array.from(logp, (l, i) => l - logRatio(rng, Math.floor(i / T), i % T));
    const refLogp = o.ref === false ? undefined : Float32Array.from(logp, (l) => l + 0.3 * rng.normal());
    const signed = () => (rng.bool() ? 1 : -1) * rng.range(0.05, 2);
    const advantages = rng.f32(o.perTokenAdvantages ? n : B, signed);
    const inputs: LogitsPolicyLossInputs = {
      logits,
      ...(dtype === 'float32' ? {} : { dtype }),
      targets,
      oldLogp,
      refLogp,
      advantages,
      mask,
      batch: B,
      steps: T,
      vocab: V,
      ...(o.temperature === undefined ? {} : { temperature: o.temperature }),
    };
    const kinks = { logp: Float32Array.from(logp), oldLogp, advantages, mask, batch: B, steps: T };
    if (kinkDistance(kinks, config as PolicyLossConfigRef) >= margin) return { inputs, values };
  }
  throw new Error('makeLogitsCase: no smooth case found');
}

export const oracle = (c: LogitsCase, config: PolicyLossConfig): LogitsPolicyLossRefResult =>
  logitsPolicyLossRef({ ...c.inputs, logits: c.values }, config as PolicyLossConfigRef);

export const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};

export const gradTol = (ref: ArrayLike<number>): Tolerance => ({ abs: 1e-6 * maxAbs(ref), rel: 1e-4 });

export function expectMatchesOracle(got: LogitsPolicyLossResult, ref: LogitsPolicyLossRefResult, label: string): void {
  expectClose(got.loss, ref.loss, LOSS_TOL, `${label} loss`);
  expectClose(got.kl, ref.kl, LOSS_TOL, `${label} kl`);
  expectClose(got.ratioMean, ref.ratioMean, LOSS_TOL, `${label} ratioMean`);
  if (!Number.isNaN(ref.clipFractionLow)) {
    expectClose(got.clipFractionLow, ref.clipFractionLow, FRAC_TOL, `${label} clipFractionLow`);
    expectClose(got.clipFractionHigh, ref.clipFractionHigh, FRAC_TOL, `${label} clipFractionHigh`);
  }
  expect(got.logp).toBeInstanceOf(Float32Array);
  expectAllClose(got.logp, ref.logp, LOGP_TOL, `${label} logp`);
  expect(got.gradLogits).toBeInstanceOf(Float32Array);
  expectAllClose(got.gradLogits, ref.gradLogits, gradTol(ref.gradLogits), `${label} gradLogits`);
  expect(maxAbs(ref.gradLogits), `${label}: a gradient that is not all zero`).toBeGreaterThan(1e-6);
}

