/**
 * The word-level tokenizer of the built-in visual task: one id per word of a fixed vocabulary that
 * covers every prompt, reasoning phrase and answer the task produces, and fits the tiny-vl model's
 * default vocabulary of 64.
 * @packageDocumentation
 */
import type { Tokenizer } from './types.js';
import { COLORS, SHAPES } from './scene.js';

/** Reserved tokens, at fixed ids: 0 pad, 1 image (the model's default `imageTokenId`), 2 EOS. */
const RESERVED = ['<pad>', '<image>', '<eos>'] as const;

/**
 * The vocabulary, id = position. Reserved tokens first, then the completion's tags, then digits
 * (counts, sums and 1-based grid positions), answer words, and the words of questions and reasoning.
 */
const VOCABULARY: readonly string[] = Object.freeze([
  ...RESERVED,
  '<think>',
  '</think>',
  '<answer>',
  '</answer>',
  '?',
  ...Array.from({ length: 10 }, (_, d) => String(d)),
  ...COLORS,
  ...SHAPES,
  'none',
  'yes',
  'no',
  // question words
  'how',
  'many',
  'color',
  'shape',
  'at',
  'more',
  'than',
  'plus',
  // reasoning words
  'count',
  'look',
  'compare',
  'add',
]);

/**
 * A fixed word vocabulary ({@link WordTokenizer.vocabulary}); text is split on whitespace.
 *
 * `<pad>` (0), `<image>` (1) and `<eos>` (2) are reserved: `encode` refuses them as words (the
 * {@link Tokenizer} contract), so a prompt's image token is added by id, never parsed from text.
 */
export class WordTokenizer implements Tokenizer {
  /** Words by id. */
  readonly vocabulary: readonly string[];
  readonly vocabSize: number;
  readonly padId = 0;
  readonly imageId = 1;
  readonly eosId = 2;
  private readonly ids: ReadonlyMap<string, number>;

  /** @param vocabulary - Words by id; the first three must be `<pad>`, `<image>`, `<eos>`. Default: the task's vocabulary. */
  constructor(vocabulary: readonly string[] = VOCABULARY) {
    if (!Array.isArray(vocabulary)) throw new TypeError('vocabulary must be an array of strings');
    RESERVED.forEach((w, i) => {
      if (vocabulary[i] !== w) throw new RangeError(`vocabulary[${i}] must be '${w}', got ${String(vocabulary[i])}`);
    });
    const ids = new Map<string, number>();
    vocabulary.forEach((w, i) => {
      if (typeof w !== 'string' || w === '' || /\s/.test(w)) {
        throw new RangeError(`vocabulary[${i}] must be a non-empty word without whitespace, got ${JSON.stringify(w)}`);
      }
      if (ids.has(w)) throw new RangeError(`vocabulary has '${w}' twice (ids ${ids.get(w)} and ${i})`);
      ids.set(w, i);
    });
    this.vocabulary = Object.freeze(vocabulary.slice());
    this.vocabSize = vocabulary.length;
    this.ids = ids;
  }

  /**
   * Token ids of the whitespace-separated words of `text` (no EOS added). Empty text gives [].
   * @throws TypeError when `text` is not a string; RangeError naming the first word that is not in
   *   the vocabulary or is a reserved token.
   */
  encode(text: string): number[] {
    if (typeof text !== 'string') throw new TypeError(`text must be a string, got ${typeof text}`);
    const out: number[] = [];
    for (const word of text.split(/\s+/)) {
      if (word === '') continue;
      const id = this.ids.get(word);
      if (id === undefined) throw new RangeError(`cannot encode word '${word}': not in the vocabulary`);
      if (id === this.padId || id === this.imageId || id === this.eosId) {
        throw new RangeError(`cannot encode word '${word}': reserved token (id ${id}), add it by id`);
      }
      out.push(id);
    }
    return out;
  }

  /**
   * Words of `ids` joined by single spaces, stopping at the first EOS; pad and image ids are skipped.
   * @throws RangeError naming the index of an id that is not an integer in [0, vocabSize).
   */
  decode(ids: ArrayLike<number>): string {
    const words: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new RangeError(`ids[${i}] = ${id} is not a token id in [0, ${this.vocabSize})`);
      }
      if (id === this.eosId) break;
      if (id === this.padId || id === this.imageId) continue;
      words.push(this.vocabulary[id]!);
    }
    return words.join(' ');
  }
}

let singleton: WordTokenizer | undefined;

/** The built-in task's tokenizer (one shared instance; it is immutable). */
export function builtInTokenizer(): WordTokenizer {
  singleton ??= new WordTokenizer();
  return singleton;
}
