/**
 * attentionStats on CUDA against the float64 oracle (ratios abs 1e-7 + rel 1e-5, shifts the FR
 * criterion, as in test/attention-stats.test.ts) and against the CPU kernel (ratios abs 1e-7 +
 * rel 1e-6, shifts abs 2e-7 + rel 2e-6), over the adversarial cases of cases.ts; float16/bfloat16
 * attention rows against the oracle on the rounded values; DeviceArray inputs (every combination
 * of attn / modality / lengths on the device gives the host-input result bit for bit); async and
 * repeated calls bit-identical. Skipped, with the reason printed, where no GPU can be used.
 */
import { describe, expect, it } from 'vitest';
import { attentionStats, attentionStatsAsync, DeviceArray, type AttentionStats } from '../../lib/index.js';
import { attentionStatsRef, type AttentionStatsRef } from '../oracle/index.js';
import { expectAllClose, expectBitEqual, expectFrClose } from '../helpers/assert.js';
import { CPU_FR_TOL, CPU_RATIO_TOL, cudaAvailable, reportCudaSkip, toHalf } from '../helpers/cuda.js';
import { attentionCases } from './cases.js';

reportCudaSkip('test/cuda/attention-stats.test.ts');

const RATIO_TOL = { abs: 1e-7, rel: 1e-5 };
const FIELDS = ['ratioVis', 'ratioTxt', 'frVis', 'frTxt'] as const;

function expectOracle(got: AttentionStats, ref: AttentionStatsRef, label: string): void {
  expectAllClose(got.ratioVis, ref.ratioVis, RATIO_TOL, `${label} ratioVis`);
  expectAllClose(got.ratioTxt, ref.ratioTxt, RATIO_TOL, `${label} ratioTxt`);
  expectFrClose(got.frVis, ref.frVis, `${label} frVis`);
  expectFrClose(got.frTxt, ref.frTxt, `${label} frTxt`);
}

function expectSameStats(a: AttentionStats, b: AttentionStats, label: string): void {
  for (const k of FIELDS) expectBitEqual(a[k], b[k], `${label} ${k}`);
}

describe.skipIf(!cudaAvailable)('attentionStats on CUDA', () => {
  for (const c of attentionCases()) {
    const shape = { batch: c.batch, steps: c.steps, keys: c.keys, modality: c.modality, lengths: c.lengths };
    it(`${c.name}: oracle, CPU, repeat, async, DeviceArray`, async () => {
      const got = attentionStats(c.attn, shape, { device: 'cuda' });
      for (const k of FIELDS) expect(got[k]).toBeInstanceOf(Float32Array);
      expectOracle(got, attentionStatsRef(c.clean ?? c.attn, shape), c.name);
      const cpu = attentionStats(c.attn, shape, { device: 'cpu' });
      expectAllClose(got.ratioVis, cpu.ratioVis, CPU_RATIO_TOL, 'ratioVis vs CPU');
      expectAllClose(got.ratioTxt, cpu.ratioTxt, CPU_RATIO_TOL, 'ratioTxt vs CPU');
      expectAllClose(got.frVis, cpu.frVis, CPU_FR_TOL, 'frVis vs CPU');
      expectAllClose(got.frTxt, cpu.frTxt, CPU_FR_TOL, 'frTxt vs CPU');
      expectSameStats(attentionStats(c.attn, shape, { device: 'cuda' }), got, 'repeat');
      expectSameStats(await attentionStatsAsync(c.attn, shape, { device: 'cuda' }), got, 'async');

      const attn = DeviceArray.upload(c.attn);
      const modality = DeviceArray.upload(c.modality);
      const lengths = c.lengths ? DeviceArray.upload(c.lengths) : undefined;
      for (const [label, a, m, l] of [
        ['all on the device', attn, modality, lengths],
        ['attn on the device', attn, c.modality, c.lengths],
        ['modality on the device', c.attn, modality, c.lengths],
      ] as const) {
        const out = attentionStats(a, { ...shape, modality: m, lengths: l });
        for (const k of FIELDS) {
          expect(out[k], `${label} ${k}`).toBeInstanceOf(DeviceArray);
          expectBitEqual(await out[k].download(), got[k], `${label} ${k}`);
          out[k].dispose();
        }
      }
      for (const a of [attn, modality, lengths]) a?.dispose();
    });
    for (const dtype of ['float16', 'bfloat16'] as const) {
      it(`${c.name}: ${dtype} attention rows`, () => {
        const h = toHalf(c.clean ?? c.attn, dtype);
        if (!h.values.every((v) => Number.isFinite(v))) return;
        const got = attentionStats({ data: h.bits, dtype }, shape, { device: 'cuda' });
        expectOracle(got, attentionStatsRef(h.values, shape), `${c.name} (${dtype})`);
        const asFloat = attentionStats(h.values, shape, { device: 'cuda' });
        expectAllClose(got.ratioVis, asFloat.ratioVis, CPU_RATIO_TOL, 'ratioVis vs float32 of the same values');
        expectAllClose(got.frVis, asFloat.frVis, CPU_FR_TOL, 'frVis vs float32 of the same values');
        expectAllClose(got.frTxt, asFloat.frTxt, CPU_FR_TOL, 'frTxt vs float32 of the same values');
      });
    }
  }
});
