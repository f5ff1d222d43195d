/**
 * A rollout cut into groups (one prompt and its G completions), so that dynamic sampling can drop
 * groups without reward variance and refill them from another generate call, and the kept groups
 * can be put back together into one training batch.
 * @packageDocumentation
 */
import type { CompletionBatch, Rollout } from '../policy.js';
import type { Example } from '../task/types.js';

export interface CompletionGroup {
  example: Example;
  /** Per completion: `[G × steps]` rows of the rollout's arrays. */
  tokens: Int32Array;
  mask: Uint8Array;
  logprobs: Float32Array;
  ratioVis: Float32Array;
  ratioTxt: Float32Array;
  frVis: Float32Array;
  frTxt: Float32Array;
  lengths: Int32Array;
  truncated: Uint8Array;
  /** Per completion: decoded text and total reward (filled by the trainer). */
  texts: string[];
  rewards: Float32Array;
  /** Per completion and reward function: that function's reward. */
  rewardParts: Record<string, Float32Array>;
}

/** Splits a rollout of `examples.length` prompts × G completions into groups. */
export function splitRollout(rollout: Rollout, examples: Example[]): CompletionGroup[] {
  const G = rollout.groupSize;
  const T = rollout.steps;
  return examples.map((example, p) => {
    const rows = <A extends Int32Array | Uint8Array | Float32Array>(a: A): A => a.slice(p * G * T, (p + 1) * G * T) as A;
    return {
      example,
      tokens: rows(rollout.tokens),
      mask: rows(rollout.mask),
      logprobs: rows(rollout.logprobs),
      ratioVis: rows(rollout.ratioVis),
      ratioTxt: rows(rollout.ratioTxt),
      frVis: rows(rollout.frVis),
      frTxt: rows(rollout.frTxt),
      lengths: rollout.lengths.slice(p * G, (p + 1) * G),
      truncated: rollout.truncated.slice(p * G, (p + 1) * G),
      texts: [],
      rewards: new Float32Array(G),
      rewardParts: {},
    };
  });
}

/** The groups' concatenated arrays: a training batch plus the per-token DyCo signals. */
export interface AssembledBatch extends CompletionBatch {
  batch: number;
  groupSize: number;
  logprobs: Float32Array;
  ratioVis: Float32Array;
  ratioTxt: Float32Array;
  frVis: Float32Array;
  frTxt: Float32Array;
  lengths: Int32Array;
  truncated: Uint8Array;
  rewards: Float32Array;
}

function concat<A extends Int32Array | Uint8Array | Float32Array>(parts: A[], make: (n: number) => A): A {
  const out = make(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p as never, offset);
    offset += p.length;
  }
  return out;
}

export function assembleGroups(groups: CompletionGroup[], groupSize: number, steps: number, temperature: number): AssembledBatch {
  const f32 = (n: number) => new Float32Array(n);
  return {
    images: concat(groups.map((g) => g.example.image), f32),
    prompts: groups.map((g) => g.example.prompt),
    groupSize,
    steps,
    temperature,
    batch: groups.length * groupSize,
    tokens: concat(groups.map((g) => g.tokens), (n) => new Int32Array(n)),
    mask: concat(groups.map((g) => g.mask), (n) => new Uint8Array(n)),
    logprobs: concat(groups.map((g) => g.logprobs), f32),
    ratioVis: concat(groups.map((g) => g.ratioVis), f32),
    ratioTxt: concat(groups.map((g) => g.ratioTxt), f32),
    frVis: concat(groups.map((g) => g.frVis), f32),
    frTxt: concat(groups.map((g) => g.frTxt), f32),
    lengths: concat(groups.map((g) => g.lengths), (n) => new Int32Array(n)),
    truncated: concat(groups.map((g) => g.truncated), (n) => new Uint8Array(n)),
    rewards: concat(groups.map((g) => g.rewards), f32),
  };
}

/** Whether a group's rewards differ at all (a group without variance has zero advantages). */
export function hasRewardVariance(group: CompletionGroup): boolean {
  return group.rewards.some((r) => r !== group.rewards[0]);
}
