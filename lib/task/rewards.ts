/**
 * Verifiable rewards for completions of the form `<think> … </think> <answer> … </answer>`:
 * answer accuracy against the example's reference, and adherence to the format.
 * @packageDocumentation
 */
import type { RewardContext, RewardFunction } from './types.js';

const THINK_OPEN = '<think>';
const THINK_CLOSE = '</think>';
const ANSWER_OPEN = '<answer>';
const ANSWER_CLOSE = '</answer>';
const TAGS: ReadonlySet<string> = new Set([THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE]);

/**
 * The answer in a completion: the text between the last `<answer>` and the first `</answer>` after
 * it, trimmed. The last one counts so that a model restating the format in its reasoning is judged
 * on its final answer.
 * @param completion - The decoded completion.
 * @returns The answer text, or null when there is no `<answer>` followed by a `</answer>`.
 * @throws TypeError when `completion` is not a string.
 * @example
 * ```ts
 * parseAnswer('<think> count red </think> <answer> 3 </answer>'); // '3'
 * parseAnswer('<think> count red </think> 3'); // null
 * ```
 */
export function parseAnswer(completion: string): string | null {
  if (typeof completion !== 'string') throw new TypeError(`completion must be a string, got ${typeof completion}`);
  const open = completion.lastIndexOf(ANSWER_OPEN);
  if (open < 0) return null;
  const start = open + ANSWER_OPEN.length;
  const close = completion.indexOf(ANSWER_CLOSE, start);
  if (close < 0) return null;
  return completion.slice(start, close).trim();
}

/**
 * 1 when the parsed answer ({@link parseAnswer}) equals `example.answer` exactly, else 0 (also 0 when
 * there is no answer). A completion cut at the length limit still counts if its answer is closed.
 */
export const accuracyReward: RewardFunction = ({ completion, example }: RewardContext): number =>
  parseAnswer(completion) === example.answer ? 1 : 0;

/**
 * 1 when the completion ended with EOS (`finished`) and its words are exactly
 * `<think> w* </think> <answer> w+ </answer>`: any number of reasoning words (none is fine), at
 * least one answer word, nothing before or after, and no tag anywhere else. Otherwise 0.
 *
 * Words are compared after splitting on whitespace, so the check is about the token sequence (which
 * is what the word-level policy produces), not about spacing.
 */
export const formatReward: RewardFunction = ({ completion, finished }: RewardContext): number => {
  if (!finished || typeof completion !== 'string') return 0;
  const words = completion.split(/\s+/).filter((w) => w !== '');
  if (words[0] !== THINK_OPEN || words[words.length - 1] !== ANSWER_CLOSE) return 0;
  const thinkClose = words.indexOf(THINK_CLOSE);
  if (thinkClose < 0 || words[thinkClose + 1] !== ANSWER_OPEN) return 0;
  // Between the tags: reasoning words (≥ 0) and answer words (≥ 1), none of them a tag.
  const answerWords = words.length - 1 - (thinkClose + 2);
  if (answerWords < 1) return 0;
  for (let i = 1; i < words.length - 1; i++) {
    if (i === thinkClose || i === thinkClose + 1) continue;
    if (TAGS.has(words[i]!)) return 0;
  }
  return 1;
};
