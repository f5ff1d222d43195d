/**
 * What the trainer trains on: deterministic training examples by index (so a resumed run sees the
 * same prompts), a held-out split, a tokenizer and named reward functions.
 * @packageDocumentation
 */
import type { Example, ImageShape, RewardFunction, Tokenizer } from '../task/types.js';

export interface TrainingTask {
  readonly name: string;
  readonly tokenizer: Tokenizer;
  readonly imageShape: ImageShape;
  /** Training example number `index` (any index ≥ 0; the same index always gives the same example). */
  trainExample(index: number): Example;
  /** The first `size` held-out examples (fewer if the split is smaller). */
  heldOut(size: number): Example[];
  /** Named rewards; the total reward is their weighted sum (default weight 1). */
  readonly rewards: Record<string, RewardFunction>;
}
