/**
 * attentionStats against the float64 oracle.
 * Tolerances: ratios abs 1e-7 + rel 1e-5 (float32 outputs of float64 sums);
 * frVis / frTxt: the FR criterion (rel ≤ 1e-4 where FR ≥ 1e-3, abs ≤ 1e-7 below).
 */
import { describe, expect, it } from 'vitest';
import { attentionStats, Modality, type AttentionStats } from '../lib/index.js';
import { attentionStatsRef, type AttentionStatsRef } from './oracle/index.js';
import { Rng } from './helpers/prng.js';
import { expectAllClose, expectFrClose } from './helpers/assert.js';
import { growingLayout } from './helpers/data.js';

const RATIO_TOL = { abs: 1e-7, rel: 1e-5 };

function expectStatsMatch(got: AttentionStats, ref: AttentionStatsRef, label = ''): void {
  for (const k of ['ratioVis', 'ratioTxt', 'frVis', 'frTxt'] as const) {
    expect(got[k], `${label} ${k} type`).toBeInstanceOf(Float32Array);
  }
  expectAllClose(got.ratioVis, ref.ratioVis, RATIO_TOL, `${label} ratioVis`);
  expectAllClose(got.ratioTxt, ref.ratioTxt, RATIO_TOL, `${label} ratioTxt`);
  expectFrClose(got.frVis, ref.frVis, `${label} frVis`);
  expectFrClose(got.frTxt, ref.frTxt, `${label} frTxt`);
}

/** Random attention rows; entries past each row's length and on "other" keys are random garbage. */
function randomAttention(rng: Rng, rows: number, keys: number, lengths?: Int32Array): Float32Array {
  const a = rng.probRows(rows, keys, rng.range(0.5, 2.5));
  if (lengths) for (let i = 0; i < rows; i++) for (let k = lengths[i]!; k < keys; k++) a[i * keys + k] = 50 * rng.uniform();
  return a;
}

describe('attentionStats', () => {
  it('Modality labels are 0/1/2', () => {
    expect(Modality).toEqual({ Other: 0, Vision: 1, Text: 2 });
  });

  it('hand-computed example (abs 1e-6)', () => {
    const modality = new Uint8Array([0, 1, 1, 2, 2]);
    const attn = new Float32Array([
      0.4, 0.15, 0.15, 0.3, 0, // t=0
      0.1, 0.6, 0, 0.15, 0.15, // t=1
    ]);
    const s = attentionStats(attn, { batch: 1, steps: 2, keys: 5, modality });
    const h = 2 * Math.acos(Math.SQRT1_2); // π/2
    expectAllClose(s.ratioVis, [0.5, 2 / 3], { abs: 1e-6, rel: 0 });
    expectAllClose(s.ratioTxt, [0.5, 1 / 3], { abs: 1e-6, rel: 0 });
    expectAllClose(s.frVis, [0, h], { abs: 1e-6, rel: 0 });
    expectAllClose(s.frTxt, [0, h], { abs: 1e-6, rel: 0 });
  });

  it('random rows, full lengths (no lengths given) match the oracle', () => {
    const rng = new Rng(31);
    const keys = 60;
    const modality = new Uint8Array(keys);
    for (let k = 0; k < keys; k++) modality[k] = rng.int(0, 2);
    const batch = 4;
    const steps = 10;
    const attn = randomAttention(rng, batch * steps, keys);
    const shape = { batch, steps, keys, modality };
    const got = attentionStats(attn, shape);
    expectStatsMatch(got, attentionStatsRef(attn, shape));
    for (let b = 0; b < batch; b++) {
      expect(got.frVis[b * steps]).toBe(0);
      expect(got.frTxt[b * steps]).toBe(0);
    }
  });

  it('growing text regions (lengths + 1 per step), garbage past the lengths', () => {
    const rng = new Rng(32);
    const steps = 40;
    const layout = growingLayout(5, 64, 12, steps);
    const batch = 3;
    const lengths = new Int32Array(batch * steps);
    for (let b = 0; b < batch; b++) for (let t = 0; t < steps; t++) lengths[b * steps + t] = layout.lengthAt(t);
    const attn = randomAttention(rng, batch * steps, layout.keys, lengths);
    const shape = { batch, steps, keys: layout.keys, modality: layout.modality, lengths };
    expectStatsMatch(attentionStats(attn, shape), attentionStatsRef(attn, shape));
  });

  it('growing text regions with tiny step-to-step drift (FR criterion in the small-FR regime)', () => {
    const rng = new Rng(33);
    const steps = 25;
    const layout = growingLayout(3, 100, 20, steps);
    const batch = 2;
    const lengths = new Int32Array(batch * steps);
    for (let b = 0; b < batch; b++) for (let t = 0; t < steps; t++) lengths[b * steps + t] = layout.lengthAt(t);
    const K = layout.keys;
    const attn = new Float32Array(batch * steps * K);
    for (let b = 0; b < batch; b++) {
      const base = rng.probRows(1, K);
      for (let t = 0; t < steps; t++) {
        const eps = 10 ** rng.range(-4, -1.5);
        for (let k = 0; k < K; k++) attn[(b * steps + t) * K + k] = base[k]! * Math.exp(eps * rng.normal());
      }
    }
    const shape = { batch, steps, keys: K, modality: layout.modality, lengths };
    const ref = attentionStatsRef(attn, shape);
    expect(Array.from(ref.frVis).filter((x) => x >= 1e-3).length).toBeGreaterThan(5);
    expectStatsMatch(attentionStats(attn, shape), ref);
  });

  it('random lengths (incl. 0 and shrinking), random interleaved modalities', () => {
    const rng = new Rng(34);
    const keys = 33;
    const modality = new Uint8Array(keys);
    for (let k = 0; k < keys; k++) modality[k] = rng.int(0, 2);
    const batch = 5;
    const steps = 14;
    const lengths = new Int32Array(batch * steps);
    for (let i = 0; i < lengths.length; i++) lengths[i] = rng.bool(0.1) ? 0 : rng.int(1, keys);
    const attn = randomAttention(rng, batch * steps, keys, lengths);
    const shape = { batch, steps, keys, modality, lengths };
    expectStatsMatch(attentionStats(attn, shape), attentionStatsRef(attn, shape));
  });

  it('adversarial rows: all-zero rows, zero-mass regions (uniform), one-hot rows, identical rows', () => {
    // keys: 0 other, 1..4 vision, 5..8 text
    const keys = 9;
    const modality = new Uint8Array([0, 1, 1, 1, 1, 2, 2, 2, 2]);
    const rows = [
      [1, 0, 0, 0, 0, 0, 0, 0, 0], // t0: all mass on "other" → ratios 0
      [0, 0, 0, 0, 0, 0, 0, 0, 0], // t1: zero row → both regions uniform; ratios 0
      [0, 1, 0, 0, 0, 0, 0, 0, 1], // t2: one-hot in each region
      [0, 1, 0, 0, 0, 0, 0, 0, 1], // t3: identical to t2 → FR 0
      [0, 0, 0, 0, 1, 1, 0, 0, 0], // t4: one-hots move to disjoint keys → π, π
      [0, 0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5], // t5: zero vision mass → uniform; ratios 0 / 1
      [5, 0.25, 0.25, 0.25, 0.25, 0, 0, 0, 0], // t6: uniform vision (FR 0 vs uniform), zero text = uniform (FR 0 vs uniform)
    ];
    const attn = new Float32Array(rows.flat());
    const shape = { batch: 1, steps: rows.length, keys, modality };
    const got = attentionStats(attn, shape);
    const ref = attentionStatsRef(attn, shape);
    expectStatsMatch(got, ref);
    expectAllClose(got.ratioVis, [0, 0, 0.5, 0.5, 0.5, 0, 1], { abs: 1e-7, rel: 0 });
    expectAllClose(got.ratioTxt, [0, 0, 0.5, 0.5, 0.5, 1, 0], { abs: 1e-7, rel: 0 });
    const oneHotVsUniform = 2 * Math.acos(0.5);
    expectAllClose(got.frVis, [0, 0, oneHotVsUniform, 0, Math.PI, oneHotVsUniform, 0], { abs: 1e-6, rel: 0 });
    expectAllClose(got.frTxt, [0, 0, oneHotVsUniform, 0, Math.PI, oneHotVsUniform, 0], { abs: 1e-6, rel: 0 });
  });

  it('no vision keys at all: ratioVis and frVis are 0 everywhere', () => {
    const rng = new Rng(35);
    const keys = 12;
    const modality = new Uint8Array(keys).fill(Modality.Text);
    modality[0] = Modality.Other;
    const attn = randomAttention(rng, 2 * 5, keys);
    const shape = { batch: 2, steps: 5, keys, modality };
    const got = attentionStats(attn, shape);
    expect(Array.from(got.ratioVis).every((v) => v === 0)).toBe(true);
    expect(Array.from(got.frVis).every((v) => v === 0)).toBe(true);
    expectStatsMatch(got, attentionStatsRef(attn, shape));
  });

  it('a region with no keys below the common prefix gives 0 (lengths cover only "other"/vision keys)', () => {
    const rng = new Rng(36);
    const layout = growingLayout(2, 4, 3, 4);
    const lengths = new Int32Array([2, 2, 6, 9]); // t1: only other keys; t2: m=2 → nothing; t3: m=6 → vision only
    const attn = randomAttention(rng, 4, layout.keys, lengths);
    const shape = { batch: 1, steps: 4, keys: layout.keys, modality: layout.modality, lengths };
    const got = attentionStats(attn, shape);
    expectStatsMatch(got, attentionStatsRef(attn, shape));
    expect(got.frVis[1]).toBe(0);
    expect(got.frVis[2]).toBe(0);
    expect(got.frTxt[1]).toBe(0);
    expect(got.frTxt[2]).toBe(0);
    expect(got.frTxt[3]).toBe(0);
    expect(got.ratioVis[0]).toBe(0);
    expect(got.ratioTxt[0]).toBe(0);
  });

  it('"other" keys and keys past the length are never read (NaN/Inf there is accepted and ignored)', () => {
    const rng = new Rng(37);
    const steps = 8;
    const layout = growingLayout(4, 10, 5, steps);
    const batch = 2;
    const lengths = new Int32Array(batch * steps);
    for (let b = 0; b < batch; b++) for (let t = 0; t < steps; t++) lengths[b * steps + t] = layout.lengthAt(t);
    const attn = randomAttention(rng, batch * steps, layout.keys, lengths);
    const dirty = attn.slice();
    for (let i = 0; i < batch * steps; i++)
      for (let k = 0; k < layout.keys; k++) {
        if (k >= lengths[i]!) dirty[i * layout.keys + k] = NaN;
        else if (layout.modality[k] === Modality.Other) dirty[i * layout.keys + k] = k % 2 ? Infinity : -1;
      }
    const shape = { batch, steps, keys: layout.keys, modality: layout.modality, lengths };
    expectStatsMatch(attentionStats(dirty, shape), attentionStatsRef(attn, shape));
  });

  it('long rows (100k keys) with a growing text region', () => {
    const rng = new Rng(38);
    const steps = 3;
    const layout = growingLayout(100, 70_000, 29_897, steps);
    expect(layout.keys).toBe(99_997 + steps);
    const lengths = new Int32Array([layout.lengthAt(0), layout.lengthAt(1), layout.lengthAt(2)]);
    const attn = randomAttention(rng, steps, layout.keys, lengths);
    // step 2 is a tiny drift of step 1
    for (let k = 0; k < layout.keys; k++) attn[2 * layout.keys + k] = attn[layout.keys + k]! * Math.exp(2e-3 * rng.normal());
    const shape = { batch: 1, steps, keys: layout.keys, modality: layout.modality, lengths };
    const ref = attentionStatsRef(attn, shape);
    expect(ref.frVis[2]).toBeGreaterThan(1e-3);
    expectStatsMatch(attentionStats(attn, shape), ref);
  });

  it('many rows (multi-threaded path: 16 × 64 × 1024)', () => {
    const rng = new Rng(39);
    const steps = 64;
    const layout = growingLayout(10, 700, 250, steps);
    const batch = 16;
    const lengths = new Int32Array(batch * steps);
    for (let b = 0; b < batch; b++) for (let t = 0; t < steps; t++) lengths[b * steps + t] = layout.lengthAt(t);
    const attn = randomAttention(rng, batch * steps, layout.keys, lengths);
    const shape = { batch, steps, keys: layout.keys, modality: layout.modality, lengths };
    expectStatsMatch(attentionStats(attn, shape), attentionStatsRef(attn, shape));
  });

  it('batch = 0 gives empty outputs', () => {
    const got = attentionStats(new Float32Array(0), { batch: 0, steps: 4, keys: 3, modality: new Uint8Array([0, 1, 2]) });
    for (const k of ['ratioVis', 'ratioTxt', 'frVis', 'frTxt'] as const) {
      expect(got[k]).toBeInstanceOf(Float32Array);
      expect(got[k].length).toBe(0);
    }
  });
});
