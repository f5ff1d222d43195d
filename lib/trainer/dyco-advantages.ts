/**
 * Advantages for one RL step (method §5 then §4): group-relative advantages from the rewards, then
 * DyCo's reweighting from the streamed attention statistics, composed from the kernel core.
 *
 * The token-level variant (`dyco: 'token'`) is ours. The sequence variant gives every token of a
 * completion the weight of the completion's coordination score; the token variant weighs each
 * active (non-neutral) token by its own alignment instead: the alignments of all active tokens of
 * the step are z-scored and squashed like sequence scores (`ẑ = tanh((s − mean) / std)`), and
 * token t of completion b gets `Â_{b,t} = A_b · clamp(1 + α·ẑ_{b,t}, min, max)`. Neutral tokens
 * (step 0, shifts within the thresholds) keep `A_b`. So inside a rewarded completion the tokens
 * that looked where their role says get more credit and the others less; in a penalised one, the
 * aligned tokens are pushed down harder, which is the same sign convention as the sequence form.
 * @packageDocumentation
 */
import { groupAdvantages } from '../advantages.js';
import { coordinationScores, normalizeScores, reweightAdvantages } from '../coordination.js';
import type { ResolvedTrainerConfig } from './config.js';
import type { AssembledBatch } from './rollout-groups.js';

export interface StepAdvantages {
  /** `Float32Array(batch)` (sequence or off) or `Float32Array(batch × steps)` (token). */
  advantages: Float32Array;
  /** Shares of unmasked tokens by DyCo role (step-0 tokens count as neutral). */
  roleShares: { vision: number; text: number; neutral: number };
  /** Mean weight `Â/A` over sequences with `A ≠ 0` (1 when DyCo is off). */
  meanWeight: number;
}

export function stepAdvantages(batch: AssembledBatch, config: ResolvedTrainerConfig): StepAdvantages {
  const base = groupAdvantages(batch.rewards, { groupSize: batch.groupSize, scale: config.advantageScale });
  const { batch: B, steps: T } = batch;
  const o = config.dycoOptions;
  const coordination = coordinationScores(
    { ratioVis: batch.ratioVis, ratioTxt: batch.ratioTxt, frVis: batch.frVis, frTxt: batch.frTxt, mask: batch.mask, batch: B, steps: T },
    { tauVis: o.tauVis, tauTxt: o.tauTxt },
  );
  let vision = 0;
  let text = 0;
  let tokens = 0;
  for (let i = 0; i < B * T; i++) {
    if (!batch.mask[i]) continue;
    tokens++;
    if (coordination.roles[i] === 1) vision++;
    else if (coordination.roles[i] === -1) text++;
  }
  const roleShares = tokens === 0 ? { vision: 0, text: 0, neutral: 0 } : { vision: vision / tokens, text: text / tokens, neutral: (tokens - vision - text) / tokens };

  const weightOptions = { alpha: o.alpha, min: o.min, max: o.max };
  let advantages = base;
  if (config.dyco === 'sequence') {
    const normalized = normalizeScores(coordination.sequenceScore, o.scope === 'group' ? { groupSize: batch.groupSize } : {});
    advantages = reweightAdvantages(base, normalized, { ...weightOptions, lengths: batch.lengths, minLength: o.minLength });
  } else if (config.dyco === 'token') {
    advantages = new Float32Array(B * T);
    const active: number[] = [];
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const i = b * T + t;
        advantages[i] = base[b]!;
        if (batch.mask[i] && coordination.roles[i] !== 0) active.push(i);
      }
    }
    if (active.length > 1) {
      // Each active token is one "entry" of the kernel core's normalise-and-reweight.
      const z = normalizeScores(Float32Array.from(active, (i) => coordination.alignment[i]!));
      const weighted = reweightAdvantages(Float32Array.from(active, (i) => base[Math.floor(i / T)]!), z, weightOptions);
      active.forEach((i, k) => (advantages[i] = weighted[k]!));
    }
  }
  let weightSum = 0;
  let weighted = 0;
  if (advantages.length === B) {
    for (let b = 0; b < B; b++) {
      if (base[b] === 0) continue;
      weightSum += advantages[b]! / base[b]!;
      weighted++;
    }
  } else {
    for (let i = 0; i < B * T; i++) {
      const a = base[Math.floor(i / T)]!;
      if (!batch.mask[i] || a === 0) continue;
      weightSum += advantages[i]! / a;
      weighted++;
    }
  }
  return { advantages, roleShares, meanWeight: weighted === 0 ? 1 : weightSum / weighted };
}
