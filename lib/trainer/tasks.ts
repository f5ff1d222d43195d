/**
 * TrainingTask adapters: the built-in visual-reasoning task, and a user's examples (e.g. from
 * JSONL) split into train and held-out parts and visited in a seeded order, epoch after epoch.
 * @packageDocumentation
 */
import { VisualTask, type VisualTaskOptions } from '../task/visual-task.js';
import type { Example, ImageShape, RewardFunction, Tokenizer } from '../task/types.js';
import { accuracyReward, formatReward } from '../task/rewards.js';
import type { TrainingTask } from './training-task.js';
import { mulberry32 } from '../random.js';

/** The built-in task (procedural scenes and questions; nothing is downloaded). */
export function builtInTask(options: VisualTaskOptions = {}): TrainingTask {
  const task = new VisualTask(options);
  return {
    name: 'visual-reasoning',
    tokenizer: task.tokenizer,
    imageShape: task.imageShape,
    trainExample: (index) => task.example(index, 'train'),
    heldOut: (size) => task.heldOutSet(size),
    rewards: { accuracy: task.rewards.accuracy, format: task.rewards.format },
  };
}

export interface ExampleTaskOptions {
  name: string;
  tokenizer: Tokenizer;
  imageShape: ImageShape;
  /** Share of the examples held out (the last ones after a seeded shuffle). Default 0.1. */
  heldOutFraction?: number;
  seed?: number;
  /** Default: accuracy and format, as for the built-in task. */
  rewards?: Record<string, RewardFunction>;
}

function shuffled(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const random = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** A fixed list of examples as a task: train indices wrap around in a reshuffled order per epoch. */
export function exampleTask(examples: Example[], options: ExampleTaskOptions): TrainingTask {
  if (examples.length < 2) throw new RangeError(`${options.name}: need at least 2 examples (got ${examples.length})`);
  const seed = options.seed ?? 0;
  const order = shuffled(examples.length, seed);
  const heldCount = Math.min(examples.length - 1, Math.max(1, Math.round(examples.length * (options.heldOutFraction ?? 0.1))));
  const heldOut = order.slice(examples.length - heldCount).map((i) => examples[i]!);
  const train = order.slice(0, examples.length - heldCount).map((i) => examples[i]!);
  const epochs = new Map<number, number[]>();
  return {
    name: options.name,
    tokenizer: options.tokenizer,
    imageShape: options.imageShape,
    trainExample(index) {
      const epoch = Math.floor(index / train.length);
      let perm = epochs.get(epoch);
      if (!perm) {
        perm = shuffled(train.length, seed * 1_000_003 + epoch + 1);
        if (epochs.size > 8) epochs.clear();
        epochs.set(epoch, perm);
      }
      return train[perm[index % train.length]!]!;
    },
    heldOut: (size) => heldOut.slice(0, size),
    rewards: options.rewards ?? { accuracy: accuracyReward, format: formatReward },
  };
}
