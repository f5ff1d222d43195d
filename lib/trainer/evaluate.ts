/**
 * Held-out evaluation: greedy completions (temperature 0, so evaluation never draws from the
 * policy's sampler and a resumed run samples exactly as an uninterrupted one) scored by the task's
 * reward functions.
 * @packageDocumentation
 */
import type { Policy } from '../policy.js';
import type { Example } from '../task/types.js';
import type { TrainingTask } from './training-task.js';

export interface EvaluationResult {
  /** Mean of the task's `accuracy` reward (or of the total reward when it has none). */
  accuracy: number;
  /** Mean of each reward function. */
  rewards: Record<string, number>;
  examples: number;
}

const chunk = 64;

/** Decodes completion row `b` of a `[batch × steps]` token array up to its length. */
export function decodeRow(task: TrainingTask, tokens: Int32Array, steps: number, b: number, length: number): string {
  return task.tokenizer.decode(tokens.subarray(b * steps, b * steps + length));
}

export async function evaluate(policy: Policy, task: TrainingTask, examples: Example[], maxNewTokens: number): Promise<EvaluationResult> {
  const names = Object.keys(task.rewards);
  const sums: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (let start = 0; start < examples.length; start += chunk) {
    const part = examples.slice(start, start + chunk);
    const rollout = await policy.generate({
      images: part.map((e) => e.image),
      prompts: part.map((e) => e.prompt),
      groupSize: 1,
      maxNewTokens,
      temperature: 0,
      eosId: task.tokenizer.eosId,
      padId: task.tokenizer.padId,
      statistics: false,
    });
    for (let b = 0; b < part.length; b++) {
      const completion = decodeRow(task, rollout.tokens, rollout.steps, b, rollout.lengths[b]!);
      const finished = rollout.truncated[b] === 0;
      for (const name of names) sums[name]! += await task.rewards[name]!({ completion, finished, example: part[b]! });
    }
  }
  const n = Math.max(examples.length, 1);
  const rewards = Object.fromEntries(names.map((name) => [name, sums[name]! / n]));
  const accuracy = 'accuracy' in rewards ? rewards.accuracy! : names.reduce((s, name) => s + rewards[name]!, 0);
  return { accuracy, rewards, examples: examples.length };
}
