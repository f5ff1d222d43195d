/**
 * Self-checks of the float64 oracle (test/oracle/). These do not touch the native addon, so they
 * run even before it builds. Tolerances here are tight (the oracle is float64 throughout):
 * - stable FR vs 2·acos(BC) in float64: 1e-9 absolute where FR ≥ 0.05 (acos is well conditioned there);
 * - oracle gradients vs central finite differences (h = 1e-6) of the oracle's own loss value:
 *   1e-8 absolute + 1e-6 relative.
 */
import { describe, expect, it } from 'vitest';
import {
  attentionStatsRef,
  coordinationScoresRef,
  fisherRaoAcos64,
  fisherRaoAdjacentRef,
  fisherRaoNaiveFloat32,
  fisherRaoRef,
  groupAdvantagesRef,
  normalizeScoresRef,
  policyLossFiniteDiff,
  policyLossRef,
  reweightAdvantagesRef,
  type PolicyAlgorithmRef,
} from './oracle/index.js';
import { Rng } from './helpers/prng.js';
import { expectAllClose, expectClose, frViolations } from './helpers/assert.js';
import { makeSmoothPolicyCase, tinyShiftCase } from './helpers/data.js';

const ALGOS: PolicyAlgorithmRef[] = ['grpo', 'bnpo', 'dr_grpo', 'dapo', 'gspo', 'sapo'];

describe('oracle: Fisher–Rao', () => {
  it('stable form agrees with 2·acos(BC) in float64 where FR ≥ 0.05 (abs 1e-9)', () => {
    const rng = new Rng(1);
    const p = rng.probRows(50, 33, 2);
    const q = rng.probRows(50, 33, 2);
    const a = fisherRaoRef(p, q, { rows: 50, cols: 33 });
    const b = fisherRaoAcos64(p, q, { rows: 50, cols: 33 });
    for (let i = 0; i < 50; i++) {
      expect(a[i]).toBeGreaterThan(0.05);
      expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-9);
    }
  });

  it('identical rows → 0, disjoint supports → π, zero row = uniform, scale invariance', () => {
    const fr = fisherRaoRef(
      [0.2, 0.3, 0.5, 1, 0, 0, 0, 0, 0, 2, 2, 2],
      [0.2, 0.3, 0.5, 0, 1, 1, 1, 1, 1, 1, 1, 1],
      { rows: 4, cols: 3 },
    );
    expect(fr[0]).toBe(0);
    expect(fr[1]).toBeCloseTo(Math.PI, 14);
    expect(fr[2]).toBe(0); // zero row is uniform, and (1,1,1) normalises to uniform
    expect(fr[3]).toBe(0); // (2,2,2) vs (1,1,1)
    // one-hot vs uniform on n points: 2·acos(1/√n)
    const n = 10;
    const oh = new Float64Array(n);
    oh[3] = 1;
    const u = new Float64Array(n).fill(0.1);
    expect(fisherRaoRef(oh, u, { rows: 1, cols: n })[0]).toBeCloseTo(2 * Math.acos(1 / Math.sqrt(n)), 14);
  });

  it('the naive float32 arccos form violates the tiny-shift criterion (that criterion can fail)', () => {
    const { p, q } = tinyShiftCase(42, 200, 64);
    const exact = fisherRaoRef(p, q, { rows: 200, cols: 64 });
    const naive = fisherRaoNaiveFloat32(p, q, { rows: 200, cols: 64 });
    expect(exact.filter((x) => x >= 1e-3).length).toBeGreaterThan(50);
    expect(frViolations(naive, exact).length).toBeGreaterThan(20);
  });

  it('adjacent: step 0 is 0, empty common prefix is 0, prefix renormalised', () => {
    // rows: [1,0,0], [0.5,0.5,0], [0.2,0.3,0.5] with lengths 1,2,3
    const x = [1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5];
    const out = fisherRaoAdjacentRef(x, { batch: 1, steps: 3, width: 3, lengths: new Int32Array([1, 2, 3]) });
    expect(out[0]).toBe(0);
    expect(out[1]).toBe(0); // prefix of length 1: both sides renormalise to [1]
    // prefix 2: [0.5,0.5] vs [0.4,0.6]
    expect(out[2]).toBeCloseTo(2 * Math.acos(Math.sqrt(0.2) + Math.sqrt(0.3)), 12);
    const z = fisherRaoAdjacentRef(x, { batch: 1, steps: 3, width: 3, lengths: new Int32Array([0, 2, 3]) });
    expect(z[1]).toBe(0);
  });
});

describe('oracle: attention stats and coordination', () => {
  it('hand-computed attention statistics', () => {
    // keys: other, vis, vis, txt, txt
    const modality = new Uint8Array([0, 1, 1, 2, 2]);
    const attn = [
      9, 0.25, 0.25, 0.5, 0, // t=0
      9, 0.5, 0, 0.25, 0.25, // t=1
    ];
    const s = attentionStatsRef(attn, { batch: 1, steps: 2, keys: 5, modality });
    expect(Array.from(s.ratioVis)).toEqual([0.5, 0.5]);
    expect(Array.from(s.ratioTxt)).toEqual([0.5, 0.5]);
    expect(s.frVis[0]).toBe(0);
    expect(s.frVis[1]).toBeCloseTo(2 * Math.acos(Math.sqrt(0.5)), 12);
    expect(s.frTxt[1]).toBeCloseTo(2 * Math.acos(Math.sqrt(0.5)), 12);
  });

  it('hand-computed roles, alignment and scores', () => {
    const r = coordinationScoresRef(
      {
        frVis: [9, 0.3, 0.0, 0.1, 0.5],
        frTxt: [9, 0.1, 0.2, 0.12, 0.5],
        ratioVis: [0.1, 0.7, 0.4, 0.5, 0.5],
        ratioTxt: [0.9, 0.3, 0.6, 0.5, 0.5],
        batch: 1,
        steps: 5,
      },
      {},
    );
    expect(Array.from(r.roles)).toEqual([0, 1, -1, 0, 0]);
    expectAllClose(r.alignment, [0, 0.7, 0.6, 0, 0], { abs: 1e-15, rel: 0 });
    expectClose(r.sequenceScore[0]!, 1 / (1 + Math.exp(-0.65)), { abs: 1e-15, rel: 0 });
  });

  it('normalize, reweight and group advantages match hand computations', () => {
    const n = normalizeScoresRef([1, 2, 3]);
    expectAllClose(n, [Math.tanh(-1), 0, Math.tanh(1)], { abs: 1e-15, rel: 0 });
    expect(Array.from(normalizeScoresRef([5, 5, 5]))).toEqual([0, 0, 0]);
    expect(Array.from(normalizeScoresRef([1, 2], { groupSize: 1 }))).toEqual([0, 0]);
    expectAllClose(reweightAdvantagesRef([1, -2], [1, -0.5]), [1.2, -2 * 0.9], { abs: 1e-15, rel: 0 });
    const g = groupAdvantagesRef([1, 0, 0, 1], { groupSize: 2 });
    const a = 0.5 / (Math.SQRT1_2 + 1e-4);
    expectAllClose(g, [a, -a, -a, a], { abs: 1e-15, rel: 0 });
  });
});

describe('oracle: policy loss gradient vs its own finite differences (abs 1e-8 + rel 1e-6)', () => {
  for (const algorithm of ALGOS) {
    for (const perToken of [false, true]) {
      it(`${algorithm}, ${perToken ? 'per-token' : 'per-sequence'} advantages`, () => {
        const cfg = { algorithm, delta: algorithm === 'gspo' || algorithm === 'sapo' ? undefined : 1.9 };
        const c = makeSmoothPolicyCase(
          100 + ALGOS.indexOf(algorithm),
          { batch: 5, steps: 7, perTokenAdvantages: perToken, maskedRows: [2] },
          cfg,
        );
        const ref = policyLossRef(c, cfg);
        const fd = policyLossFiniteDiff(c, cfg);
        expectAllClose(ref.grad, fd, { abs: 1e-8, rel: 1e-6 }, 'grad vs FD');
      });
    }
  }

  it('default ℓ_old (ratio 1): grpo gradient is −A/(B·L_b) plus the KL part', () => {
    const c = makeSmoothPolicyCase(7, { batch: 3, steps: 4, old: false, ref: false }, { algorithm: 'grpo' });
    const ref = policyLossRef(c, { algorithm: 'grpo' });
    for (let b = 0; b < 3; b++) {
      let L = 0;
      for (let t = 0; t < 4; t++) L += c.mask[b * 4 + t]!;
      for (let t = 0; t < 4; t++) {
        const i = b * 4 + t;
        expect(ref.grad[i]).toBeCloseTo(c.mask[i] ? -c.advantages[b]! / (3 * L) : 0, 14);
      }
    }
    expect(ref.ratioMean).toBe(1);
  });
});
