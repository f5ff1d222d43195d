/**
 * The full DyCo-RL pipeline of method §7 (attention → stats → roles/scores → normalised scores →
 * group advantages → reweighting → loss) through the native API, compared stage by stage with the
 * float64 oracle fed the same inputs. Tolerances: as in the per-function files, loosened to
 * abs 1e-5 + rel 1e-4 where float32 rounding of intermediate stages compounds.
 */
import { describe, expect, it } from 'vitest';
import {
  attentionStats,
  coordinationScores,
  groupAdvantages,
  Modality,
  normalizeScores,
  policyLoss,
  reweightAdvantages,
} from '../lib/index.js';
import {
  attentionStatsRef,
  coordinationScoresRef,
  groupAdvantagesRef,
  normalizeScoresRef,
  policyLossRef,
  reweightAdvantagesRef,
} from './oracle/index.js';
import { Rng } from './helpers/prng.js';
import { expectAllClose, expectClose } from './helpers/assert.js';

describe('pipeline', () => {
  it('README-shaped example runs and agrees with the oracle', () => {
    const rng = new Rng(81);
    const batch = 8;
    const G = 4;
    const steps = 12;
    const prompt = 1 + 16 + 5;
    const keys = prompt + steps;
    const modality = new Uint8Array(keys);
    for (let k = 0; k < keys; k++) modality[k] = k === 0 ? Modality.Other : k <= 16 ? Modality.Vision : Modality.Text;
    const lengths = new Int32Array(batch * steps);
    for (let b = 0; b < batch; b++) for (let t = 0; t < steps; t++) lengths[b * steps + t] = prompt + t;
    const attn = rng.probRows(batch * steps, keys, 1.2);
    const shape = { batch, steps, keys, modality, lengths };

    const stats = attentionStats(attn, shape);
    const mask = new Uint8Array(batch * steps);
    const L = new Int32Array(batch);
    for (let b = 0; b < batch; b++) {
      L[b] = rng.int(3, steps);
      mask.fill(1, b * steps, b * steps + L[b]!);
    }
    const scores = coordinationScores({ ...stats, mask, batch, steps });
    // oracle on the kernel's float32 stats, so role decisions are taken on identical inputs
    const scoresRef = coordinationScoresRef({ ...stats, mask, batch, steps });
    expect(Array.from(scores.roles)).toEqual(Array.from(scoresRef.roles));
    // and the stats themselves agree with the oracle
    const statsRef = attentionStatsRef(attn, shape);
    expectAllClose(stats.ratioVis, statsRef.ratioVis, { abs: 1e-7, rel: 1e-5 });

    const nHat = normalizeScores(scores.sequenceScore, { groupSize: G });
    expectAllClose(nHat, normalizeScoresRef(scores.sequenceScore, { groupSize: G }), { abs: 1e-6, rel: 1e-5 });

    const rewards = Float32Array.from({ length: batch }, () => rng.int(0, 2));
    const adv = groupAdvantages(rewards, { groupSize: G });
    expectAllClose(adv, groupAdvantagesRef(rewards, { groupSize: G }), { abs: 1e-6, rel: 1e-5 });

    const opts = { lengths: L, minLength: 5 };
    const advW = reweightAdvantages(adv, nHat, opts);
    expectAllClose(advW, reweightAdvantagesRef(adv, nHat, opts), { abs: 1e-6, rel: 1e-5 });

    const logp = rng.f32(batch * steps, () => -rng.range(0.05, 3));
    const oldLogp = rng.f32(batch * steps, (i) => logp[i]! + 0.1 * rng.normal());
    const inputs = { logp, oldLogp, advantages: advW, mask, batch, steps };
    for (const algorithm of ['grpo', 'dapo', 'gspo', 'sapo'] as const) {
      const got = policyLoss(inputs, { algorithm });
      const ref = policyLossRef(inputs, { algorithm });
      expectClose(got.loss, ref.loss, { abs: 1e-6, rel: 1e-5 }, `${algorithm} loss`);
      expectAllClose(got.grad, ref.grad, { abs: 1e-6, rel: 1e-4 }, `${algorithm} grad`);
    }
  });
});
