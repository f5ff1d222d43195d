/**
 * fisherRao / fisherRaoAdjacent on CUDA against the float64 oracle (the FR criterion of
 * test/fisher-rao.test.ts: rel ≤ 1e-4 where FR ≥ 1e-3, abs ≤ 1e-7 below) and against the CPU
 * kernels (abs 2e-7 + rel 2e-6), over the adversarial cases of cases.ts; then the same with
 * float16/bfloat16 inputs (FR criterion against the oracle on the rounded values, which is all the
 * kernel sees; against float32 inputs only loosely: abs 1e-2 + rel 1e-2 for float16, 2e-2 for
 * bfloat16), DeviceArray inputs (bit-identical to host inputs), async calls and repeated calls
 * (bit-identical). Skipped, with the reason printed, where no GPU can be used.
 */
import { describe, expect, it } from 'vitest';
import { DeviceArray, fisherRao, fisherRaoAdjacent, fisherRaoAdjacentAsync, fisherRaoAsync } from '../../lib/index.js';
import { fisherRaoAdjacentRef, fisherRaoRef } from '../oracle/index.js';
import { expectAllClose, expectBitEqual, expectFrClose } from '../helpers/assert.js';
import { CPU_FR_TOL, cudaAvailable, reportCudaSkip, toHalf } from '../helpers/cuda.js';
import { adjacentCases, fisherRaoCases } from './cases.js';

reportCudaSkip('test/cuda/fisher-rao.test.ts');

// float16 has 11 significant bits but flushes entries below 6e-5 to subnormals (long rows of
// ~1e-5 entries lose ~0.3% each); bfloat16 has 8 bits over float32's range.
const HALF_VS_FLOAT = { float16: { abs: 1e-2, rel: 1e-2 }, bfloat16: { abs: 2e-2, rel: 2e-2 } } as const;
const cuda = { device: 'cuda' } as const;
const cpu = { device: 'cpu' } as const;

const allFinite = (a: Float32Array) => a.every((v) => Number.isFinite(v));

describe.skipIf(!cudaAvailable)('fisherRao on CUDA', () => {
  for (const c of fisherRaoCases()) {
    const shape = { rows: c.rows, cols: c.cols };
    it(`${c.name}: oracle, CPU, repeat, async, DeviceArray`, async () => {
      const got = fisherRao(c.p, c.q, shape, cuda);
      expect(got).toBeInstanceOf(Float32Array);
      expectFrClose(got, fisherRaoRef(c.p, c.q, shape), c.name);
      expectAllClose(got, fisherRao(c.p, c.q, shape, cpu), CPU_FR_TOL, `${c.name}: CUDA vs CPU`);
      expectBitEqual(fisherRao(c.p, c.q, shape, cuda), got, 'repeat');
      expectBitEqual(await fisherRaoAsync(c.p, c.q, shape, cuda), got, 'async');
      const p = DeviceArray.upload(c.p);
      const q = DeviceArray.upload(c.q);
      const out = fisherRao(p, q, shape);
      expect(out).toBeInstanceOf(DeviceArray);
      expect(out.length).toBe(c.rows);
      expectBitEqual(await out.download(), got, 'DeviceArray inputs');
      for (const a of [p, q, out]) a.dispose();
    });
    for (const dtype of ['float16', 'bfloat16'] as const) {
      it(`${c.name}: ${dtype} inputs`, () => {
        const hp = toHalf(c.p, dtype);
        const hq = toHalf(c.q, dtype);
        if (!allFinite(hp.values) || !allFinite(hq.values)) return; // out of range for this type: not a valid input
        const got = fisherRao({ data: hp.bits, dtype }, { data: hq.bits, dtype }, shape, cuda);
        expectFrClose(got, fisherRaoRef(hp.values, hq.values, shape), `${c.name} (${dtype})`);
        expectAllClose(got, fisherRao(hp.values, hq.values, shape, cuda), CPU_FR_TOL, 'vs float32 of the same values');
        expectAllClose(got, fisherRao(c.p, c.q, shape, cuda), HALF_VS_FLOAT[dtype], 'vs the unrounded float32 inputs');
      });
    }
  }
});

describe.skipIf(!cudaAvailable)('fisherRaoAdjacent on CUDA', () => {
  for (const c of adjacentCases()) {
    const shape = { batch: c.batch, steps: c.steps, width: c.width, lengths: c.lengths };
    it(`${c.name}: oracle, CPU, repeat, async, DeviceArray`, async () => {
      const got = fisherRaoAdjacent(c.x, shape, cuda);
      expect(got).toBeInstanceOf(Float32Array);
      expectFrClose(got, fisherRaoAdjacentRef(c.clean ?? c.x, shape), c.name);
      expectAllClose(got, fisherRaoAdjacent(c.x, shape, cpu), CPU_FR_TOL, `${c.name}: CUDA vs CPU`);
      for (let b = 0; b < c.batch; b++) expect(got[b * c.steps], 'step 0').toBe(0);
      expectBitEqual(fisherRaoAdjacent(c.x, shape, cuda), got, 'repeat');
      expectBitEqual(await fisherRaoAdjacentAsync(c.x, shape, cuda), got, 'async');
      const x = DeviceArray.upload(c.x);
      const lengths = c.lengths ? DeviceArray.upload(c.lengths) : undefined;
      const out = fisherRaoAdjacent(x, { ...shape, lengths });
      expect(out).toBeInstanceOf(DeviceArray);
      expectBitEqual(await out.download(), got, 'DeviceArray inputs');
      // lengths alone on the device also puts the output there
      const mixed = c.lengths ? fisherRaoAdjacent(c.x, { ...shape, lengths }) : undefined;
      if (mixed) {
        expect(mixed).toBeInstanceOf(DeviceArray);
        expectBitEqual(await mixed.download(), got, 'lengths on the device');
        mixed.dispose();
      }
      for (const a of [x, lengths, out]) a?.dispose();
    });
    for (const dtype of ['float16', 'bfloat16'] as const) {
      it(`${c.name}: ${dtype} inputs`, () => {
        const hx = toHalf(c.clean ?? c.x, dtype);
        if (!allFinite(hx.values)) return;
        const got = fisherRaoAdjacent({ data: hx.bits, dtype }, shape, cuda);
        expectFrClose(got, fisherRaoAdjacentRef(hx.values, shape), `${c.name} (${dtype})`);
        expectAllClose(got, fisherRaoAdjacent(hx.values, shape, cuda), CPU_FR_TOL, 'vs float32 of the same values');
        expectAllClose(got, fisherRaoAdjacent(c.clean ?? c.x, shape, cuda), HALF_VS_FLOAT[dtype], 'vs the unrounded inputs');
      });
    }
  }
});
