/**
 * coordinationScores on CUDA against the float64 oracle (roles exact, alignment abs 1e-7,
 * sequenceScore abs 1e-7 + rel 1e-6, as in test/coordination.test.ts) and against the CPU kernel
 * (roles and alignment identical: the same float comparisons and copies; scores abs 1e-7 + rel
 * 1e-6), the attentionStats → coordinationScores pipeline kept on the device, async and repeated
 * calls bit-identical. Skipped, with the reason printed, where no GPU can be used.
 */
import { describe, expect, it } from 'vitest';
import { attentionStats, coordinationScores, coordinationScoresAsync, DeviceArray, type CoordinationScores } from '../../lib/index.js';
import { coordinationScoresRef } from '../oracle/index.js';
import { expectAllClose, expectBitEqual } from '../helpers/assert.js';
import { CPU_RATIO_TOL, cudaAvailable, reportCudaSkip } from '../helpers/cuda.js';
import { attentionCases, coordinationCases } from './cases.js';

reportCudaSkip('test/cuda/coordination.test.ts');

const SCORE_TOL = { abs: 1e-7, rel: 1e-6 };

function expectSameScores(a: CoordinationScores, b: CoordinationScores, label: string): void {
  expectBitEqual(a.roles, b.roles, `${label} roles`);
  expectBitEqual(a.alignment, b.alignment, `${label} alignment`);
  expectBitEqual(a.sequenceScore, b.sequenceScore, `${label} sequenceScore`);
}

describe.skipIf(!cudaAvailable)('coordinationScores on CUDA', () => {
  for (const c of coordinationCases()) {
    const options = { tauVis: c.tauVis, tauTxt: c.tauTxt };
    it(`${c.name}: oracle, CPU, repeat, async, DeviceArray`, async () => {
      const got = coordinationScores(c, { ...options, device: 'cuda' });
      expect(got.roles).toBeInstanceOf(Int8Array);
      const ref = coordinationScoresRef(c, { tauVis: c.tauVis ?? 0, tauTxt: c.tauTxt ?? 0.05 });
      expect(Array.from(got.roles)).toEqual(Array.from(ref.roles));
      expectAllClose(got.alignment, ref.alignment, { abs: 1e-7, rel: 0 }, 'alignment');
      expectAllClose(got.sequenceScore, ref.sequenceScore, SCORE_TOL, 'sequenceScore');
      const cpu = coordinationScores(c, { ...options, device: 'cpu' });
      expectBitEqual(got.roles, cpu.roles, 'roles vs CPU');
      expectBitEqual(got.alignment, cpu.alignment, 'alignment vs CPU');
      expectAllClose(got.sequenceScore, cpu.sequenceScore, SCORE_TOL, 'sequenceScore vs CPU');
      expectSameScores(coordinationScores(c, { ...options, device: 'cuda' }), got, 'repeat');
      expectSameScores(await coordinationScoresAsync(c, { ...options, device: 'cuda' }), got, 'async');

      const up = (a: Float32Array) => DeviceArray.upload(a);
      const onDevice = { frVis: up(c.frVis), frTxt: up(c.frTxt), ratioVis: up(c.ratioVis), ratioTxt: up(c.ratioTxt), mask: c.mask ? DeviceArray.upload(c.mask) : undefined };
      const out = coordinationScores({ ...onDevice, batch: c.batch, steps: c.steps }, options);
      expect(out.roles).toBeInstanceOf(DeviceArray);
      expect(out.roles.dtype).toBe('int8');
      expectBitEqual(await out.roles.download(), got.roles, 'roles from DeviceArrays');
      expectBitEqual(await out.alignment.download(), got.alignment, 'alignment from DeviceArrays');
      expectBitEqual(await out.sequenceScore.download(), got.sequenceScore, 'sequenceScore from DeviceArrays');
      for (const a of [...Object.values(onDevice), out.roles, out.alignment, out.sequenceScore]) a?.dispose();
    });
  }

  it('attentionStats → coordinationScores stays on the device and matches the host pipeline', async () => {
    const c = attentionCases().find((x) => x.name.startsWith('many rows'))!;
    const shape = { batch: c.batch, steps: c.steps, keys: c.keys, modality: c.modality, lengths: c.lengths };
    const mask = new Uint8Array(c.batch * c.steps).fill(1);
    mask.fill(0, 40, 64);
    const host = coordinationScores({ ...attentionStats(c.attn, shape, { device: 'cuda' }), mask, batch: c.batch, steps: c.steps }, { device: 'cuda' });
    const attn = DeviceArray.upload(c.attn);
    const stats = attentionStats(attn, shape);
    const scores = coordinationScores({ ...stats, mask, batch: c.batch, steps: c.steps });
    expect(scores.sequenceScore).toBeInstanceOf(DeviceArray);
    expectBitEqual(await scores.sequenceScore.download(), host.sequenceScore, 'sequenceScore');
    expectBitEqual(await scores.roles.download(), host.roles, 'roles');
    // Against the CPU pipeline: a shift within float rounding of a threshold could flip one role,
    // so roles must agree almost everywhere, and values are compared where (and for sequences
    // whose) roles agree.
    const cpu = coordinationScores({ ...attentionStats(c.attn, shape, { device: 'cpu' }), mask, batch: c.batch, steps: c.steps }, { device: 'cpu' });
    const agree = host.roles.map((r, i) => (r === cpu.roles[i] ? 1 : 0));
    expect(agree.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(0.999 * agree.length);
    const same = (i: number) => agree[i] === 1;
    expectAllClose(host.alignment.filter((_, i) => same(i)), cpu.alignment.filter((_, i) => same(i)), CPU_RATIO_TOL, 'alignment');
    const whole = Array.from({ length: c.batch }, (_, b) => agree.subarray(b * c.steps, (b + 1) * c.steps).every((x) => x === 1));
    expectAllClose(host.sequenceScore.filter((_, b) => whole[b]), cpu.sequenceScore.filter((_, b) => whole[b]), { abs: 1e-6, rel: 1e-6 }, 'sequenceScore');
    for (const a of [attn, stats.ratioVis, stats.ratioTxt, stats.frVis, stats.frTxt, scores.roles, scores.alignment, scores.sequenceScore]) a.dispose();
  });
});
