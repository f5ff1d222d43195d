/**
 * logitsPolicyLoss against the float64 oracle (test/oracle/logits-policy-loss.ts: log-softmax →
 * gather → the policy-loss oracle → chain rule to the logits), against central finite differences
 * of the oracle's loss with respect to the logits, and against LibTorch (the ATen composite
 * log_softmax → gather → reference loss → autograd, and the runner's autograd node), for every
 * algorithm and reduction.
 *
 * Tolerances (the kernel exponentiates in float32 and sums in float64; outputs are float32):
 * - loss, kl, ratioMean: abs 1e-6 + rel 1e-5 (as policyLoss); clip fractions: abs 1e-9;
 * - logp: abs 2e-6 + rel 1e-6;
 * - gradLogits (float32): abs 1e-6·G + rel 1e-4, with G the largest |∂loss/∂logit| of the case;
 * - vs finite differences (h = 1e-6 on the float64 oracle): abs 1e-6·G + rel 1e-4 as well;
 * - half-precision inputs: the same (the oracle reads the same decoded values); a gradient written
 *   in place in float16/bfloat16 must equal the float32 gradient rounded to that type, bit for bit,
 *   and so lies within 2^-11 (float16, plus 2^-25 absolute for subnormals) or 2^-8 (bfloat16)
 *   relative of it;
 * - vs LibTorch's float32 composite: loss abs 1e-6 + rel 1e-5, logp abs 1e-5, gradLogits
 *   abs 1e-5·G + rel 1e-3 (its log_softmax runs in float32 with float32 rounding of its own).
 * Random cases keep every importance ratio at least 1e-4 from a kink of the clip.
 */
import { describe, expect, it } from 'vitest';
import {
  capabilities,
  logitsPolicyLoss,
  policyLoss,
  type LogitsPolicyLossInputs,
  type LogitsPolicyLossResult,
  type PolicyAlgorithm,
  type PolicyLossConfig,
} from '../lib/index.js';
import { runnerAddon } from '../lib/runner.js';
import {
  logitsPolicyLossFiniteDiff,
  logitsPolicyLossRef,
  selectiveLogSoftmaxRef,
  type PolicyLossConfigRef,
} from './oracle/index.js';
import { Rng } from './helpers/prng.js';
import { expectAllClose, expectBitEqual, expectClose, expectRejectsNamed } from './helpers/assert.js';
import { decodeHalf, encodeHalf } from './helpers/half.js';
import { expectMatchesOracle, gradTol, LOGP_TOL, LOSS_TOL, makeLogitsCase, maxAbs, oracle } from './helpers/logits.js';

const ALGOS: PolicyAlgorithm[] = ['grpo', 'bnpo', 'dr_grpo', 'dapo', 'gspo', 'sapo'];
const zero = (x: number) => x === 0;

describe('logitsPolicyLoss: every algorithm × advantages layout × (oldLogp, refLogp) vs the float64 oracle', () => {
  const combos = [
    { old: true, ref: true },
    { old: false, ref: true },
    { old: true, ref: false },
  ];
  for (const [ai, algorithm] of ALGOS.entries()) {
    for (const perTokenAdvantages of [false, true]) {
      for (const [ci, { old, ref }] of combos.entries()) {
        const name = `${algorithm}, ${perTokenAdvantages ? 'per-token' : 'per-sequence'} A, oldLogp ${old ? 'given' : 'default'}, refLogp ${ref ? 'given' : 'none'}`;
        it(name, async () => {
          const config: PolicyLossConfig = { algorithm };
          // vocab 2500: three blocks of the online log-sum-exp, the last one partial.
          const c = makeLogitsCase(
            100 + 10 * ai + 3 * ci + (perTokenAdvantages ? 1 : 0),
            {
              batch: 4,
              steps: 5,
              vocab: 2500,
              temperature: ci === 1 ? 0.7 : undefined,
              perTokenAdvantages,
              old,
              ref,
              maskedRows: [2],
              logRatio: algorithm === 'gspo' ? (rng, b) => (b === 0 ? 1e-4 : b === 1 ? -1.5e-4 : 0.3 * rng.normal()) : undefined,
            },
            config,
            algorithm === 'gspo' ? 5e-5 : 1e-4,
          );
          const got = await logitsPolicyLoss(c.inputs, config);
          expectMatchesOracle(got, oracle(c, config), name);
          for (let i = 0; i < c.inputs.mask.length; i++) {
            if (c.inputs.mask[i]) continue;
            expect(got.logp[i], `logp[${i}] masked`).toBe(0);
            const row = got.gradLogits.subarray(i * 2500, (i + 1) * 2500);
            expect(row.every(zero), `gradient row ${i} (masked) is zero`).toBe(true);
          }
        });
      }
    }
  }

  it('with δ, custom eps, sequence-level importance for the PPO family, sapo temperatures, dr_grpo maxCompletionLength', async () => {
    const configs: PolicyLossConfig[] = [
      { algorithm: 'grpo', delta: 1.3, epsLow: 0.1, epsHigh: 0.1 },
      { algorithm: 'dapo', importanceLevel: 'sequence' },
      { algorithm: 'bnpo', importanceLevel: 'sequence', beta: 0.1 },
      { algorithm: 'dr_grpo', maxCompletionLength: 20 },
      { algorithm: 'sapo', tauPos: 2, tauNeg: 0.5 },
    ];
    for (const [k, config] of configs.entries()) {
      const c = makeLogitsCase(200 + k, { batch: 3, steps: 6, vocab: 1100, perTokenAdvantages: k % 2 === 0, temperature: 1.3 }, config);
      expectMatchesOracle(await logitsPolicyLoss(c.inputs, config), oracle(c, config), JSON.stringify(config));
    }
  });

  it('loss and metrics equal policyLoss on the log-probs it returns (bit for bit), for every algorithm', async () => {
    for (const [k, algorithm] of ALGOS.entries()) {
      const c = makeLogitsCase(300 + k, { batch: 3, steps: 4, vocab: 300, perTokenAdvantages: true }, { algorithm });
      const got = await logitsPolicyLoss(c.inputs, { algorithm });
      const direct = policyLoss({ ...c.inputs, logp: got.logp }, { algorithm });
      expect([got.loss, got.kl, got.ratioMean, got.clipFractionLow, got.clipFractionHigh], algorithm).toEqual([
        direct.loss,
        direct.kl,
        direct.ratioMean,
        direct.clipFractionLow,
        direct.clipFractionHigh,
      ]);
    }
  });

  it('a Qwen-sized vocabulary (151,936 entries), float32 and bfloat16, temperature 0.9', async () => {
    for (const dtype of ['float32', 'bfloat16'] as const) {
      const config: PolicyLossConfig = { algorithm: 'grpo' };
      const c = makeLogitsCase(400, { batch: 1, steps: 3, vocab: 151_936, dtype, temperature: 0.9 }, config);
      expectMatchesOracle(await logitsPolicyLoss(c.inputs, config), oracle(c, config), dtype);
    }
  });
});

describe('logitsPolicyLoss: gradient vs central finite differences of the float64 oracle (h = 1e-6)', () => {
  for (const [ai, algorithm] of ALGOS.entries()) {
    it(`${algorithm}, temperature 0.8`, async () => {
      const config: PolicyLossConfig = { algorithm, beta: 0.1 };
      const c = makeLogitsCase(
        500 + ai,
        {
          batch: 3,
          steps: 3,
          vocab: 7,
          temperature: 0.8,
          perTokenAdvantages: ai % 2 === 1,
          maskedRows: [1],
          logRatio: algorithm === 'gspo' ? (rng, b) => (b === 0 ? 1e-4 : 0.3 * rng.normal()) : undefined,
        },
        config,
        algorithm === 'gspo' ? 5e-5 : 1e-4,
      );
      const got = await logitsPolicyLoss(c.inputs, config);
      const fd = logitsPolicyLossFiniteDiff({ ...c.inputs, logits: c.values }, config as PolicyLossConfigRef);
      expectAllClose(got.gradLogits, fd, gradTol(fd), 'gradLogits vs FD');
      expect(maxAbs(fd)).toBeGreaterThan(1e-3);
    });
  }
});

describe('logitsPolicyLoss: extreme and degenerate logits', () => {
  it('±1e4 and −Infinity entries, temperatures 0.5 and 2: finite results matching the oracle; −Infinity entries get exactly 0', async () => {
    for (const temperature of [0.5, 2]) {
      const rng = new Rng(600);
      const B = 2;
      const T = 6;
      const V = 1500;
      const logits = new Float32Array(B * T * V);
      const targets = new Int32Array(B * T);
      for (let i = 0; i < B * T; i++) {
        for (let v = 0; v < V; v++) {
          const u = rng.uniform();
          logits[i * V + v] = u < 0.1 ? -1e4 : u < 0.2 ? -Infinity : 3 * rng.normal();
        }
        // Three kinds of row: one +1e4 entry, the target (ℓ ≈ 0); two, the target one of them
        // (ℓ ≈ −ln 2); none, the target an ordinary entry.
        const peak = rng.int(0, V - 1);
        if (i % 3 !== 2) logits[i * V + peak] = 1e4;
        if (i % 3 === 1) logits[i * V + ((peak + 7) % V)] = 1e4;
        targets[i] = peak;
        if (i % 3 === 2) logits[i * V + peak] = 2;
      }
      const mask = new Uint8Array(B * T).fill(1);
      const base = { logits: Float64Array.from(logits), targets, mask, batch: B, steps: T, vocab: V, temperature };
      const refLogp = Float32Array.from(selectiveLogSoftmaxRef(base).logp, (l) => l + 0.3);
      const inputs: LogitsPolicyLossInputs = { ...base, logits, refLogp, advantages: Float32Array.from([1, -0.5]) };
      const got = await logitsPolicyLoss(inputs, { algorithm: 'grpo' });
      const ref = logitsPolicyLossRef({ ...inputs, logits: base.logits }, { algorithm: 'grpo' });
      expect(Number.isFinite(got.loss)).toBe(true);
      expect(Array.from(got.gradLogits).every(Number.isFinite)).toBe(true);
      expectClose(got.loss, ref.loss, LOSS_TOL, 'loss');
      expectAllClose(got.logp, ref.logp, LOGP_TOL, 'logp');
      expectAllClose(got.gradLogits, ref.gradLogits, gradTol(ref.gradLogits), `gradLogits at T=${temperature}`);
      let infinite = 0;
      for (let k = 0; k < logits.length; k++) {
        if (logits[k] !== -Infinity) continue;
        infinite++;
        expect(zero(got.gradLogits[k]!), `grad[${k}] at −∞`).toBe(true);
      }
      expect(infinite).toBeGreaterThan(1000);
    }
  });

  it('a likely target (softmax ≈ 1): its gradient g·(1 − p)/T keeps full precision', async () => {
    const V = 50;
    const logits = new Float32Array(V).fill(-20);
    logits[3] = 0; // p_target = 1 / (1 + 49·e^-20) ≈ 1 − 1e-7
    const inputs: LogitsPolicyLossInputs = { logits, targets: Int32Array.from([3]), advantages: Float32Array.from([1]), mask: Uint8Array.from([1]), batch: 1, steps: 1, vocab: V };
    const got = await logitsPolicyLoss(inputs, { algorithm: 'grpo', beta: 0 });
    const ref = logitsPolicyLossRef({ ...inputs, logits: Float64Array.from(logits) }, { algorithm: 'grpo', beta: 0 });
    expect(ref.gradLogits[3]).toBeLessThan(-5e-8);
    expectClose(got.gradLogits[3]!, ref.gradLogits[3]!, { abs: 0, rel: 1e-5 }, 'target entry');
  });

  it('fully masked rows: never read (NaN logits, out-of-range targets accepted), logp 0, zero gradient, for every algorithm', async () => {
    for (const [k, algorithm] of ALGOS.entries()) {
      const config: PolicyLossConfig = { algorithm };
      const c = makeLogitsCase(700 + k, { batch: 4, steps: 3, vocab: 64, maskedRows: [0, 3] }, config);
      const clean = await logitsPolicyLoss(c.inputs, config);
      const dirtyLogits = (c.inputs.logits as Float32Array).slice();
      const dirtyTargets = c.inputs.targets.slice();
      for (let i = 0; i < 12; i++) {
        if (c.inputs.mask[i]) continue;
        dirtyLogits.fill(NaN, i * 64, (i + 1) * 64);
        dirtyTargets[i] = -5;
      }
      const dirty = await logitsPolicyLoss({ ...c.inputs, logits: dirtyLogits, targets: dirtyTargets }, config);
      expect(dirty.loss, algorithm).toBe(clean.loss);
      expectBitEqual(dirty.gradLogits, clean.gradLogits, `${algorithm} gradient`);
      expectBitEqual(dirty.logp, clean.logp, `${algorithm} logp`);
      for (const b of [0, 3]) {
        for (let t = 0; t < 3; t++) expect(dirty.logp[b * 3 + t]).toBe(0);
        expect(dirty.gradLogits.subarray(b * 192, (b + 1) * 192).every(zero)).toBe(true);
      }
      expectMatchesOracle(dirty, oracle(c, config), algorithm);
    }
  });

  it('everything masked: loss and metrics 0, gradient 0 (also in place over NaN logits)', async () => {
    const logits = new Float32Array(2 * 3 * 5).fill(NaN);
    const inputs: LogitsPolicyLossInputs = { logits, targets: new Int32Array(6), advantages: new Float32Array(2), mask: new Uint8Array(6), batch: 2, steps: 3, vocab: 5 };
    const r = await logitsPolicyLoss(inputs, { algorithm: 'grpo' }, { inPlace: true });
    expect([r.loss, r.kl, r.ratioMean, r.clipFractionLow, r.clipFractionHigh].every(zero)).toBe(true);
    expect(r.gradLogits).toBe(logits);
    expect(logits.every(zero)).toBe(true);
  });

  it('batch = 0 gives loss 0 and empty outputs', async () => {
    const r = await logitsPolicyLoss(
      { logits: new Float32Array(0), targets: new Int32Array(0), advantages: new Float32Array(0), mask: new Uint8Array(0), batch: 0, steps: 4, vocab: 10 },
      { algorithm: 'dapo' },
    );
    expect(zero(r.loss)).toBe(true);
    expect(r.logp.length).toBe(0);
    expect(r.gradLogits.length).toBe(0);
  });
});

describe('logitsPolicyLoss: float16 and bfloat16 logits, in place', () => {
  for (const dtype of ['float16', 'bfloat16'] as const) {
    it(`${dtype}: float32 gradient matches the oracle on the decoded logits; in place gives it rounded to ${dtype}, bit for bit`, async () => {
      for (const [k, algorithm] of (['grpo', 'gspo', 'sapo', 'dapo'] as const).entries()) {
        const config: PolicyLossConfig = { algorithm };
        const c = makeLogitsCase(800 + k, { batch: 3, steps: 4, vocab: 1300, dtype, temperature: 0.9, perTokenAdvantages: algorithm === 'dapo', maskedRows: [1] }, config);
        const separate = await logitsPolicyLoss(c.inputs, config);
        const ref = oracle(c, config);
        expectMatchesOracle(separate, ref, `${dtype} ${algorithm}`);
        const bits = (c.inputs.logits as Uint16Array).slice();
        const inPlace = await logitsPolicyLoss({ ...c.inputs, logits: bits }, config, { inPlace: true });
        expect(inPlace.gradLogits).toBe(bits);
        expect(inPlace.loss).toBe(separate.loss);
        expectBitEqual(inPlace.logp, separate.logp, 'logp');
        expectBitEqual(bits, encodeHalf(separate.gradLogits, dtype), `${dtype} in-place gradient = rounded float32 gradient`);
        const tol = dtype === 'float16' ? { abs: 2 ** -25, rel: 2 ** -11 } : { abs: 1e-40, rel: 2 ** -8 };
        expectAllClose(decodeHalf(bits, dtype), separate.gradLogits, tol, `${dtype} in place vs float32`);
      }
    });
  }

  it('float32 in place equals out of place bit for bit, and leaves no trace of the logits', async () => {
    for (const algorithm of ['grpo', 'gspo'] as const) {
      const c = makeLogitsCase(900, { batch: 3, steps: 5, vocab: 2100, temperature: 1.2 }, { algorithm });
      const separate = await logitsPolicyLoss(c.inputs, { algorithm });
      const buffer = (c.inputs.logits as Float32Array).slice();
      const inPlace = await logitsPolicyLoss({ ...c.inputs, logits: buffer }, { algorithm }, { inPlace: true });
      expect(inPlace.gradLogits).toBe(buffer);
      expectBitEqual(buffer, separate.gradLogits as Float32Array, `${algorithm} in place vs out of place`);
      expect(inPlace.loss).toBe(separate.loss);
      expect(c.inputs.logits).not.toBe(buffer);
    }
  });
});

describe('logitsPolicyLoss: concurrent calls', () => {
  it('calls in flight together (libuv workers sharing the thread pool) give the results of calls made one at a time, bit for bit', async () => {
    const c = makeLogitsCase(960, { batch: 4, steps: 8, vocab: 3000, temperature: 0.9 }, { algorithm: 'grpo' });
    const algorithms = ['grpo', 'dapo', 'gspo', 'sapo', 'grpo', 'bnpo'] as const;
    const sequential: LogitsPolicyLossResult[] = [];
    for (const algorithm of algorithms) sequential.push(await logitsPolicyLoss(c.inputs, { algorithm }));
    const together = await Promise.all(algorithms.map((algorithm) => logitsPolicyLoss(c.inputs, { algorithm })));
    together.forEach((r, k) => {
      expect(r.loss, algorithms[k]).toBe(sequential[k]!.loss);
      expectBitEqual(r.gradLogits, sequential[k]!.gradLogits, `${algorithms[k]} gradient`);
      expectBitEqual(r.logp, sequential[k]!.logp, `${algorithms[k]} logp`);
    });
  });
});

describe('logitsPolicyLoss: options.gradLogits (a caller-provided float32 output)', () => {
  it('receives exactly the gradient a fresh array would, for float32 and bfloat16 logits, and is returned', async () => {
    for (const dtype of ['float32', 'bfloat16'] as const) {
      const c = makeLogitsCase(950, { batch: 2, steps: 3, vocab: 1200, dtype }, { algorithm: 'dapo' });
      const fresh = await logitsPolicyLoss(c.inputs, { algorithm: 'dapo' });
      const out = new Float32Array(2 * 3 * 1200).fill(NaN);
      const given = await logitsPolicyLoss(c.inputs, { algorithm: 'dapo' }, { gradLogits: out });
      expect(given.gradLogits).toBe(out);
      expectBitEqual(out, fresh.gradLogits as Float32Array, dtype);
      // A Float32Array right after the bfloat16 logits in one ArrayBuffer does not overlap them.
      if (dtype === 'bfloat16') {
        const buffer = new ArrayBuffer(7200 * 2 + 7200 * 4);
        const logits = new Uint16Array(buffer, 0, 7200);
        logits.set(c.inputs.logits as Uint16Array);
        const after = new Float32Array(buffer, 7200 * 2, 7200);
        await logitsPolicyLoss({ ...c.inputs, logits }, { algorithm: 'dapo' }, { gradLogits: after });
        expectBitEqual(after, fresh.gradLogits as Float32Array, 'adjacent output');
      }
    }
  });

  it('wrong type or length, overlap with the logits, or together with inPlace: rejected, nothing written', async () => {
    const c = makeLogitsCase(951, { batch: 2, steps: 2, vocab: 10, dtype: 'float16' }, { algorithm: 'grpo' });
    const grpo: PolicyLossConfig = { algorithm: 'grpo' };
    await expectRejectsNamed(() => logitsPolicyLoss(c.inputs, grpo, { gradLogits: new Float64Array(40) as unknown as Float32Array }), TypeError, /options\.gradLogits must be a Float32Array/);
    await expectRejectsNamed(() => logitsPolicyLoss(c.inputs, grpo, { gradLogits: new Float32Array(39) }), RangeError, /options\.gradLogits has 39 elements but inputs\.batch × inputs\.steps × inputs\.vocab requires 40/);
    await expectRejectsNamed(() => logitsPolicyLoss(c.inputs, grpo, { gradLogits: new Float32Array(40), inPlace: true }), RangeError, /options\.gradLogits cannot be combined with options\.inPlace/);
    const buffer = new ArrayBuffer(40 * 2 + 40 * 4);
    const logits = new Uint16Array(buffer, 40, 40);
    logits.set(c.inputs.logits as Uint16Array);
    const before = logits.slice();
    const overlapping = new Float32Array(buffer, 0, 40);
    await expectRejectsNamed(() => logitsPolicyLoss({ ...c.inputs, logits }, grpo, { gradLogits: overlapping }), RangeError, /options\.gradLogits overlaps inputs\.logits/);
    expectBitEqual(logits, before, 'logits after the rejected call');
    const f32 = Float32Array.from(decodeHalf(c.inputs.logits as Uint16Array, 'float16'));
    await expectRejectsNamed(() => logitsPolicyLoss({ ...c.inputs, logits: f32, dtype: undefined }, grpo, { gradLogits: f32 }), RangeError, /overlaps inputs\.logits/);
  });
});

describe('logitsPolicyLoss: bad input is rejected with the argument named (never a crash)', () => {
  const V = 50;
  const base = (): LogitsPolicyLossInputs => {
    const rng = new Rng(1000);
    return {
      logits: rng.f32(2 * 3 * V, () => rng.normal()),
      targets: Int32Array.from([1, 2, 3, 4, 5, 6]),
      advantages: Float32Array.from([1, -1]),
      mask: Uint8Array.from([1, 1, 0, 1, 1, 1]),
      batch: 2,
      steps: 3,
      vocab: V,
    };
  };
  const grpo: PolicyLossConfig = { algorithm: 'grpo' };

  it('types: logits, dtype, targets, mask, config, options (TypeError)', async () => {
    const b = base();
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, logits: new Float64Array(300) as unknown as Float32Array }, grpo), TypeError, /inputs\.logits must be a Float32Array, a Uint16Array of float16\/bfloat16 bit patterns or a float32\/float16\/bfloat16 DeviceArray \(got Float64Array\)/);
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, dtype: 'bfloat16' }, grpo), TypeError, /inputs\.dtype is 'bfloat16' but inputs\.logits is a Float32Array/);
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, logits: new Uint16Array(300) }, grpo), TypeError, /inputs\.dtype must be one of 'float32', 'float16', 'bfloat16' \(got undefined\)/);
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, logits: new Uint16Array(300), dtype: 'float32' }, grpo), TypeError, /inputs\.dtype is 'float32' but inputs\.logits is a Uint16Array/);
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, targets: new Float32Array(6) as unknown as Int32Array }, grpo), TypeError, /inputs\.targets must be an Int32Array or an int32 DeviceArray/);
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, mask: [1, 1, 1, 1, 1, 1] as unknown as Uint8Array }, grpo), TypeError, /inputs\.mask must be a Uint8Array or a uint8 DeviceArray \(got Array\)/);
    await expectRejectsNamed(() => logitsPolicyLoss(b, grpo, { inPlace: 'yes' as unknown as boolean }), TypeError, /options\.inPlace must be a boolean/);
    await expectRejectsNamed(() => logitsPolicyLoss(null as unknown as LogitsPolicyLossInputs, grpo), TypeError, /inputs must be an object/);
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, vocab: '50' as unknown as number }, grpo), TypeError, /inputs\.vocab must be a number/);
  });

  it('shapes and ranges of arguments (RangeError)', async () => {
    const b = base();
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, logits: new Float32Array(299) }, grpo), RangeError, /inputs\.logits has 299 elements but inputs\.batch × inputs\.steps × inputs\.vocab requires 300/);
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, targets: new Int32Array(5) }, grpo), RangeError, /inputs\.targets has 5 elements/);
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, advantages: new Float32Array(4) }, grpo), RangeError, /inputs\.advantages has 4 elements/);
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, oldLogp: new Float32Array(7) }, grpo), RangeError, /inputs\.oldLogp has 7 elements/);
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, vocab: 0, logits: new Float32Array(0) }, grpo), RangeError, /inputs\.vocab must be an integer ≥ 1/);
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, temperature: 0 }, grpo), RangeError, /inputs\.temperature must be > 0/);
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, temperature: NaN }, grpo), RangeError, /inputs\.temperature must be a finite number/);
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, dtype: 'float64' as 'float32' }, grpo), RangeError, /inputs\.dtype must be one of/);
    await expectRejectsNamed(() => logitsPolicyLoss(b, { algorithm: 'ppo' as 'grpo' }), RangeError, /config\.algorithm must be one of/);
    await expectRejectsNamed(() => logitsPolicyLoss(b, { algorithm: 'grpo', epsLow: 1.5 }), RangeError, /config\.epsLow must be in \[0, 1\)/);
  });

  it('values: targets, mask, NaN/+Infinity logits, rows without a finite entry, −Infinity targets, loss terms (RangeError)', async () => {
    const b = base();
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, targets: Int32Array.from([1, 2, 3, 50, 5, 6]) }, grpo), RangeError, /logitsPolicyLoss: targets\[3\] must be a token id in \[0, 50\) \(got 50\)/);
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, mask: Uint8Array.from([1, 2, 0, 1, 1, 1]) }, grpo), RangeError, /mask\[1\] must be 0 or 1/);
    const nan = (b.logits as Float32Array).slice();
    nan[4 * V + 17] = NaN;
    nan[5 * V + 3] = NaN; // a later row: the first bad element in memory order is named
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, logits: nan }, grpo), RangeError, new RegExp(`logits\\[${4 * V + 17}\\] must be a finite number or -Infinity \\(got NaN\\)`));
    const inf = (b.logits as Float32Array).slice();
    inf[V + 9] = Infinity;
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, logits: inf }, grpo), RangeError, new RegExp(`logits\\[${V + 9}\\] must be a finite number or -Infinity \\(got Infinity\\)`));
    const allInf = (b.logits as Float32Array).slice();
    allInf.fill(-Infinity, 5 * V, 6 * V);
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, logits: allInf }, grpo), RangeError, /logits\[250\] must be finite somewhere in an unmasked row, but row \(b = 1, t = 2\) is -Infinity throughout/);
    const targetInf = (b.logits as Float32Array).slice();
    targetInf[3 * V + 4] = -Infinity;
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, logits: targetInf }, grpo), RangeError, new RegExp(`logits\\[${3 * V + 4}\\] must be finite at the target token of an unmasked row \\(row \\(b = 1, t = 0\\)`));
    const half = encodeHalf(Float64Array.from(b.logits), 'float16');
    half[7] = 0x7e00; // NaN
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, logits: half, dtype: 'float16' }, grpo), RangeError, /logits\[7\] must be a finite number or -Infinity \(got NaN\)/);
    const old = new Float32Array(6);
    old[4] = NaN;
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, oldLogp: old }, grpo), RangeError, /oldLogp\[4\] must be a finite number/);
    old[4] = 0;
    old[2] = NaN; // masked: not read
    await expect(logitsPolicyLoss({ ...b, oldLogp: old }, grpo)).resolves.toHaveProperty('loss');
  });

  it('in place: a call that fails leaves the logits untouched', async () => {
    const b = base();
    const logits = (b.logits as Float32Array).slice();
    logits[5 * V + 1] = NaN;
    const before = logits.slice();
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, logits }, grpo, { inPlace: true }), RangeError, /logits\[251\]/);
    const nanOld = new Float32Array(6).fill(NaN);
    const clean = (b.logits as Float32Array).slice();
    await expectRejectsNamed(() => logitsPolicyLoss({ ...b, logits: clean, oldLogp: nanOld }, grpo, { inPlace: true }), RangeError, /oldLogp\[0\]/);
    expectBitEqual(logits, before, 'logits after a failed call (bad logit)');
    expectBitEqual(clean, b.logits as Float32Array, 'logits after a failed call (bad oldLogp)');
  });
});

const torch = capabilities().torch;
const describeTorch = torch.available ? describe : describe.skip;

interface TorchResult {
  loss: number;
  logp?: Float32Array;
  gradLogits: Float32Array;
}
const viaTorch = (inputs: LogitsPolicyLossInputs, config: PolicyLossConfig, options: object = {}) =>
  runnerAddon().logitsPolicyLossTorchAsync(inputs, config, options) as Promise<TorchResult>;

describeTorch('logitsPolicyLoss vs LibTorch (ATen composite and the runner autograd node)', () => {
  const configs: PolicyLossConfig[] = [
    ...ALGOS.map((algorithm) => ({ algorithm })),
    { algorithm: 'grpo', delta: 1.5, epsLow: 0.1, epsHigh: 0.1 },
    { algorithm: 'bnpo', importanceLevel: 'sequence' },
  ];
  for (const [k, config] of configs.entries()) {
    it(`composite log_softmax → gather → reference loss → autograd: ${JSON.stringify(config)}`, async () => {
      const c = makeLogitsCase(
        1100 + k,
        {
          batch: 4,
          steps: 6,
          vocab: 3000,
          temperature: 0.8,
          perTokenAdvantages: k % 2 === 1,
          maskedRows: [3],
          logRatio: config.algorithm === 'gspo' ? (rng, b) => (b === 0 ? 1e-4 : 0.3 * rng.normal()) : undefined,
        },
        config,
        config.algorithm === 'gspo' ? 5e-5 : 1e-4,
      );
      const got = await logitsPolicyLoss(c.inputs, config);
      const composite = await viaTorch(c.inputs, config);
      expectClose(got.loss, composite.loss, LOSS_TOL, 'loss');
      expectAllClose(got.logp, composite.logp!, { abs: 1e-5, rel: 0 }, 'logp');
      expectAllClose(got.gradLogits, composite.gradLogits, { abs: 1e-5 * maxAbs(composite.gradLogits), rel: 1e-3 }, 'gradLogits');
      expect(maxAbs(composite.gradLogits)).toBeGreaterThan(1e-6);
    });
  }

  for (const dtype of ['float16', 'bfloat16'] as const) {
    it(`${dtype} logits: kernel vs composite (widened to float32); the node gives the kernel's gradient, rounded to ${dtype}`, async () => {
      const config: PolicyLossConfig = { algorithm: 'grpo' };
      const c = makeLogitsCase(1200, { batch: 3, steps: 4, vocab: 2000, dtype, temperature: 1.1, maskedRows: [0] }, config);
      const got = await logitsPolicyLoss(c.inputs, config);
      const composite = await viaTorch(c.inputs, config);
      expectClose(got.loss, composite.loss, LOSS_TOL, 'loss');
      expectAllClose(got.gradLogits, composite.gradLogits, { abs: 1e-5 * maxAbs(composite.gradLogits), rel: 1e-3 }, 'gradLogits');
      const rounded = decodeHalf(encodeHalf(got.gradLogits, dtype), dtype);
      for (const inPlace of [false, true]) {
        // Out of place the node's float32 gradient is cast by LibTorch (round to nearest even), in
        // place the kernel rounds it: the same bits either way.
        const node = await viaTorch(c.inputs, config, { implementation: 'node', inPlace });
        expectBitEqual(node.gradLogits, Float32Array.from(rounded), `node gradient, inPlace ${inPlace}`);
        expect(Math.fround(node.loss)).toBe(Math.fround(got.loss));
      }
    });
  }

  it('float32: the node (in place or not) returns exactly the kernel gradient', async () => {
    for (const [k, algorithm] of (['gspo', 'dapo'] as const).entries()) {
      const c = makeLogitsCase(1300 + k, { batch: 3, steps: 4, vocab: 1500, temperature: 0.6 }, { algorithm });
      const got = await logitsPolicyLoss(c.inputs, { algorithm });
      for (const inPlace of [false, true]) {
        const node = await viaTorch(c.inputs, { algorithm }, { implementation: 'node', inPlace });
        expectBitEqual(node.gradLogits, got.gradLogits as Float32Array, `${algorithm} node, inPlace ${inPlace}`);
      }
    }
  });

  it('the node rejects bad logits with the kernel error, naming the element', async () => {
    const c = makeLogitsCase(1400, { batch: 2, steps: 2, vocab: 30 }, { algorithm: 'grpo' });
    const logits = (c.inputs.logits as Float32Array).slice();
    logits[45] = Infinity;
    const mask = new Uint8Array(4).fill(1);
    await expectRejectsNamed(() => viaTorch({ ...c.inputs, logits, mask }, { algorithm: 'grpo' }, { implementation: 'node' }), RangeError, /logitsPolicyLossTorch: logits\[45\] must be a finite number or -Infinity/);
  });
});
