import { addon } from './native.js';

/** Options of {@link groupAdvantages} (method §5). */
export interface GroupAdvantageOptions {
  /** Completions per prompt, G; must divide the number of rewards. */
  groupSize: number;
  /**
   * `'group'` (default): divide by the group's unbiased std; `'batch'`: by the std over all rewards;
   * `'none'`: only subtract the group mean.
   */
  scale?: 'group' | 'batch' | 'none';
  /** Added to the std before dividing. Default 1e-4. */
  eps?: number;
}

/**
 * Group-relative advantages: `A_b = (R_b − mean_g) / (std + eps)` within each group of G
 * consecutive completions (float64; a group of one has std 0).
 * @param rewards - `Float32Array(batch)` of finite total rewards.
 * @example
 * ```ts
 * groupAdvantages(new Float32Array([1, 0, 0, 1]), { groupSize: 2 }); // ≈ [0.707, -0.707, -0.707, 0.707]
 * ```
 */
export function groupAdvantages(rewards: Float32Array, options: GroupAdvantageOptions): Float32Array {
  return addon.groupAdvantages(rewards, options);
}
