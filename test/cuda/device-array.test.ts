/**
 * DeviceArray: argument checks (they run before CUDA is needed, so they are tested everywhere),
 * and on a GPU: round trips of every element type, shapes, empty arrays, dispose (idempotent,
 * refused as an input afterwards, deferred while an async call reads the array), device 'cpu'
 * refused for DeviceArray inputs, and CUDA errors surfacing with CUDA's own message.
 */
import { describe, expect, it } from 'vitest';
import { DeviceArray, fisherRao, fisherRaoAsync } from '../../lib/index.js';
import { addon } from '../../lib/native.js';
import { expectBitEqual, expectThrowsNamed } from '../helpers/assert.js';
import { cudaAvailable, reportCudaSkip, underComputeSanitizer } from '../helpers/cuda.js';
import { Rng } from '../helpers/prng.js';

reportCudaSkip('test/cuda/device-array.test.ts');

type AnyUpload = (...args: unknown[]) => unknown;
const upload = DeviceArray.upload as AnyUpload;

describe('DeviceArray argument checks (no GPU needed)', () => {
  it('cannot be constructed directly (TypeError naming upload)', () => {
    expectThrowsNamed(() => new (DeviceArray as unknown as new () => unknown)(), TypeError, /DeviceArray\.upload/);
  });
  it('data must be a supported TypedArray', () => {
    expectThrowsNamed(() => upload(new Float64Array(3)), TypeError, /DeviceArray\.upload: data must be .*Float64Array/);
    expectThrowsNamed(() => upload([1, 2, 3]), TypeError, /\bdata\b/);
    expectThrowsNamed(() => upload(undefined), TypeError, /\bdata\b/);
  });
  it('a Uint16Array needs options.dtype float16 or bfloat16', () => {
    expectThrowsNamed(() => upload(new Uint16Array(2)), TypeError, /options\.dtype/);
    expectThrowsNamed(() => upload(new Uint16Array(2), { dtype: 'float32' }), RangeError, /options\.dtype/);
    expectThrowsNamed(() => upload(new Uint16Array(2), { dtype: 16 }), TypeError, /options\.dtype/);
  });
  it('options.dtype must match any other array type', () => {
    expectThrowsNamed(() => upload(new Float32Array(2), { dtype: 'int32' }), TypeError, /options\.dtype must be 'float32'/);
    expectThrowsNamed(() => upload(new Int32Array(2), { dtype: 'half' }), RangeError, /options\.dtype/);
  });
  it('options.shape must be integers whose product is the length', () => {
    expectThrowsNamed(() => upload(new Float32Array(6), { shape: [4, 2] }), RangeError, /options\.shape .*8 elements.*6/);
    expectThrowsNamed(() => upload(new Float32Array(6), { shape: [2, -3] }), RangeError, /options\.shape\[1\]/);
    expectThrowsNamed(() => upload(new Float32Array(6), { shape: [2, 1.5] }), RangeError, /options\.shape\[1\]/);
    expectThrowsNamed(() => upload(new Float32Array(6), { shape: ['2', 3] }), TypeError, /options\.shape\[0\]/);
    expectThrowsNamed(() => upload(new Float32Array(6), { shape: 6 }), TypeError, /options\.shape/);
    expectThrowsNamed(() => upload(new Float32Array(6), 'x'), TypeError, /options/);
  });
  it.skipIf(cudaAvailable)('a valid upload without a GPU is an Error that says why', () => {
    let error: unknown;
    try {
      DeviceArray.upload(new Float32Array(4));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/DeviceArray\.upload: CUDA cannot be used: .+/);
  });
  it('the benchmark hooks check their arguments', () => {
    expectThrowsNamed(() => addon.timeCudaCalls(3 as unknown as () => void), TypeError, /fn must be a function/);
    expectThrowsNamed(() => addon.timeCudaCopy(-1), RangeError, /bytes/);
    expectThrowsNamed(() => addon.timeCudaCopy(8, { reps: 0 }), RangeError, /options\.reps/);
  });
});

describe.skipIf(!cudaAvailable)('DeviceArray on the GPU', () => {
  const rng = new Rng(91);

  it('round trips every element type bit for bit, with its shape', async () => {
    const arrays = [
      rng.f32(1001, () => rng.normal()),
      Int32Array.from({ length: 77 }, () => rng.int(-1e9, 1e9)),
      Uint8Array.from({ length: 33 }, () => rng.int(0, 255)),
      Int8Array.from({ length: 9 }, () => rng.int(-128, 127)),
    ];
    for (const host of arrays) {
      const d = upload(host) as DeviceArray;
      expect(d.length).toBe(host.length);
      expect(d.byteLength).toBe(host.byteLength);
      expect(d.shape).toEqual([host.length]);
      expectBitEqual(await d.download(), host, d.dtype);
      d.dispose();
    }
    const bits = Uint16Array.from({ length: 65536 }, (_, i) => i); // every pattern, NaNs included
    for (const dtype of ['float16', 'bfloat16'] as const) {
      const d = DeviceArray.upload(bits, { dtype, shape: [256, 256] });
      expect(d.dtype).toBe(dtype);
      expect(d.shape).toEqual([256, 256]);
      expectBitEqual(await d.download(), bits, dtype);
      d.dispose();
    }
  });

  it('empty arrays upload, download and feed kernels', async () => {
    const d = DeviceArray.upload(new Float32Array(0));
    expect(d.length).toBe(0);
    expect((await d.download()).length).toBe(0);
    const out = fisherRao(d, d, { rows: 0, cols: 3 });
    expect(out.length).toBe(0);
    out.dispose();
    d.dispose();
  });

  it('dispose is idempotent; a disposed array is refused by kernels and download', async () => {
    const d = DeviceArray.upload(new Float32Array([1, 2, 3, 4]));
    d.dispose();
    d.dispose();
    expect(d.disposed).toBe(true);
    expectThrowsNamed(() => fisherRao(d, new Float32Array(4), { rows: 1, cols: 4 }), TypeError, /\bp is a DeviceArray that has been disposed/);
    await expect(d.download()).rejects.toThrow(/disposed/);
  });

  it('dispose during an async call waits for the call', async () => {
    const p = rng.probRows(512, 1024);
    const q = rng.probRows(512, 1024);
    const expected = fisherRao(p, q, { rows: 512, cols: 1024 }, { device: 'cuda' });
    const dp = DeviceArray.upload(p);
    const dq = DeviceArray.upload(q);
    const pending = fisherRaoAsync(dp, dq, { rows: 512, cols: 1024 });
    dp.dispose();
    dq.dispose();
    const out = await pending;
    expectBitEqual(await out.download(), expected, 'result');
    out.dispose();
  });

  it("device 'cpu' with a DeviceArray input is a TypeError naming the argument", () => {
    const d = DeviceArray.upload(new Float32Array(4));
    expectThrowsNamed(() => fisherRao(new Float32Array(4), d, { rows: 1, cols: 4 }, { device: 'cpu' }), TypeError, /\bq is a DeviceArray .*'cpu'/);
    d.dispose();
  });

  // (not under compute-sanitizer, which counts the failed allocation as an error of its own)
  it.skipIf(underComputeSanitizer)('a CUDA error comes back as an Error with CUDA’s message', () => {
    expectThrowsNamed(() => addon.timeCudaCopy(2 ** 52), Error, /timeCudaCopy: .*(out of memory|cudaErrorMemoryAllocation)/);
    // the context survives an allocation failure (disjoint rows: π, to the GPU's ~5e-7 relative)
    const [fr] = fisherRao(new Float32Array([1, 0]), new Float32Array([0, 1]), { rows: 1, cols: 2 }, { device: 'cuda' });
    expect(Math.abs(fr! - Math.PI) / Math.PI).toBeLessThan(5e-7);
  });
});
