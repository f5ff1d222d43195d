/** Float64 reference for group-relative advantages (method §5). */
import { mean, unbiasedStd } from './coordination.js';

export interface GroupAdvantageOptionsRef {
  groupSize: number;
  scale?: 'group' | 'batch' | 'none';
  eps?: number;
}

/**
 * A_b = (R_b − mean_g) / (std + eps): mean over b's group of G consecutive completions; std
 * unbiased over the group ('group'), over the whole batch ('batch'), or no division ('none').
 * A scope of one entry has std 0.
 */
export function groupAdvantagesRef(rewards: ArrayLike<number>, options: GroupAdvantageOptionsRef): Float64Array {
  const { groupSize: G } = options;
  const scale = options.scale ?? 'group';
  const eps = options.eps ?? 1e-4;
  const n = rewards.length;
  const out = new Float64Array(n);
  const batchStd = unbiasedStd(rewards, 0, n);
  for (let lo = 0; lo < n; lo += G) {
    const m = mean(rewards, lo, lo + G);
    const s = scale === 'group' ? unbiasedStd(rewards, lo, lo + G) : batchStd;
    for (let i = lo; i < lo + G; i++) {
      const centred = rewards[i]! - m;
      out[i] = scale === 'none' ? centred : centred / (s + eps);
    }
  }
  return out;
}
