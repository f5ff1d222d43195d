/**
 * `VisualTask`: the built-in verifiable visual-reasoning task. Examples are generated on the fly
 * from a seed (nothing is downloaded): a procedural scene ({@link generateScene}), its rendered
 * image, a question about it ({@link askQuestion}), the reference answer and a supervised target.
 * @packageDocumentation
 */
import type { Example, ImageShape, RewardFunction } from './types.js';
import {
  Prng,
  checkInt,
  generateScene,
  mixSeed,
  renderScene,
  resolveSceneOptions,
  sceneHash,
  MIN_CELL_SIZE,
  type ResolvedSceneOptions,
  type Scene,
} from './scene.js';
import { QUESTION_FAMILIES, askQuestion, checkFamily, type Question, type QuestionFamily } from './questions.js';
import { WordTokenizer, builtInTokenizer } from './tokenizer.js';
import { accuracyReward, formatReward } from './rewards.js';

/** Options of a {@link VisualTask}. Every field is optional. */
export interface VisualTaskOptions {
  /** Seeds every example (a safe integer). Default 0. */
  seed?: number;
  /** Grid rows, an integer in [1, 9]. Default 4. */
  rows?: number;
  /** Grid columns, an integer in [1, 9]. Default 4. */
  cols?: number;
  /** Pixels per cell side, an integer ≥ 4. Default 4 (one 4 × 4 model patch per cell). */
  cellSize?: number;
  /** Fewest objects per scene. Default 3 (at most rows·cols). */
  minObjects?: number;
  /** Most objects per scene. Default 8 (at most rows·cols). */
  maxObjects?: number;
  /** The question families to ask, used in turn (example i asks `families[i mod length]`). Default all. */
  families?: QuestionFamily[];
}

/** Which stream an example comes from. */
export type Split = 'train' | 'heldOut';

/** An example together with the scene and question it was built from (for inspection and tests). */
export interface VisualSample {
  example: Example;
  scene: Scene;
  question: Question;
}

/** The scene-hash bit each split keeps (see {@link VisualTask}). */
const SPLIT_BIT: Readonly<Record<Split, number>> = { train: 0, heldOut: 1 };
/** Distinct stream tags so that train index i and held-out index i draw unrelated scenes. */
const SPLIT_TAG: Readonly<Record<Split, number>> = { train: 0x74726e, heldOut: 0x686c64 };
/**
 * Scene draws per example before giving up. Each draw is kept with probability ≈ ½ (the split bit),
 * so running out means the settings admit (almost) no scene for this split, not bad luck.
 */
const MAX_DRAWS = 1000;

function checkSplit(split: unknown): Split {
  if (split !== 'train' && split !== 'heldOut') {
    throw new RangeError(`split must be 'train' or 'heldOut', got ${String(split)}`);
  }
  return split;
}

/**
 * The built-in visual-reasoning task.
 *
 * Example `(seed, split, index)` is a pure function of those three values (and the options): its
 * random stream is seeded with `mixSeed(seed, splitTag, index)`, so examples can be generated in any
 * order, any number of times, with bitwise-identical results.
 *
 * **Train / held-out disjointness, by construction.** Every scene has a content hash
 * ({@link sceneHash}: grid size and cells only, independent of seed, stream and rendering). Train
 * examples only use scenes whose hash has low bit 0, held-out examples only scenes whose bit is 1;
 * each stream draws scenes until one of its own half turns up (2 draws on average). Identical
 * scenes have identical hashes, so no held-out scene, and hence no held-out (image, prompt) pair,
 * can ever appear in training, for any seeds and any number of examples.
 *
 * @example
 * ```ts
 * const task = new VisualTask({ seed: 1 });
 * const ex = task.example(0, 'train'); // ex.image: Float32Array(16*16*3), ex.prompt: <image> how many red ?
 * const evalSet = task.heldOutSet(200);
 * ```
 */
export class VisualTask {
  /** The word tokenizer prompts are encoded with (the shared {@link builtInTokenizer}). */
  readonly tokenizer: WordTokenizer;
  /** `rows·cellSize × cols·cellSize × 3`. */
  readonly imageShape: ImageShape;
  /** Accuracy (answer equals the reference) and format rewards. */
  readonly rewards: { readonly accuracy: RewardFunction; readonly format: RewardFunction };
  readonly seed: number;
  readonly cellSize: number;
  readonly families: readonly QuestionFamily[];
  readonly sceneOptions: Readonly<ResolvedSceneOptions>;

  /**
   * @throws TypeError when a numeric option is not a number or `families` is not an array;
   *   RangeError for an out-of-range option, an empty `families` or an unknown family (named).
   */
  constructor(options: VisualTaskOptions = {}) {
    this.seed = checkInt('seed', options.seed ?? 0, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    this.cellSize = checkInt('cellSize', options.cellSize ?? MIN_CELL_SIZE, MIN_CELL_SIZE, 1024);
    this.sceneOptions = Object.freeze(
      resolveSceneOptions({
        rows: options.rows,
        cols: options.cols,
        minObjects: options.minObjects,
        maxObjects: options.maxObjects,
      }),
    );
    const families = options.families ?? [...QUESTION_FAMILIES];
    if (!Array.isArray(families)) throw new TypeError('families must be an array of question families');
    if (families.length === 0) throw new RangeError('families must name at least one question family');
    families.forEach((f, i) => checkFamily(f, `families[${i}]`));
    this.families = Object.freeze(families.slice());
    this.tokenizer = builtInTokenizer();
    this.imageShape = Object.freeze({
      height: this.sceneOptions.rows * this.cellSize,
      width: this.sceneOptions.cols * this.cellSize,
      channels: 3,
    });
    this.rewards = Object.freeze({ accuracy: accuracyReward, format: formatReward });
  }

  /**
   * Example `index` of `split`, with the scene and question behind it.
   * @throws RangeError for a negative or non-integer index, an unknown split, or settings under
   *   which no scene of this split can be drawn (e.g. a grid too small to have scenes of both
   *   hash halves, or so many objects that every count or sum exceeds 9).
   */
  sample(index: number, split: Split): VisualSample {
    checkInt('index', index, 0, Number.MAX_SAFE_INTEGER);
    checkSplit(split);
    const rng = new Prng(mixSeed(this.seed, SPLIT_TAG[split], index));
    const family = this.families[index % this.families.length]!;
    for (let draw = 0; draw < MAX_DRAWS; draw++) {
      const scene = generateScene(rng, this.sceneOptions);
      if ((sceneHash(scene) & 1) !== SPLIT_BIT[split]) continue;
      const question = askQuestion(scene, family, rng);
      if (question === null) continue;
      const prompt = Int32Array.from([this.tokenizer.imageId, ...this.tokenizer.encode(question.text)]);
      const example: Example = {
        id: `${split}-${index}`,
        image: renderScene(scene, this.cellSize),
        prompt,
        answer: question.answer,
        target: question.target,
      };
      return { example, scene, question };
    }
    throw new RangeError(
      `no ${split} scene with a '${family}' question found in ${MAX_DRAWS} draws: ` +
        `the grid/object settings (rows, cols, minObjects, maxObjects) leave too few usable scenes`,
    );
  }

  /**
   * Example `index` of `split` (deterministic; see the class notes). Its id is `${split}-${index}`,
   * its prompt `<image> <question words>`.
   * @throws RangeError as {@link VisualTask.sample}.
   */
  example(index: number, split: Split): Example {
    return this.sample(index, split).example;
  }

  /**
   * Examples `start … start+count−1` of `split`.
   * @throws RangeError for a negative or non-integer start or count (or as {@link VisualTask.sample}).
   */
  batch(start: number, count: number, split: Split): Example[] {
    checkInt('start', start, 0, Number.MAX_SAFE_INTEGER);
    checkInt('count', count, 0, Number.MAX_SAFE_INTEGER - start);
    checkSplit(split);
    const out: Example[] = [];
    for (let i = 0; i < count; i++) out.push(this.example(start + i, split));
    return out;
  }

  /** The first `size` held-out examples: a fixed evaluation set for this seed. */
  heldOutSet(size: number): Example[] {
    checkInt('size', size, 0, Number.MAX_SAFE_INTEGER);
    return this.batch(0, size, 'heldOut');
  }
}
