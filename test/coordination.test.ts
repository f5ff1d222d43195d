/**
 * coordinationScores, normalizeScores and reweightAdvantages against the float64 oracle.
 * Tolerances: roles exact; alignment abs 1e-7 (it is a copy of a float32 ratio);
 * sequenceScore abs 1e-7 + rel 1e-6; normalizeScores abs 1e-6 + rel 1e-5 (tanh of a float64
 * z-score, rounded to float32); reweightAdvantages abs 1e-7 + rel 1e-6.
 */
import { describe, expect, it } from 'vitest';
import { attentionStats, coordinationScores, normalizeScores, reweightAdvantages } from '../lib/index.js';
import {
  attentionStatsRef,
  coordinationScoresRef,
  normalizeScoresRef,
  reweightAdvantagesRef,
  sigmoid,
} from './oracle/index.js';
import { Rng } from './helpers/prng.js';
import { expectAllClose } from './helpers/assert.js';
import { growingLayout } from './helpers/data.js';

const SCORE_TOL = { abs: 1e-7, rel: 1e-6 };
const NORM_TOL = { abs: 1e-6, rel: 1e-5 };
const REWEIGHT_TOL = { abs: 1e-7, rel: 1e-6 };

function randomSignals(rng: Rng, batch: number, steps: number, maskProb = 0) {
  const n = batch * steps;
  const ratioVis = rng.f32Uniform(n);
  const ratioTxt = rng.f32(n, (i) => 1 - ratioVis[i]!);
  const frVis = rng.f32Uniform(n, 0, 0.5);
  const frTxt = rng.f32Uniform(n, 0, 0.5);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = rng.bool(maskProb) ? 0 : 1;
  return { frVis, frTxt, ratioVis, ratioTxt, mask, batch, steps };
}

describe('coordinationScores', () => {
  it('hand-computed roles (exactly representable thresholds, ties are neutral)', () => {
    // Δ: -, +0.5 (vision), -0.25 (= -tauTxt: neutral), +0.25 (= tauVis: neutral), -0.5 (text), masked +1
    const inputs = {
      frVis: new Float32Array([9, 0.75, 0.5, 0.75, 0.25, 1]),
      frTxt: new Float32Array([0, 0.25, 0.75, 0.5, 0.75, 0]),
      ratioVis: new Float32Array([0.5, 0.75, 0.5, 0.5, 0.25, 0.5]),
      ratioTxt: new Float32Array([0.5, 0.25, 0.5, 0.5, 0.75, 0.5]),
      mask: new Uint8Array([1, 1, 1, 1, 1, 0]),
      batch: 1,
      steps: 6,
    };
    const r = coordinationScores(inputs, { tauVis: 0.25, tauTxt: 0.25 });
    expect(r.roles).toBeInstanceOf(Int8Array);
    expect(r.alignment).toBeInstanceOf(Float32Array);
    expect(r.sequenceScore).toBeInstanceOf(Float32Array);
    expect(Array.from(r.roles)).toEqual([0, 1, 0, 0, -1, 0]);
    expect(Array.from(r.alignment)).toEqual([0, 0.75, 0, 0, 0.75, 0]);
    expectAllClose(r.sequenceScore, [sigmoid(0.75)], SCORE_TOL);
  });

  it('default thresholds are tauVis = 0, tauTxt = 0.05', () => {
    const inputs = {
      frVis: new Float32Array([0, 0.1, 0.1, 0.1, 0.1]),
      frTxt: new Float32Array([0, 0.09, 0.1, 0.14, 0.16]),
      ratioVis: new Float32Array([0.5, 0.6, 0.6, 0.6, 0.6]),
      ratioTxt: new Float32Array([0.5, 0.4, 0.4, 0.4, 0.4]),
      batch: 1,
      steps: 5,
    };
    // Δ = +0.01 (vision), 0 (neutral), -0.04 (neutral), -0.06 (text)
    const r = coordinationScores(inputs);
    expect(Array.from(r.roles)).toEqual([0, 1, 0, 0, -1]);
    expect(Array.from(coordinationScores(inputs, { tauVis: 0, tauTxt: 0.05 }).roles)).toEqual([0, 1, 0, 0, -1]);
    expectAllClose(r.sequenceScore, [sigmoid((0.6 + 0.4) / 2)], SCORE_TOL);
  });

  it('random signals with masks and thresholds match the oracle', () => {
    const rng = new Rng(41);
    for (const [tauVis, tauTxt] of [
      [0, 0.05],
      [0.1, 0],
      [-0.05, 0.2],
    ] as const) {
      const inputs = randomSignals(rng, 9, 17, 0.2);
      const got = coordinationScores(inputs, { tauVis, tauTxt });
      const ref = coordinationScoresRef(inputs, { tauVis, tauTxt });
      expect(Array.from(got.roles), `roles (τ=${tauVis},${tauTxt})`).toEqual(Array.from(ref.roles));
      expectAllClose(got.alignment, ref.alignment, { abs: 1e-7, rel: 0 }, 'alignment');
      expectAllClose(got.sequenceScore, ref.sequenceScore, SCORE_TOL, 'sequenceScore');
    }
  });

  it('step 0 and masked tokens are neutral; their inputs are never read (NaN accepted)', () => {
    const rng = new Rng(42);
    const inputs = randomSignals(rng, 4, 6, 0.3);
    const clean = { ...inputs, frVis: inputs.frVis.slice(), frTxt: inputs.frTxt.slice() };
    for (let i = 0; i < 24; i++) {
      if (inputs.mask[i] === 0 || i % 6 === 0) {
        inputs.frVis[i] = NaN;
        inputs.frTxt[i] = Infinity;
        inputs.ratioVis[i] = NaN;
        inputs.ratioTxt[i] = NaN;
      }
    }
    const got = coordinationScores(inputs);
    const ref = coordinationScoresRef(clean);
    for (let i = 0; i < 24; i++) if (inputs.mask[i] === 0 || i % 6 === 0) expect(got.roles[i]).toBe(0);
    expect(Array.from(got.roles)).toEqual(Array.from(ref.roles));
    expectAllClose(got.alignment, ref.alignment, { abs: 1e-7, rel: 0 });
    expectAllClose(got.sequenceScore, ref.sequenceScore, SCORE_TOL);
  });

  it('sequences without active tokens score exactly 0.5 (all masked, steps = 1, all neutral)', () => {
    const rng = new Rng(43);
    const inputs = randomSignals(rng, 3, 5);
    inputs.mask.fill(0, 0, 5); // sequence 0 fully masked
    for (let t = 0; t < 5; t++) inputs.frTxt[5 + t] = inputs.frVis[5 + t]!; // sequence 1: Δ = 0 → neutral
    const r = coordinationScores(inputs);
    expect(r.sequenceScore[0]).toBe(0.5);
    expect(r.sequenceScore[1]).toBe(0.5);
    const one = coordinationScores({ ...randomSignals(rng, 4, 1) });
    expect(Array.from(one.sequenceScore)).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(Array.from(one.roles)).toEqual([0, 0, 0, 0]);
  });

  it('end to end from attentionStats output (growing text regions) matches the oracle pipeline', () => {
    const rng = new Rng(44);
    const steps = 20;
    const layout = growingLayout(3, 30, 8, steps);
    const batch = 4;
    const lengths = new Int32Array(batch * steps);
    for (let b = 0; b < batch; b++) for (let t = 0; t < steps; t++) lengths[b * steps + t] = layout.lengthAt(t);
    const attn = rng.probRows(batch * steps, layout.keys, 1.5);
    const shape = { batch, steps, keys: layout.keys, modality: layout.modality, lengths };
    const stats = attentionStats(attn, shape);
    const mask = new Uint8Array(batch * steps).fill(1);
    mask.fill(0, 15, 20); // sequence 0 ends after 15 tokens
    const got = coordinationScores({ ...stats, mask, batch, steps });
    // oracle on the kernel's own float32 stats (so role decisions are taken on identical Δ)
    const ref = coordinationScoresRef({ ...stats, mask, batch, steps });
    expect(Array.from(got.roles)).toEqual(Array.from(ref.roles));
    expectAllClose(got.sequenceScore, ref.sequenceScore, SCORE_TOL);
    // and the fully-oracle pipeline agrees on the scores
    const refStats = attentionStatsRef(attn, shape);
    const ref2 = coordinationScoresRef({ ...refStats, mask, batch, steps });
    expectAllClose(got.sequenceScore, ref2.sequenceScore, { abs: 1e-5, rel: 1e-5 });
  });
});

describe('normalizeScores', () => {
  it('whole-batch tanh z-score with unbiased std', () => {
    const rng = new Rng(45);
    const c = rng.f32Uniform(32, 0.4, 0.8);
    const got = normalizeScores(c);
    expect(got).toBeInstanceOf(Float32Array);
    expectAllClose(got, normalizeScoresRef(c), NORM_TOL);
    expectAllClose(normalizeScores(new Float32Array([1, 2, 3])), [Math.tanh(-1), 0, Math.tanh(1)], NORM_TOL);
  });

  it('per group (groupSize divides the length)', () => {
    const rng = new Rng(46);
    const c = rng.f32Uniform(24, 0.3, 0.9);
    for (const groupSize of [2, 3, 4, 8, 24]) {
      expectAllClose(normalizeScores(c, { groupSize }), normalizeScoresRef(c, { groupSize }), NORM_TOL, `G=${groupSize}`);
    }
  });

  it('zero spread (std ≤ 1e-8), a single score, or groups of one give all zeros', () => {
    expect(Array.from(normalizeScores(new Float32Array([0.6, 0.6, 0.6, 0.6])))).toEqual([0, 0, 0, 0]);
    expect(Array.from(normalizeScores(new Float32Array([0.7])))).toEqual([0]);
    expect(Array.from(normalizeScores(new Float32Array([0.1, 0.9, 0.3]), { groupSize: 1 }))).toEqual([0, 0, 0]);
    // one constant group next to a varying one
    const got = normalizeScores(new Float32Array([0.5, 0.5, 0.2, 0.8]), { groupSize: 2 });
    expectAllClose(got, [0, 0, Math.tanh(-Math.SQRT1_2), Math.tanh(Math.SQRT1_2)], NORM_TOL);
  });

  it('empty input gives an empty Float32Array', () => {
    const out = normalizeScores(new Float32Array(0));
    expect(out).toBeInstanceOf(Float32Array);
    expect(out.length).toBe(0);
  });
});

describe('reweightAdvantages', () => {
  it('defaults: w = clamp(1 + 0.2·ĉ, 0.8, 1.2), per-sequence advantages', () => {
    const adv = new Float32Array([1, -1, 2, -2, 0.5]);
    const c = new Float32Array([0.5, 0.5, -1, 1, 0]);
    const got = reweightAdvantages(adv, c);
    expect(got).toBeInstanceOf(Float32Array);
    expect(got).not.toBe(adv);
    expectAllClose(got, [1.1, -1.1, 1.6, -2.4, 0.5], REWEIGHT_TOL);
  });

  it('clamping at min/max with a large alpha; custom min/max', () => {
    const rng = new Rng(47);
    const adv = rng.f32(16, () => rng.normal());
    const c = rng.f32Uniform(16, -1, 1);
    for (const opts of [{ alpha: 3 }, { alpha: 0.5, min: 0.5, max: 1.5 }, { alpha: 1, min: 1, max: 1 }]) {
      expectAllClose(reweightAdvantages(adv, c, opts), reweightAdvantagesRef(adv, c, opts), REWEIGHT_TOL, JSON.stringify(opts));
    }
    // min = max = 1: identity
    expectAllClose(reweightAdvantages(adv, c, { min: 1, max: 1 }), adv, { abs: 0, rel: 0 });
  });

  it('per-token advantages (batch*steps): every token of b is scaled by w_b', () => {
    const rng = new Rng(48);
    const batch = 6;
    const steps = 7;
    const adv = rng.f32(batch * steps, () => rng.normal());
    const c = rng.f32Uniform(batch, -1, 1);
    const got = reweightAdvantages(adv, c, { alpha: 0.4 });
    expect(got.length).toBe(batch * steps);
    expectAllClose(got, reweightAdvantagesRef(adv, c, { alpha: 0.4 }), REWEIGHT_TOL);
  });

  it('length guard: ĉ = −1 below minLength; scaleByLength multiplies by min(L/minLength, 1)', () => {
    const adv = new Float32Array([1, 1, 1, -1]);
    const c = new Float32Array([1, 1, 0, 0.5]);
    const lengths = new Int32Array([10, 3, 5, 2]);
    const g = reweightAdvantages(adv, c, { lengths, minLength: 5 });
    expectAllClose(g, [1.2, 0.8, 1, -0.8], REWEIGHT_TOL);
    const s = reweightAdvantages(adv, c, { lengths, minLength: 5, scaleByLength: true });
    expectAllClose(s, [1.2, 0.8 * 0.6, 1, -0.8 * 0.4], REWEIGHT_TOL);
    // random with per-token advantages
    const rng = new Rng(49);
    const batch = 8;
    const steps = 5;
    const advT = rng.f32(batch * steps, () => rng.normal());
    const cc = rng.f32Uniform(batch, -1, 1);
    const L = new Int32Array(batch);
    for (let b = 0; b < batch; b++) L[b] = rng.int(0, 12);
    const opts = { lengths: L, minLength: 6, scaleByLength: true, alpha: 0.3 };
    expectAllClose(reweightAdvantages(advT, cc, opts), reweightAdvantagesRef(advT, cc, opts), REWEIGHT_TOL);
  });

  it('minLength = 0 (default) ignores lengths', () => {
    const adv = new Float32Array([1, 2]);
    const c = new Float32Array([1, -1]);
    const a = reweightAdvantages(adv, c, { lengths: new Int32Array([0, 0]) });
    expectAllClose(a, [1.2, 1.6], REWEIGHT_TOL);
  });

  it('full pipeline from normalized scores matches the oracle', () => {
    const rng = new Rng(50);
    const scores = rng.f32Uniform(16, 0.45, 0.75);
    const nHat = normalizeScores(scores, { groupSize: 4 });
    const adv = rng.f32(16, () => rng.normal());
    const ref = reweightAdvantagesRef(adv, normalizeScoresRef(scores, { groupSize: 4 }));
    expectAllClose(reweightAdvantages(adv, nHat), ref, { abs: 1e-6, rel: 1e-5 });
  });
});
