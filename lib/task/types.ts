/**
 * The contract between a task (the built-in visual-reasoning task, or a user's JSONL data) and the
 * trainer: examples with an image and a tokenised prompt, a tokenizer, and reward functions.
 * @packageDocumentation
 */

/** Text ↔ token ids. Ids `padId`, `imageId`, `eosId` are reserved and never produced by `encode` from words. */
export interface Tokenizer {
  readonly vocabSize: number;
  /** Written after a sequence ends. */
  readonly padId: number;
  /** Stands for the image in a prompt (the model's `imageTokenId`). */
  readonly imageId: number;
  /** Ends a completion. */
  readonly eosId: number;
  /** Token ids of `text` (no EOS added). Throws RangeError naming the first piece it cannot encode. */
  encode(text: string): number[];
  /** Text of `ids`, stopping at the first EOS; pad and image tokens are skipped. */
  decode(ids: ArrayLike<number>): string;
}

/** One prompt: an image, the prompt's token ids (containing `imageId` once) and the reference answer. */
export interface Example {
  id: string;
  /** `height × width × channels` values in [0, 1], row-major. */
  image: Float32Array;
  /** Prompt token ids, with the tokenizer's `imageId` exactly once. */
  prompt: Int32Array;
  /** The reference answer, as the accuracy reward compares it. */
  answer: string;
  /** A full correct completion (reasoning and answer, no EOS) for the supervised warm start. */
  target: string;
}

/** What a reward function sees for one completion. */
export interface RewardContext {
  /** The decoded completion, up to (not including) EOS. */
  completion: string;
  /** Whether the completion ended with EOS (false: cut at the length limit). */
  finished: boolean;
  example: Example;
}

/** A reward in [0, 1] (by convention) for one completion; may be async. */
export type RewardFunction = (context: RewardContext) => number | Promise<number>;

/** Image geometry the examples share. */
export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}
