/**
 * Choosing the device (runs everywhere): capabilities() says whether CUDA can be used and why not;
 * device 'cuda' without a GPU is a clear Error (sync throws, async rejects); 'auto' falls back to
 * the CPU and gives exactly the CPU's results, or runs on CUDA when a GPU is there; DYCO_RL_DEVICE
 * sets the default; bad device values are TypeError/RangeError naming the option. Half-precision
 * host inputs work on the CPU path too (widened exactly, so bit-identical to their float32 values).
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as api from '../../lib/index.js';
import { attentionStatsRef, fisherRaoRef, policyLossRef } from '../oracle/index.js';
import { expectAllClose, expectBitEqual, expectFrClose, expectRejectsNamed, expectThrowsNamed } from '../helpers/assert.js';
import { cudaAvailable, toHalf } from '../helpers/cuda.js';
import { growingLayout, makeSmoothPolicyCase } from '../helpers/data.js';
import { Rng } from '../helpers/prng.js';
import { makeLogitsCase } from '../helpers/logits.js';
import { addon } from '../../lib/native.js';

type AnyFn = (...args: unknown[]) => unknown;
const rng = new Rng(81);
const p = rng.probRows(6, 40);
const q = rng.probRows(6, 40);
const layout = growingLayout(3, 20, 5, 6);
const lengths = Int32Array.from({ length: 12 }, (_, i) => layout.lengthAt(i % 6));
const attn = rng.probRows(12, layout.keys);
const attShape = { batch: 2, steps: 6, keys: layout.keys, modality: layout.modality, lengths };
const lossCase = makeSmoothPolicyCase(82, { batch: 4, steps: 9, perTokenAdvantages: true }, { algorithm: 'dapo' }, 1e-5);
const logitsCase = makeLogitsCase(83, { batch: 2, steps: 3, vocab: 96, dtype: 'bfloat16' }, { algorithm: 'grpo' }).inputs;
const coordinationInputs = { ...api.attentionStats(attn, attShape, { device: 'cpu' }), batch: 2, steps: 6 };

/** Every CUDA-backed function: a call with the options object last, its async twin, and a comparer. */
const calls: { name: string; sync: (o?: object) => unknown; async: (o?: object) => Promise<unknown> }[] = [
  { name: 'fisherRao', sync: (o) => api.fisherRao(p, q, { rows: 6, cols: 40 }, o), async: (o) => api.fisherRaoAsync(p, q, { rows: 6, cols: 40 }, o) },
  { name: 'fisherRaoAdjacent', sync: (o) => api.fisherRaoAdjacent(attn, { batch: 2, steps: 6, width: layout.keys, lengths }, o), async: (o) => api.fisherRaoAdjacentAsync(attn, { batch: 2, steps: 6, width: layout.keys, lengths }, o) },
  { name: 'attentionStats', sync: (o) => api.attentionStats(attn, attShape, o), async: (o) => api.attentionStatsAsync(attn, attShape, o) },
  { name: 'coordinationScores', sync: (o) => api.coordinationScores(coordinationInputs, o), async: (o) => api.coordinationScoresAsync(coordinationInputs, o) },
  { name: 'policyLoss', sync: (o) => api.policyLoss(lossCase, { algorithm: 'dapo' }, o), async: (o) => api.policyLossAsync(lossCase, { algorithm: 'dapo' }, o) },
  // The package exports the Promise form only; the addon's synchronous twin takes the same arguments.
  { name: 'logitsPolicyLoss', sync: (o) => addon.logitsPolicyLoss(logitsCase, { algorithm: 'grpo' }, o), async: (o) => api.logitsPolicyLoss(logitsCase, { algorithm: 'grpo' }, o) },
];

/** Bit-identity of two results (a TypedArray, or an object of TypedArrays and numbers). */
function expectSame(a: unknown, b: unknown, label: string): void {
  if (ArrayBuffer.isView(a)) return expectBitEqual(a, b as ArrayBufferView, label);
  for (const [k, v] of Object.entries(a as object)) {
    const w = (b as Record<string, unknown>)[k];
    if (ArrayBuffer.isView(v)) expectBitEqual(v, w as ArrayBufferView, `${label}.${k}`);
    else expect(Object.is(v, w), `${label}.${k}: ${String(v)} vs ${String(w)}`).toBe(true);
  }
}

// Tests set DYCO_RL_DEVICE; put back what the run started with (gpu-check.sh's suite phase sets it).
const startingDevice = process.env.DYCO_RL_DEVICE;
afterEach(() => {
  if (startingDevice === undefined) delete process.env.DYCO_RL_DEVICE;
  else process.env.DYCO_RL_DEVICE = startingDevice;
});

describe('capabilities() and CUDA', () => {
  it('reports whether the kernels are built, and either the device or why CUDA cannot be used', () => {
    const c = api.capabilities();
    expect(typeof c.cudaKernels).toBe('boolean');
    if (c.cuda) {
      expect(c.cudaKernels).toBe(true);
      expect(c.cudaDevices).toBeGreaterThanOrEqual(1);
      expect(c.cudaReason).toBeUndefined();
      expect(c.cudaDevice!.name.length).toBeGreaterThan(0);
      expect(c.cudaDevice!.computeCapability).toMatch(/^\d+\.\d+$/);
      expect(c.cudaDevice!.memoryBytes).toBeGreaterThan(0);
    } else if (c.cudaDevices > 0) {
      // A device, but an earlier kernel fault in this process made CUDA unusable.
      expect(c.cudaDevice!.name.length).toBeGreaterThan(0);
      expect(c.cudaReason).toMatch(/context unusable/);
    } else {
      expect(c.cudaDevice).toBeUndefined();
      expect(c.cudaReason).toMatch(/\S/);
      if (!c.cudaKernels) expect(c.cudaReason).toMatch(/not part of this build/);
    }
  });
});

describe.skipIf(cudaAvailable)('without a usable GPU', () => {
  const reason = api.capabilities().cudaReason!;
  for (const call of calls) {
    it(`${call.name}: device 'cuda' is an Error naming the function and the reason (sync throws, async rejects)`, async () => {
      const pattern = new RegExp(`^${call.name}: options\\.device is 'cuda' but CUDA cannot be used: `);
      let error: unknown;
      try {
        call.sync({ device: 'cuda' });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(TypeError);
      expect(error).not.toBeInstanceOf(RangeError);
      expect((error as Error).message).toMatch(pattern);
      expect((error as Error).message).toContain(reason);
      await expectRejectsNamed(() => call.async({ device: 'cuda' }), Error, pattern);
    });
    it(`${call.name}: 'auto' and no option give the CPU's results bit for bit`, async () => {
      const cpu = call.sync({ device: 'cpu' });
      expectSame(call.sync({ device: 'auto' }), cpu, 'auto');
      expectSame(call.sync(), cpu, 'default');
      expectSame(await call.async({ device: 'auto' }), cpu, 'async auto');
    });
  }
  it("DYCO_RL_DEVICE=cuda makes the default 'cuda' (and says so); an explicit device wins", () => {
    process.env.DYCO_RL_DEVICE = 'cuda';
    expectThrowsNamed(() => calls[0]!.sync(), Error, /fisherRao: DYCO_RL_DEVICE is 'cuda' but CUDA cannot be used/);
    expectSame(calls[0]!.sync({ device: 'auto' }), calls[0]!.sync({ device: 'cpu' }), 'explicit auto');
  });
});

describe.skipIf(!cudaAvailable)('with a usable GPU', () => {
  for (const call of calls) {
    it(`${call.name}: 'auto' and no option run on CUDA (bit-identical to 'cuda')`, () => {
      const gpu = call.sync({ device: 'cuda' });
      expectSame(call.sync({ device: 'auto' }), gpu, 'auto');
      expectSame(call.sync(), gpu, 'default');
    });
  }
  it("DYCO_RL_DEVICE=cpu makes the default the CPU", () => {
    const cpu = calls[0]!.sync({ device: 'cpu' });
    process.env.DYCO_RL_DEVICE = 'cpu';
    expectSame(calls[0]!.sync(), cpu, 'default with DYCO_RL_DEVICE=cpu');
  });
});

describe('device option checks', () => {
  for (const call of calls) {
    it(`${call.name}: a device that is not a string is a TypeError, an unknown one a RangeError`, async () => {
      expectThrowsNamed(() => call.sync({ device: 1 }), TypeError, /options\.device/);
      expectThrowsNamed(() => call.sync({ device: 'gpu' }), RangeError, /options\.device must be one of 'cpu', 'cuda', 'auto' \(got 'gpu'\)/);
      await expectRejectsNamed(() => call.async({ device: 'gpu' }), RangeError, /options\.device/);
    });
  }
  it('DYCO_RL_DEVICE with an unknown value is a RangeError naming it', () => {
    process.env.DYCO_RL_DEVICE = 'tpu';
    expectThrowsNamed(() => calls[0]!.sync(), RangeError, /DYCO_RL_DEVICE must be 'cpu', 'cuda' or 'auto' \(got 'tpu'\)/);
    expectSame(calls[0]!.sync({ device: 'cpu' }), api.fisherRao(p, q, { rows: 6, cols: 40 }, { device: 'cpu' }), 'an explicit device does not read the variable');
  });
});

describe('half-precision host inputs (CPU path: widened exactly)', () => {
  for (const dtype of ['float16', 'bfloat16'] as const) {
    it(`fisherRao / fisherRaoAdjacent / attentionStats with ${dtype} rows equal their float32 values bit for bit`, () => {
      const hp = toHalf(p, dtype);
      const hq = toHalf(q, dtype);
      const got = api.fisherRao({ data: hp.bits, dtype }, { data: hq.bits, dtype }, { rows: 6, cols: 40 }, { device: 'cpu' });
      expectBitEqual(got, api.fisherRao(hp.values, hq.values, { rows: 6, cols: 40 }, { device: 'cpu' }), 'fisherRao');
      expectFrClose(got, fisherRaoRef(hp.values, hq.values, { rows: 6, cols: 40 }));
      const ha = toHalf(attn, dtype);
      const adjShape = { batch: 2, steps: 6, width: layout.keys, lengths };
      expectBitEqual(api.fisherRaoAdjacent({ data: ha.bits, dtype }, adjShape, { device: 'cpu' }), api.fisherRaoAdjacent(ha.values, adjShape, { device: 'cpu' }), 'fisherRaoAdjacent');
      const stats = api.attentionStats({ data: ha.bits, dtype }, attShape, { device: 'cpu' });
      expectSame(stats, api.attentionStats(ha.values, attShape, { device: 'cpu' }), 'attentionStats');
      expectAllClose(stats.ratioVis, attentionStatsRef(ha.values, attShape).ratioVis, { abs: 1e-7, rel: 1e-5 });
    });
    it(`policyLoss with ${dtype} log-probs equals its float32 values bit for bit`, () => {
      const logp = toHalf(lossCase.logp, dtype);
      const old = toHalf(lossCase.oldLogp!, dtype);
      const half = api.policyLoss({ ...lossCase, logp: { data: logp.bits, dtype }, oldLogp: { data: old.bits, dtype } }, { algorithm: 'dapo' }, { device: 'cpu' });
      const rounded = { ...lossCase, logp: logp.values, oldLogp: old.values };
      expectSame(half, api.policyLoss(rounded, { algorithm: 'dapo' }, { device: 'cpu' }), 'policyLoss');
      expectAllClose(half.grad, policyLossRef(rounded, { algorithm: 'dapo' }).grad, { abs: 1e-6, rel: 1e-4 });
    });
  }
  it('the TypeScript rounding agrees with IEEE for special values (test oracle check)', () => {
    const special = new Float32Array([0, -0, 1, -2, 65504, 65520, 1e-8, 6e-8, 3e-8, 2.98e-8, Infinity, -Infinity, NaN, 1 + 2 ** -11, 1 + 3 * 2 ** -11]);
    const h = toHalf(special, 'float16');
    expect(Array.from(h.bits.slice(0, 6))).toEqual([0x0000, 0x8000, 0x3c00, 0xc000, 0x7bff, 0x7c00]);
    expect(Array.from(h.bits.slice(13))).toEqual([0x3c00, 0x3c02]); // ties to even
    expect(h.values[6]).toBe(2 ** -24 * Math.round(1e-8 / 2 ** -24));
    const b = toHalf(new Float32Array([1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -0, Infinity]), 'bfloat16');
    expect(Array.from(b.bits)).toEqual([0x3f80, 0x3f80, 0x3f82, 0x8000, 0x7f80]);
  });
  it('bad half-precision inputs are TypeError/RangeError naming the argument', () => {
    const fr = api.fisherRao as AnyFn;
    const shape = { rows: 6, cols: 40 };
    expectThrowsNamed(() => fr({ data: new Uint16Array(240), dtype: 'float8' }, q, shape), RangeError, /\bp\.dtype/);
    expectThrowsNamed(() => fr({ data: new Uint16Array(240) }, q, shape), TypeError, /\bp\.dtype/);
    expectThrowsNamed(() => fr({ data: new Int16Array(240), dtype: 'float16' }, q, shape), TypeError, /\bp\.data must be a Uint16Array/);
    expectThrowsNamed(() => fr({ data: new Uint16Array(239), dtype: 'float16' }, { data: new Uint16Array(240), dtype: 'float16' }, shape), RangeError, /\bp has 239 elements/);
    expectThrowsNamed(() => fr({ data: new Uint16Array(240), dtype: 'float16' }, q, shape), TypeError, /q must hold the same element type as p \(p is float16, q is float32\)/);
    expectThrowsNamed(() => (api.coordinationScores as AnyFn)({ ...coordinationInputs, frVis: { data: new Uint16Array(12), dtype: 'float16' } }), TypeError, /inputs\.frVis must be a Float32Array/);
    expectThrowsNamed(() => (api.policyLoss as AnyFn)({ ...lossCase, advantages: { data: new Uint16Array(36), dtype: 'bfloat16' } }, { algorithm: 'grpo' }), TypeError, /inputs\.advantages/);
  });
});
