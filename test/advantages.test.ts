/**
 * groupAdvantages against the float64 oracle. Tolerance abs 1e-6 + rel 1e-5 (float64 arithmetic
 * rounded to float32; dividing by std + eps can amplify the input's float32 rounding a little).
 */
import { describe, expect, it } from 'vitest';
import { groupAdvantages } from '../lib/index.js';
import { groupAdvantagesRef } from './oracle/index.js';
import { Rng } from './helpers/prng.js';
import { expectAllClose } from './helpers/assert.js';

const TOL = { abs: 1e-6, rel: 1e-5 };

describe('groupAdvantages', () => {
  it('TSDoc example: [1,0,0,1], G = 2 → ≈ [0.707, −0.707, −0.707, 0.707]', () => {
    const got = groupAdvantages(new Float32Array([1, 0, 0, 1]), { groupSize: 2 });
    expect(got).toBeInstanceOf(Float32Array);
    const a = 0.5 / (Math.SQRT1_2 + 1e-4);
    expectAllClose(got, [a, -a, -a, a], TOL);
  });

  for (const scale of ['group', 'batch', 'none'] as const) {
    it(`scale '${scale}': random rewards, several group sizes`, () => {
      const rng = new Rng(61);
      const rewards = rng.f32(48, () => (rng.bool(0.3) ? rng.int(0, 2) : rng.normal() * 3));
      for (const groupSize of [1, 2, 4, 6, 8, 48]) {
        expectAllClose(
          groupAdvantages(rewards, { groupSize, scale }),
          groupAdvantagesRef(rewards, { groupSize, scale }),
          TOL,
          `G=${groupSize}`,
        );
      }
    });
  }

  it('custom eps', () => {
    const rng = new Rng(62);
    const r = rng.f32(12, () => rng.normal());
    for (const eps of [0, 1e-2, 1]) {
      expectAllClose(groupAdvantages(r, { groupSize: 4, eps }), groupAdvantagesRef(r, { groupSize: 4, eps }), TOL, `eps=${eps}`);
    }
  });

  it('constant groups give exactly 0; groups of one give 0', () => {
    const got = groupAdvantages(new Float32Array([1, 1, 1, 0, 0, 0, 0.5, 0.5, 0.5]), { groupSize: 3 });
    expect(Array.from(got)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(groupAdvantages(new Float32Array([3, -1, 2]), { groupSize: 1 }))).toEqual([0, 0, 0]);
    expect(Array.from(groupAdvantages(new Float32Array([3, -1, 2]), { groupSize: 1, scale: 'batch' }))).toEqual([0, 0, 0]);
  });

  it("'batch' uses the whole-batch std but the per-group mean", () => {
    const r = new Float32Array([0, 2, 10, 12]);
    // group means 1 and 11; batch std (unbiased) of [0,2,10,12] = sqrt(((-6)²+(-4)²+4²+6²)/3) = sqrt(104/3)
    const s = Math.sqrt(104 / 3);
    expectAllClose(groupAdvantages(r, { groupSize: 2, scale: 'batch' }), [-1 / (s + 1e-4), 1 / (s + 1e-4), -1 / (s + 1e-4), 1 / (s + 1e-4)], TOL);
    expectAllClose(groupAdvantages(r, { groupSize: 2, scale: 'none' }), [-1, 1, -1, 1], TOL);
  });

  it('empty rewards give an empty Float32Array', () => {
    const out = groupAdvantages(new Float32Array(0), { groupSize: 4 });
    expect(out).toBeInstanceOf(Float32Array);
    expect(out.length).toBe(0);
  });
});
