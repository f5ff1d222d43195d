/**
 * logitsPolicyLoss on CUDA against the float64 oracle (test/oracle/logits-policy-loss.ts, with the
 * tolerances of test/logits-policy-loss.test.ts: loss abs 1e-6 + rel 1e-5, logp abs 2e-6 + rel
 * 1e-6, gradLogits abs 1e-6·G + rel 1e-4) and against the CPU kernel (the same float32 exp and
 * float64 sums in another order: logp abs 1e-6 + rel 1e-6, gradLogits abs 1e-7·G + rel 1e-5,
 * scalars abs 1e-9 + rel 1e-7, clip fractions equal), for every algorithm, per-sequence and
 * per-token advantages, float32/float16/bfloat16 logits, temperature ≠ 1, fully masked sequences,
 * extreme logits (±1e4, −∞), in place (the half-precision gradient is the float32 one rounded,
 * bit for bit), DeviceArray inputs and outputs (bit-identical to host inputs), options.gradLogits
 * as a DeviceArray, repeated calls bit-identical, the CPU's validation errors, and V = 151936 (the
 * vectorised multi-chunk path, and a scalar path with an odd vocabulary). Skipped, with the reason
 * printed, where no GPU can be used.
 */
import { describe, expect, it } from 'vitest';
import {
  DeviceArray,
  logitsPolicyLoss,
  type LogitsPolicyLossInputs,
  type LogitsPolicyLossResult,
  type PolicyAlgorithm,
  type PolicyLossConfig,
} from '../../lib/index.js';
import { expectAllClose, expectBitEqual, expectClose, expectRejectsNamed } from '../helpers/assert.js';
import { cudaAvailable, reportCudaSkip } from '../helpers/cuda.js';
import { decodeHalf, encodeHalf, type HalfDtype } from '../helpers/half.js';
import { expectMatchesOracle, makeLogitsCase, maxAbs, oracle, type LogitsCase } from '../helpers/logits.js';
import { selectiveLogSoftmaxRef } from '../oracle/index.js';

reportCudaSkip('test/cuda/logits-policy-loss.test.ts');

const ALGOS: PolicyAlgorithm[] = ['grpo', 'bnpo', 'dr_grpo', 'dapo', 'gspo', 'sapo'];
const METRICS = ['loss', 'clipFractionLow', 'clipFractionHigh', 'kl', 'ratioMean'] as const;
const CPU_LOGP_TOL = { abs: 1e-6, rel: 1e-6 };
// The loss and metrics: CUDA and the CPU round ℓ to float32 from float64 sums taken in different
// orders with different float32 exps, so an ℓ can differ by an ulp (5e-7–1e-6 at |ℓ| ≈ 4–16), which
// moves a metric averaged over ~10 tokens by a few 1e-8.
const CPU_SCALAR_TOL = { abs: 1e-7, rel: 1e-5 };

type HostResult = LogitsPolicyLossResult<'host'>;

const copyInputs = (inputs: LogitsPolicyLossInputs): LogitsPolicyLossInputs => ({ ...inputs, logits: inputs.logits.slice() });

/** CUDA vs the CPU kernel on the same inputs. */
function expectMatchesCpu(got: HostResult, cpu: HostResult, label: string): void {
  for (const k of METRICS) {
    if (k === 'clipFractionLow' || k === 'clipFractionHigh') expect(got[k], `${label} ${k}`).toBe(cpu[k]);
    else expectClose(got[k], cpu[k], CPU_SCALAR_TOL, `${label} ${k} vs CPU`);
  }
  expectAllClose(got.logp, cpu.logp, CPU_LOGP_TOL, `${label} logp vs CPU`);
  const G = maxAbs(cpu.gradLogits);
  expectAllClose(got.gradLogits, cpu.gradLogits, { abs: 1e-7 * G + 1e-30, rel: 1e-5 }, `${label} gradLogits vs CPU`);
}

function expectSameResult(a: HostResult, b: HostResult, label: string): void {
  for (const k of METRICS) expect(Object.is(a[k], b[k]), `${label} ${k}: ${a[k]} vs ${b[k]}`).toBe(true);
  expectBitEqual(a.logp, b.logp, `${label} logp`);
  expectBitEqual(a.gradLogits, b.gradLogits, `${label} gradLogits`);
}

async function run(c: LogitsCase, config: PolicyLossConfig, device: 'cpu' | 'cuda'): Promise<HostResult> {
  return (await logitsPolicyLoss(c.inputs, config, { device })) as HostResult;
}

/** The inputs with every array uploaded (logits with their dtype). */
function upload(inputs: LogitsPolicyLossInputs) {
  const logits =
    inputs.logits instanceof Float32Array
      ? DeviceArray.upload(inputs.logits)
      : DeviceArray.upload(inputs.logits, { dtype: (inputs.dtype ?? 'bfloat16') as HalfDtype });
  const up = (a?: Float32Array) => (a ? DeviceArray.upload(a) : undefined);
  const arrays = {
    logits,
    targets: DeviceArray.upload(inputs.targets),
    oldLogp: up(inputs.oldLogp),
    refLogp: up(inputs.refLogp),
    advantages: DeviceArray.upload(inputs.advantages),
    mask: DeviceArray.upload(inputs.mask),
  };
  const { dtype: _dtype, ...rest } = inputs;
  return {
    inputs: { ...rest, ...arrays },
    dispose: () => Object.values(arrays).forEach((a) => a?.dispose()),
  };
}

describe.skipIf(!cudaAvailable)('logitsPolicyLoss on CUDA: every algorithm vs the float64 oracle and the CPU kernel', () => {
  for (const [ai, algorithm] of ALGOS.entries()) {
    for (const perTokenAdvantages of [false, true]) {
      for (const dtype of ['float32', 'float16', 'bfloat16'] as const) {
        it(`${algorithm}, ${perTokenAdvantages ? 'per-token' : 'per-sequence'} A, ${dtype} logits`, async () => {
          const config: PolicyLossConfig = { algorithm };
          // vocab 2504 (a multiple of 8: 16-byte vectors), temperature 0.7 on half the cases,
          // sequence 2 fully masked.
          const c = makeLogitsCase(7000 + 20 * ai + (perTokenAdvantages ? 1 : 0) + (dtype === 'float32' ? 0 : dtype === 'float16' ? 3 : 6), {
            batch: 4,
            steps: 5,
            vocab: 2504,
            dtype,
            temperature: ai % 2 === 0 ? 0.7 : undefined,
            perTokenAdvantages,
            maskedRows: [2],
          }, config);
          const got = await run(c, config, 'cuda');
          expectMatchesOracle(got, oracle(c, config), `${algorithm} ${dtype}`);
          expectMatchesCpu(got, await run(c, config, 'cpu'), `${algorithm} ${dtype}`);
          for (let i = 0; i < c.inputs.mask.length; i++) {
            if (c.inputs.mask[i]) continue;
            expect(got.logp[i], `logp[${i}] masked`).toBe(0);
            for (let v = 0; v < c.inputs.vocab; v++) if (got.gradLogits[i * c.inputs.vocab + v] !== 0) expect.fail(`gradLogits row ${i} masked but not 0`);
          }
          expectSameResult(await run(c, config, 'cuda'), got, 'repeat');

          // In place: the float32 gradient itself, or rounded to the logits' half type bit for bit.
          const inputs = copyInputs(c.inputs);
          const inPlace = (await logitsPolicyLoss(inputs, config, { device: 'cuda', inPlace: true })) as HostResult;
          expect(inPlace.gradLogits).toBe(inputs.logits);
          if (dtype === 'float32') expectBitEqual(inPlace.gradLogits, got.gradLogits, 'in place');
          else expectBitEqual(inPlace.gradLogits, encodeHalf(Float64Array.from(got.gradLogits), dtype), 'in place (rounded)');

          // DeviceArrays in, DeviceArrays out: the same bits.
          const dev = upload(c.inputs);
          const out = await logitsPolicyLoss(dev.inputs, config);
          expect(out.logp).toBeInstanceOf(DeviceArray);
          expect(out.gradLogits).toBeInstanceOf(DeviceArray);
          const fetched: HostResult = { ...out, logp: await out.logp.download(), gradLogits: (await out.gradLogits.download()) as Float32Array };
          expectSameResult(fetched, got, 'DeviceArray inputs');
          out.logp.dispose();
          out.gradLogits.dispose();
          dev.dispose();
        });
      }
    }
  }
});

describe.skipIf(!cudaAvailable)('logitsPolicyLoss on CUDA: placement, in place on the device, extreme values, large vocabularies', () => {
  it('a DeviceArray the gradient is written into is not shared with another call in flight (their streams are unordered)', async () => {
    const config: PolicyLossConfig = { algorithm: 'grpo' };
    const c = makeLogitsCase(7450, { batch: 2, steps: 3, vocab: 512 }, config);
    const dev = upload(c.inputs);
    const logits = dev.inputs.logits;
    // Writing over logits that another call in flight reads: refused, and the reader is unaffected.
    const reading = logitsPolicyLoss(dev.inputs, config);
    await expectRejectsNamed(() => logitsPolicyLoss(dev.inputs, config, { inPlace: true }), Error, /inputs\.logits is used by 1 call still in flight.*await them first/);
    const read = await reading;
    // Using, or downloading, logits that a call in flight writes: refused until it ends.
    const writing = logitsPolicyLoss(dev.inputs, config, { inPlace: true });
    await expectRejectsNamed(() => logitsPolicyLoss(dev.inputs, config), Error, /inputs\.logits is a DeviceArray that a call still in flight is writing/);
    await expectRejectsNamed(() => logits.download(), Error, /a call still in flight is writing this array/);
    const written = await writing;
    // After it: usable again, and holding the same gradient as the reading call computed.
    const gradient = (await logits.download()) as Float32Array;
    expectBitEqual(gradient, (await (read.gradLogits as DeviceArray).download()) as Float32Array, 'in place vs a separate gradient');
    for (const r of [read, written]) r.logp.dispose();
    (read.gradLogits as DeviceArray).dispose();
    dev.dispose();
  });

  it('in place over a DeviceArray writes into it; options.gradLogits as a DeviceArray or a host array', async () => {
    const config: PolicyLossConfig = { algorithm: 'dapo' };
    const c = makeLogitsCase(7500, { batch: 3, steps: 4, vocab: 640, dtype: 'bfloat16' }, config);
    const host = await run(c, config, 'cuda');
    const dev = upload(c.inputs);
    const res = await logitsPolicyLoss(dev.inputs, config, { inPlace: true });
    expect(res.gradLogits).toBe(dev.inputs.logits);
    expectBitEqual((await dev.inputs.logits.download()) as Uint16Array, encodeHalf(Float64Array.from(host.gradLogits), 'bfloat16'), 'in place on the device');
    res.logp.dispose();
    dev.dispose();

    const target = DeviceArray.upload(new Float32Array(c.inputs.logits.length));
    const given = await logitsPolicyLoss(c.inputs, config, { gradLogits: target });
    expect(given.gradLogits).toBe(target);
    expectBitEqual(await target.download(), host.gradLogits, 'into a DeviceArray');
    target.dispose();
    (given.logp as unknown as DeviceArray).dispose?.();

    const buffer = new Float32Array(c.inputs.logits.length);
    const intoHost = (await logitsPolicyLoss(c.inputs, config, { device: 'cuda', gradLogits: buffer })) as HostResult;
    expect(intoHost.gradLogits).toBe(buffer);
    expectBitEqual(buffer, host.gradLogits, 'into a host array');
  });

  it('extreme logits (±1e4, −Infinity) and temperatures 0.05 and 3: oracle and CPU', async () => {
    for (const temperature of [0.05, 3]) {
      const config: PolicyLossConfig = { algorithm: 'grpo', beta: 0.04 };
      const c = makeLogitsCase(7600, { batch: 2, steps: 3, vocab: 1000, temperature, ref: true }, config, 0);
      const logits = c.inputs.logits as Float32Array;
      for (let i = 0; i < 6; i++) {
        const t = c.inputs.targets[i]!;
        const row = i * 1000;
        logits[row + ((t + 1) % 1000)] = i % 2 === 0 ? 1e4 : -1e4;
        logits[row + ((t + 2) % 1000)] = -Infinity;
        logits[row + ((t + 3) % 1000)] = -1e4;
      }
      const values = Float64Array.from(logits);
      // ℓ_old and ℓ_ref from the edited logits (as the CPU test does): taken from the unedited ones,
      // ℓ_ref − ℓ would be ~1e4/T and the KL term's exp would overflow on both devices alike.
      const { logp } = selectiveLogSoftmaxRef({ ...c.inputs, logits: values, temperature });
      const inputs = { ...c.inputs, oldLogp: Float32Array.from(logp, (l) => l - 0.05), refLogp: Float32Array.from(logp, (l) => l + 0.3) };
      const cc: LogitsCase = { inputs, values };
      const got = await run(cc, config, 'cuda');
      const cpu = await run(cc, config, 'cpu');
      expectMatchesCpu(got, cpu, `T = ${temperature}`);
      const ref = oracle(cc, config);
      expectAllClose(got.logp, ref.logp, { abs: 1e-4, rel: 1e-5 }, `T = ${temperature} logp vs oracle`);
      for (const g of got.gradLogits) expect(Number.isFinite(g)).toBe(true);
    }
  });

  it('every token masked: loss and metrics 0, gradient 0, no logit read', async () => {
    const c = makeLogitsCase(7700, { batch: 2, steps: 3, vocab: 64 }, { algorithm: 'grpo' });
    const inputs = { ...c.inputs, mask: new Uint8Array(6), logits: new Float32Array(6 * 64).fill(NaN) };
    const got = (await logitsPolicyLoss(inputs, { algorithm: 'grpo' }, { device: 'cuda' })) as HostResult;
    for (const k of METRICS) expect(got[k]).toBe(0);
    expect(got.logp.every((x) => x === 0)).toBe(true);
    expect(got.gradLogits.every((x) => x === 0)).toBe(true);
  });

  it('V = 151936 (vectorised, many chunks per thread), V = 151935 and 1001 (scalar paths, float32 and bfloat16): oracle and CPU', async () => {
    for (const [vocab, dtype] of [[151936, 'bfloat16'], [151935, 'float32'], [1001, 'bfloat16']] as const) {
      const config: PolicyLossConfig = { algorithm: 'grpo' };
      const c = makeLogitsCase(7800, { batch: 2, steps: 2, vocab, dtype, ref: true }, config);
      const got = await run(c, config, 'cuda');
      expectMatchesOracle(got, oracle(c, config), `V = ${vocab}`);
      expectMatchesCpu(got, await run(c, config, 'cpu'), `V = ${vocab}`);
    }
  });

  // Host arrays are staged into fresh (aligned) device buffers, so this checks the binding's handling
  // of a view's offset, not the kernels' scalar path (which the odd vocabularies above reach).
  it('logits given as a subarray at an odd element offset: the same results as an aligned array', async () => {
    const config: PolicyLossConfig = { algorithm: 'bnpo' };
    const c = makeLogitsCase(7900, { batch: 2, steps: 3, vocab: 256 }, config);
    const shifted = new Float32Array(c.inputs.logits.length + 1).subarray(1);
    shifted.set(c.inputs.logits as Float32Array);
    const aligned = await run(c, config, 'cuda');
    const got = (await logitsPolicyLoss({ ...c.inputs, logits: shifted }, config, { device: 'cuda' })) as HostResult;
    expectMatchesCpu(got, aligned, 'misaligned');
  });
});

describe.skipIf(!cudaAvailable)('logitsPolicyLoss on CUDA: validation errors are the CPU kernel\'s', () => {
  const V = 50;
  const base = () => {
    const c = makeLogitsCase(8000, { batch: 2, steps: 3, vocab: V }, { algorithm: 'grpo' });
    return { ...c.inputs, mask: new Uint8Array([1, 1, 1, 1, 1, 1]) };
  };
  const withLogit = (at: Record<number, number>) => {
    const b = base();
    const logits = (b.logits as Float32Array).slice();
    for (const [i, v] of Object.entries(at)) logits[Number(i)] = v;
    return { ...b, logits };
  };
  const targetAt = (b: ReturnType<typeof base>, row: number) => row * V + b.targets[row]!;
  const cases: [string, () => LogitsPolicyLossInputs][] = [
    ['a target out of range', () => ({ ...base(), targets: Int32Array.from([1, 2, 3, 50, 5, 6]) })],
    ['mask value 2 before a bad target', () => ({ ...base(), mask: Uint8Array.from([1, 2, 1, 1, 1, 1]), targets: Int32Array.from([-1, 2, 3, 4, 5, 6]) })],
    ['NaN in a later row and +Infinity in an earlier one', () => withLogit({ [4 * V + 17]: NaN, [V + 9]: Infinity })],
    ['a row -Infinity throughout', () => withLogit(Object.fromEntries(Array.from({ length: V }, (_, v) => [5 * V + v, -Infinity])))],
    ['-Infinity at a target', () => { const b = base(); return withLogit({ [targetAt(b, 3)]: -Infinity }); }],
    ['NaN oldLogp', () => { const b = base(); const old = b.oldLogp!.slice(); old[4] = NaN; return { ...b, oldLogp: old }; }],
    ['NaN per-token advantage', () => ({ ...base(), advantages: Float32Array.from([1, 1, NaN, 1, 1, 1]) })],
  ];
  for (const [what, make] of cases) {
    it(`${what}: same error, logits untouched in place, host and DeviceArray`, async () => {
      let cpuError: Error | undefined;
      try {
        await logitsPolicyLoss(make(), { algorithm: 'grpo' }, { device: 'cpu' });
      } catch (e) {
        cpuError = e as Error;
      }
      expect(cpuError, 'the CPU rejects it').toBeInstanceOf(RangeError);
      const message = new RegExp(cpuError!.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      await expectRejectsNamed(() => logitsPolicyLoss(make(), { algorithm: 'grpo' }, { device: 'cuda' }), RangeError, message);
      const inputs = make();
      const before = inputs.logits.slice();
      await expectRejectsNamed(() => logitsPolicyLoss(inputs, { algorithm: 'grpo' }, { device: 'cuda', inPlace: true }), RangeError, message);
      expectBitEqual(inputs.logits, before, 'logits after a failed in-place call');
      const dev = upload(make());
      await expectRejectsNamed(() => logitsPolicyLoss(dev.inputs, { algorithm: 'grpo' }, { inPlace: true }), RangeError, message);
      expectBitEqual((await dev.inputs.logits.download()) as Float32Array, before, 'DeviceArray logits after a failed in-place call');
      dev.dispose();
    });
  }

  it('half-precision NaN: the decoded value is reported', async () => {
    const b = base();
    const half = encodeHalf(Float64Array.from(b.logits as Float32Array), 'float16');
    half[7] = 0x7e00;
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, logits: half, dtype: 'float16' }, { algorithm: 'grpo' }, { device: 'cuda' }), RangeError, /logits\[7\] must be a finite number or -Infinity \(got NaN\)/);
    expect(decodeHalf(half, 'float16')[7]).toBeNaN();
  });
});
