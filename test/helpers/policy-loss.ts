/**
 * The policyLoss comparison with the float64 oracle, shared by the CPU and CUDA tests. Tolerances
 * (the kernels compute in float64 but return grad as float32): loss, kl, ratioMean abs 1e-6 + rel
 * 1e-5; grad abs 1e-6 + rel 1e-4; clip fractions abs 1e-9 (they are counts / N).
 */
import { expect } from 'vitest';
import type { PolicyLossResult } from '../../lib/index.js';
import type { PolicyLossRefResult } from '../oracle/index.js';
import { expectAllClose, expectClose } from './assert.js';

export const LOSS_TOL = { abs: 1e-6, rel: 1e-5 };
export const GRAD_TOL = { abs: 1e-6, rel: 1e-4 };
export const FRAC_TOL = { abs: 1e-9, rel: 0 };

export function expectMatchesOracle(got: PolicyLossResult, ref: PolicyLossRefResult, label = ''): void {
  expect(typeof got.loss, `${label} loss type`).toBe('number');
  expect(got.grad, `${label} grad type`).toBeInstanceOf(Float32Array);
  expectClose(got.loss, ref.loss, LOSS_TOL, `${label} loss`);
  expectAllClose(got.grad, ref.grad, GRAD_TOL, `${label} grad`);
  if (!Number.isNaN(ref.clipFractionLow)) {
    expectClose(got.clipFractionLow, ref.clipFractionLow, FRAC_TOL, `${label} clipFractionLow`);
    expectClose(got.clipFractionHigh, ref.clipFractionHigh, FRAC_TOL, `${label} clipFractionHigh`);
  }
  expectClose(got.kl, ref.kl, LOSS_TOL, `${label} kl`);
  expectClose(got.ratioMean, ref.ratioMean, LOSS_TOL, `${label} ratioMean`);
}
