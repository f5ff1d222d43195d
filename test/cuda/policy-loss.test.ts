/**
 * policyLoss on CUDA against the float64 oracle (loss, kl, ratioMean abs 1e-6 + rel 1e-5; grad
 * abs 1e-6 + rel 1e-4; clip fractions abs 1e-9, as in test/policy-loss.test.ts), against central
 * finite differences of the oracle's loss, and against the CPU kernel (the same float64 formulas:
 * grad abs 1e-9 + rel 1e-6, scalars abs 1e-12 + rel 1e-9, clip fractions equal), for every
 * algorithm and option of cases.ts; float16/bfloat16 log-probs against the oracle on the rounded
 * values; DeviceArray inputs (bit-identical to host inputs); async and repeated calls
 * bit-identical. Skipped, with the reason printed, where no GPU can be used.
 */
import { describe, expect, it } from 'vitest';
import { DeviceArray, policyLoss, policyLossAsync, type PolicyLossConfig, type PolicyLossResult } from '../../lib/index.js';
import { policyLossFiniteDiff, policyLossRef, type PolicyLossConfigRef } from '../oracle/index.js';
import { expectAllClose, expectBitEqual, expectClose } from '../helpers/assert.js';
import { expectMatchesOracle, GRAD_TOL } from '../helpers/policy-loss.js';
import { CPU_GRAD_TOL, CPU_SCALAR_TOL, cudaAvailable, reportCudaSkip, toHalf } from '../helpers/cuda.js';
import { makeSmoothPolicyCase, type PolicyCase } from '../helpers/data.js';
import { ALGORITHMS, policyCases } from './cases.js';

reportCudaSkip('test/cuda/policy-loss.test.ts');

const METRICS = ['clipFractionLow', 'clipFractionHigh', 'kl', 'ratioMean'] as const;

const expectOracle = (got: PolicyLossResult, input: PolicyCase, config: PolicyLossConfig, label: string) =>
  expectMatchesOracle(got, policyLossRef(input, config as PolicyLossConfigRef), label);

function expectSameResult(a: PolicyLossResult, b: PolicyLossResult, label: string): void {
  expect(Object.is(a.loss, b.loss), `${label} loss ${a.loss} vs ${b.loss}`).toBe(true);
  expectBitEqual(a.grad, b.grad, `${label} grad`);
  for (const k of METRICS) expect(Object.is(a[k], b[k]), `${label} ${k}`).toBe(true);
}

describe.skipIf(!cudaAvailable)('policyLoss on CUDA', () => {
  for (const { name, input, config } of policyCases()) {
    it(`${name}: oracle, CPU, repeat, async, DeviceArray`, async () => {
      const got = policyLoss(input, config, { device: 'cuda' });
      expect(got.grad).toBeInstanceOf(Float32Array);
      expectOracle(got, input, config, name);
      const cpu = policyLoss(input, config, { device: 'cpu' });
      expectClose(got.loss, cpu.loss, CPU_SCALAR_TOL, 'loss vs CPU');
      expectAllClose(got.grad, cpu.grad, CPU_GRAD_TOL, 'grad vs CPU');
      for (const k of METRICS) expectClose(got[k], cpu[k], CPU_SCALAR_TOL, `${k} vs CPU`);
      for (let i = 0; i < input.mask.length; i++) if (!input.mask[i]) expect(got.grad[i], `grad[${i}] masked`).toBe(0);
      expectSameResult(policyLoss(input, config, { device: 'cuda' }), got, 'repeat');
      expectSameResult(await policyLossAsync(input, config, { device: 'cuda' }), got, 'async');

      const up = (a?: Float32Array) => (a ? DeviceArray.upload(a) : undefined);
      const onDevice = {
        logp: up(input.logp)!,
        oldLogp: up(input.oldLogp),
        refLogp: up(input.refLogp),
        advantages: up(input.advantages)!,
        mask: DeviceArray.upload(input.mask),
        batch: input.batch,
        steps: input.steps,
      };
      const out = policyLoss(onDevice, config);
      expect(out.grad).toBeInstanceOf(DeviceArray);
      expectSameResult({ ...out, grad: await out.grad.download() }, got, 'DeviceArray inputs');
      for (const a of [onDevice.logp, onDevice.oldLogp, onDevice.refLogp, onDevice.advantages, onDevice.mask, out.grad]) a?.dispose();
    });
  }

  for (const [ai, algorithm] of ALGORITHMS.entries()) {
    it(`${algorithm}: gradient vs central finite differences of the oracle (abs 1e-6 + rel 1e-4)`, () => {
      const config: PolicyLossConfig = { algorithm, beta: 0.1 };
      const input = makeSmoothPolicyCase(2000 + 10 * ai, {
        batch: 5,
        steps: 8,
        maskedRows: [3],
        logRatio: algorithm === 'gspo' ? (rng, b) => (b % 3 === 0 ? 1e-4 : b % 3 === 1 ? -1.5e-4 : 0.3 * rng.normal()) : undefined,
      }, config, algorithm === 'gspo' ? 5e-5 : 1e-4);
      const fd = policyLossFiniteDiff(input, config as PolicyLossConfigRef, 1e-6);
      expectAllClose(policyLoss(input, config, { device: 'cuda' }).grad, fd, GRAD_TOL, 'grad vs FD');
      expect(fd.some((g) => Math.abs(g) > 1e-3)).toBe(true);
    });

    for (const dtype of ['float16', 'bfloat16'] as const) {
      it(`${algorithm}: ${dtype} log-probs (oracle on the rounded values)`, () => {
        const config: PolicyLossConfig = { algorithm };
        // Round ℓ, ℓ_old, ℓ_ref first, then keep the ratios away from the kinks.
        for (let k = 0; k < 100; k++) {
          const raw = makeSmoothPolicyCase(4000 + 37 * ai + k, { batch: 6, steps: 40, perTokenAdvantages: ai % 2 === 0 }, config, 1e-4);
          const logp = toHalf(raw.logp, dtype);
          const old = toHalf(raw.oldLogp!, dtype);
          const ref = toHalf(raw.refLogp!, dtype);
          const rounded: PolicyCase = { ...raw, logp: logp.values, oldLogp: old.values, refLogp: ref.values };
          const ratios = rounded.logp.map((v, i) => Math.exp(v - rounded.oldLogp![i]!));
          if (algorithm !== 'sapo' && algorithm !== 'gspo' && ratios.some((r) => Math.abs(r - 0.8) < 1e-4 || Math.abs(r - 1.2) < 1e-4 || Math.abs(r - 1.28) < 1e-4)) continue;
          const got = policyLoss({ ...raw, logp: { data: logp.bits, dtype }, oldLogp: { data: old.bits, dtype }, refLogp: { data: ref.bits, dtype } }, config, { device: 'cuda' });
          expectOracle(got, rounded, config, dtype);
          expectAllClose(got.grad, policyLoss(rounded, config, { device: 'cuda' }).grad, CPU_GRAD_TOL, 'vs float32 of the same values');
          return;
        }
        expect.fail('no case away from the kinks');
      });
    }
  }
});
