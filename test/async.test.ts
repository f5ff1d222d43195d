/**
 * Async variants return exactly (bit-identically) what the sync functions return, run
 * concurrently without interfering, and repeated calls are deterministic (bit-identical).
 * Validation failures of the async variants are covered in validation.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  attentionStats,
  attentionStatsAsync,
  coordinationScores,
  coordinationScoresAsync,
  fisherRao,
  fisherRaoAdjacent,
  fisherRaoAdjacentAsync,
  fisherRaoAsync,
  groupAdvantages,
  normalizeScores,
  policyLoss,
  policyLossAsync,
  reweightAdvantages,
  type AttentionStats,
  type CoordinationScores,
  type PolicyAlgorithm,
  type PolicyLossResult,
} from '../lib/index.js';
import { fisherRaoRef } from './oracle/index.js';
import { Rng } from './helpers/prng.js';
import { expectBitEqual, expectFrClose } from './helpers/assert.js';
import { growingLayout, makePolicyCase } from './helpers/data.js';

function expectStatsBitEqual(a: AttentionStats, b: AttentionStats): void {
  for (const k of ['ratioVis', 'ratioTxt', 'frVis', 'frTxt'] as const) expectBitEqual(a[k], b[k], k);
}
function expectScoresBitEqual(a: CoordinationScores, b: CoordinationScores): void {
  for (const k of ['roles', 'alignment', 'sequenceScore'] as const) expectBitEqual(a[k], b[k], k);
}
function expectLossBitEqual(a: PolicyLossResult, b: PolicyLossResult): void {
  expect(Object.is(a.loss, b.loss), `loss ${a.loss} vs ${b.loss}`).toBe(true);
  expectBitEqual(a.grad, b.grad, 'grad');
  for (const k of ['clipFractionLow', 'clipFractionHigh', 'kl', 'ratioMean'] as const) {
    expect(Object.is(a[k], b[k]), `${k} ${a[k]} vs ${b[k]}`).toBe(true);
  }
}

// Sizes large enough to take the multi-threaded paths.
const rng = new Rng(71);
const FR = { rows: 2048, cols: 384 };
const frP = rng.probRows(FR.rows, FR.cols);
const frQ = rng.probRows(FR.rows, FR.cols, 0.7);

const ADJ = { batch: 16, steps: 48, width: 256 };
const adjX = rng.probRows(ADJ.batch * ADJ.steps, ADJ.width);
const adjLengths = new Int32Array(ADJ.batch * ADJ.steps);
for (let b = 0; b < ADJ.batch; b++) for (let t = 0; t < ADJ.steps; t++) adjLengths[b * ADJ.steps + t] = 200 + t;

const layout = growingLayout(8, 500, 60, 64);
const ATT = { batch: 12, steps: 64, keys: layout.keys, modality: layout.modality, lengths: new Int32Array(12 * 64) };
for (let b = 0; b < ATT.batch; b++) for (let t = 0; t < ATT.steps; t++) ATT.lengths[b * ATT.steps + t] = layout.lengthAt(t);
const attn = rng.probRows(ATT.batch * ATT.steps, ATT.keys, 1.5);

const coordInputs = (() => {
  const n = 64 * 200;
  const ratioVis = rng.f32Uniform(n);
  return {
    frVis: rng.f32Uniform(n, 0, 0.4),
    frTxt: rng.f32Uniform(n, 0, 0.4),
    ratioVis,
    ratioTxt: rng.f32(n, (i) => 1 - ratioVis[i]!),
    mask: Uint8Array.from({ length: n }, () => (rng.bool(0.9) ? 1 : 0)),
    batch: 64,
    steps: 200,
  };
})();

const lossCase = makePolicyCase(72, { batch: 64, steps: 512, perTokenAdvantages: false });
const ALGOS: PolicyAlgorithm[] = ['grpo', 'bnpo', 'dr_grpo', 'dapo', 'gspo', 'sapo'];

describe('async variants equal the sync results (bit-identical)', () => {
  it('fisherRaoAsync', async () => {
    const sync = fisherRao(frP, frQ, FR);
    const p = fisherRaoAsync(frP, frQ, FR);
    expect(p).toBeInstanceOf(Promise);
    const asyncOut = await p;
    expectBitEqual(asyncOut, sync);
    expectFrClose(asyncOut, fisherRaoRef(frP, frQ, FR));
  });

  it('fisherRaoAdjacentAsync (with and without lengths)', async () => {
    expectBitEqual(await fisherRaoAdjacentAsync(adjX, ADJ), fisherRaoAdjacent(adjX, ADJ));
    const shape = { ...ADJ, lengths: adjLengths };
    expectBitEqual(await fisherRaoAdjacentAsync(adjX, shape), fisherRaoAdjacent(adjX, shape));
  });

  it('attentionStatsAsync', async () => {
    expectStatsBitEqual(await attentionStatsAsync(attn, ATT), attentionStats(attn, ATT));
  });

  it('coordinationScoresAsync (default and explicit options)', async () => {
    expectScoresBitEqual(await coordinationScoresAsync(coordInputs), coordinationScores(coordInputs));
    const opts = { tauVis: 0.02, tauTxt: 0.01 };
    expectScoresBitEqual(await coordinationScoresAsync(coordInputs, opts), coordinationScores(coordInputs, opts));
  });

  for (const algorithm of ALGOS) {
    it(`policyLossAsync (${algorithm})`, async () => {
      const cfg = { algorithm };
      expectLossBitEqual(await policyLossAsync(lossCase, cfg), policyLoss(lossCase, cfg));
    });
  }

  it('many concurrent async calls of different kinds all resolve to the sync results', async () => {
    const jobs = await Promise.all([
      fisherRaoAsync(frP, frQ, FR),
      fisherRaoAdjacentAsync(adjX, { ...ADJ, lengths: adjLengths }),
      attentionStatsAsync(attn, ATT),
      coordinationScoresAsync(coordInputs),
      ...ALGOS.map((algorithm) => policyLossAsync(lossCase, { algorithm })),
      fisherRaoAsync(frQ, frP, FR),
    ]);
    expectBitEqual(jobs[0] as Float32Array, fisherRao(frP, frQ, FR));
    expectBitEqual(jobs[1] as Float32Array, fisherRaoAdjacent(adjX, { ...ADJ, lengths: adjLengths }));
    expectStatsBitEqual(jobs[2] as AttentionStats, attentionStats(attn, ATT));
    expectScoresBitEqual(jobs[3] as CoordinationScores, coordinationScores(coordInputs));
    ALGOS.forEach((algorithm, k) => expectLossBitEqual(jobs[4 + k] as PolicyLossResult, policyLoss(lossCase, { algorithm })));
    expectBitEqual(jobs[4 + ALGOS.length] as Float32Array, fisherRao(frQ, frP, FR));
  });
});

describe('determinism: repeated calls give bit-identical outputs', () => {
  it('fisherRao / fisherRaoAdjacent', () => {
    const a = fisherRao(frP, frQ, FR);
    for (let k = 0; k < 3; k++) expectBitEqual(fisherRao(frP, frQ, FR), a);
    const shape = { ...ADJ, lengths: adjLengths };
    const b = fisherRaoAdjacent(adjX, shape);
    for (let k = 0; k < 3; k++) expectBitEqual(fisherRaoAdjacent(adjX, shape), b);
  });

  it('attentionStats / coordinationScores', () => {
    const a = attentionStats(attn, ATT);
    for (let k = 0; k < 3; k++) expectStatsBitEqual(attentionStats(attn, ATT), a);
    const c = coordinationScores(coordInputs);
    for (let k = 0; k < 3; k++) expectScoresBitEqual(coordinationScores(coordInputs), c);
  });

  it('policyLoss, every algorithm', () => {
    for (const algorithm of ALGOS) {
      const a = policyLoss(lossCase, { algorithm });
      for (let k = 0; k < 3; k++) expectLossBitEqual(policyLoss(lossCase, { algorithm }), a);
    }
  });

  it('normalizeScores / reweightAdvantages / groupAdvantages', () => {
    const r = new Rng(73);
    const s = r.f32Uniform(4096);
    const adv = r.f32(4096 * 8, () => r.normal());
    const n0 = normalizeScores(s, { groupSize: 8 });
    const w0 = reweightAdvantages(adv, n0);
    const g0 = groupAdvantages(s, { groupSize: 8 });
    for (let k = 0; k < 3; k++) {
      expectBitEqual(normalizeScores(s, { groupSize: 8 }), n0);
      expectBitEqual(reweightAdvantages(adv, n0), w0);
      expectBitEqual(groupAdvantages(s, { groupSize: 8 }), g0);
    }
  });

  it('async and sync interleaved repeatedly stay bit-identical', async () => {
    const ref = policyLoss(lossCase, { algorithm: 'dapo' });
    const outs = await Promise.all(Array.from({ length: 6 }, () => policyLossAsync(lossCase, { algorithm: 'dapo' })));
    for (const o of outs) expectLossBitEqual(o, ref);
  });
});
