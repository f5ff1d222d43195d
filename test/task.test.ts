/**
 * The built-in visual task (lib/task) against independent oracles.
 *
 * The oracles here do not reuse the library's scene helpers: the test has its own shape templates
 * and colour table, decodes every generated image back into a grid of (shape, colour) cells, parses
 * the question text with its own regular expressions, and recomputes each answer from the decoded
 * grid. So a generated example is only accepted when image, prompt and answer agree with each other
 * as a human reading them would.
 */
import { describe, expect, it } from 'vitest';
import {
  QUESTION_FAMILIES,
  VisualTask,
  WordTokenizer,
  accuracyReward,
  builtInTokenizer,
  formatReward,
  parseAnswer,
  renderScene,
  shapePattern,
  type Example,
  type QuestionFamily,
  type Scene,
  type SceneObject,
} from '../lib/task/index.js';

// ---------------------------------------------------------------------------------------------
// Independent oracle: templates, colours, image decoding, question answering.

/** 4 × 4 patterns as specified for the task ('#' drawn). */
const T_TEMPLATES: Record<string, string[]> = {
  square: ['####', '####', '####', '####'],
  cross: ['.##.', '####', '####', '.##.'],
  dot: ['....', '.##.', '.##.', '....'],
  bar: ['....', '####', '####', '....'],
};
const T_RGB: Record<string, [number, number, number]> = {
  red: [1, 0, 0],
  green: [0, 1, 0],
  blue: [0, 0, 1],
  yellow: [1, 1, 0],
};
const T_SHAPES = Object.keys(T_TEMPLATES);
const T_COLORS = Object.keys(T_RGB);

interface Cell {
  shape: string;
  color: string;
}

/** Reads a 4-pixel-cell image back into cells; throws when a cell matches no (shape, colour). */
function decodeImage(image: Float32Array, rows: number, cols: number): (Cell | null)[] {
  const s = 4;
  const width = cols * s;
  expect(image.length).toBe(rows * s * width * 3);
  const out: (Cell | null)[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let mask = '';
      let rgb: string | null = null;
      for (let y = 0; y < s; y++) {
        for (let x = 0; x < s; x++) {
          const p = ((r * s + y) * width + c * s + x) * 3;
          const px = [image[p]!, image[p + 1]!, image[p + 2]!];
          const on = px.some((v) => v !== 0);
          mask += on ? '#' : '.';
          if (on) {
            const key = px.join(',');
            if (rgb !== null && rgb !== key) throw new Error(`cell (${r}, ${c}) mixes colours ${rgb} and ${key}`);
            rgb = key;
          }
        }
      }
      if (rgb === null) {
        out.push(null);
        continue;
      }
      const color = T_COLORS.find((k) => T_RGB[k]!.join(',') === rgb);
      const shape = T_SHAPES.find((k) => T_TEMPLATES[k]!.join('') === mask);
      if (color === undefined || shape === undefined) throw new Error(`cell (${r}, ${c}) is not a known object: ${rgb} ${mask}`);
      out.push({ shape, color });
    }
  }
  return out;
}

function count(cells: (Cell | null)[], attr: string): number {
  return cells.filter((o) => o !== null && (o.color === attr || o.shape === attr)).length;
}

/** The answer and reasoning a reader computes from the decoded grid and the question text. */
function oracleAnswer(cells: (Cell | null)[], cols: number, question: string): { family: QuestionFamily; answer: string; reasoning: string } {
  let m: RegExpMatchArray | null;
  if ((m = question.match(/^how many (\S+) \?$/))) {
    expect([...T_COLORS, ...T_SHAPES]).toContain(m[1]);
    return { family: 'count', answer: String(count(cells, m[1]!)), reasoning: `count ${m[1]}` };
  }
  if ((m = question.match(/^(color|shape) at ([1-9]) ([1-9]) \?$/))) {
    const o = cells[(Number(m[2]) - 1) * cols + (Number(m[3]) - 1)];
    expect(o).not.toBeUndefined();
    const answer = o === null || o === undefined ? 'none' : m[1] === 'color' ? o.color : o.shape;
    return { family: m[1] === 'color' ? 'color-at' : 'shape-at', answer, reasoning: `look ${m[2]} ${m[3]}` };
  }
  if ((m = question.match(/^more (\S+) than (\S+) \?$/))) {
    const [a, b] = [m[1]!, m[2]!];
    expect(a).not.toBe(b);
    expect(T_COLORS.includes(a) === T_COLORS.includes(b)).toBe(true); // same kind
    return { family: 'compare', answer: count(cells, a) > count(cells, b) ? 'yes' : 'no', reasoning: `compare ${a} ${b}` };
  }
  if ((m = question.match(/^(\S+) plus (\S+) \?$/))) {
    const [a, b] = [m[1]!, m[2]!];
    expect(a).not.toBe(b);
    expect(T_COLORS.includes(a) === T_COLORS.includes(b)).toBe(true);
    return { family: 'sum', answer: String(count(cells, a) + count(cells, b)), reasoning: `add ${a} ${b}` };
  }
  throw new Error(`unrecognised question: ${question}`);
}

function bytesKey(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function sameExample(a: Example, b: Example): boolean {
  return (
    a.id === b.id &&
    a.answer === b.answer &&
    a.target === b.target &&
    bytesKey(a.image) === bytesKey(b.image) &&
    a.prompt.length === b.prompt.length &&
    a.prompt.every((v, i) => v === b.prompt[i])
  );
}

function ctx(completion: string, answer: string, finished = true) {
  const example: Example = { id: 'x', image: new Float32Array(0), prompt: new Int32Array([1]), answer, target: '' };
  return { completion, finished, example };
}

// ---------------------------------------------------------------------------------------------

describe('scene rendering', () => {
  it('every shape × colour at cellSize 4 draws exactly its template in its colour; everything else is 0', () => {
    // One object of each of the 16 kinds on a 4 × 4 grid, plus a second grid that is all empty.
    const cells: SceneObject[] = [];
    for (const shape of T_SHAPES) for (const color of T_COLORS) cells.push({ shape, color } as SceneObject);
    const scene: Scene = { rows: 4, cols: 4, cells };
    const image = renderScene(scene);
    expect(image).toBeInstanceOf(Float32Array);
    expect(image.length).toBe(16 * 16 * 3);
    for (let r = 0; r < 4; r++) {
      for (let c = 0; c < 4; c++) {
        const o = cells[r * 4 + c]!;
        for (let y = 0; y < 4; y++) {
          for (let x = 0; x < 4; x++) {
            const p = ((r * 4 + y) * 16 + c * 4 + x) * 3;
            const want = T_TEMPLATES[o.shape]![y]![x] === '#' ? T_RGB[o.color]! : [0, 0, 0];
            expect([image[p], image[p + 1], image[p + 2]], `cell ${r},${c} px ${y},${x}`).toEqual(want);
          }
        }
      }
    }
    const empty = renderScene({ rows: 3, cols: 2, cells: new Array(6).fill(null) });
    expect(empty.length).toBe(12 * 8 * 3);
    expect(empty.every((v) => v === 0)).toBe(true);
  });

  it('generated examples: each object cell has its colour on its shape pixels, empty cells and other pixels are 0', () => {
    const task = new VisualTask({ seed: 5 });
    for (let i = 0; i < 200; i++) {
      const { example, scene } = task.sample(i, i % 2 === 0 ? 'train' : 'heldOut');
      const decoded = decodeImage(example.image, 4, 4);
      expect(decoded).toEqual(scene.cells.map((o) => (o === null ? null : { shape: o.shape, color: o.color })));
      expect(example.image.every((v) => v === 0 || v === 1)).toBe(true);
    }
  });

  it('larger cells: multiples of 4 are exact block upscales; other sizes keep four distinct, ordered patterns', () => {
    for (const s of [8, 12]) {
      const k = s / 4;
      for (const shape of T_SHAPES) {
        const pat = shapePattern(shape as SceneObject['shape'], s);
        for (let y = 0; y < s; y++) {
          for (let x = 0; x < s; x++) {
            expect(pat[y * s + x]).toBe(T_TEMPLATES[shape]![Math.floor(y / k)]![Math.floor(x / k)] === '#' ? 1 : 0);
          }
        }
      }
    }
    for (let s = 4; s <= 13; s++) {
      const pats = T_SHAPES.map((shape) => shapePattern(shape as SceneObject['shape'], s));
      const keys = new Set(pats.map((p) => p.join('')));
      expect(keys.size, `cellSize ${s}`).toBe(4);
      const area = Object.fromEntries(T_SHAPES.map((shape, i) => [shape, pats[i]!.reduce((a, v) => a + v, 0)]));
      expect(area.square).toBe(s * s);
      expect(area.square! > area.cross! && area.cross! > area.bar! && area.bar! > area.dot! && area.dot! > 0).toBe(true);
    }
    // And the image of a larger-cell task has the matching geometry.
    const task = new VisualTask({ cellSize: 8, rows: 3, cols: 5 });
    expect(task.imageShape).toEqual({ height: 24, width: 40, channels: 3 });
    expect(task.example(0, 'train').image.length).toBe(24 * 40 * 3);
  });

  it('object counts stay in [minObjects, maxObjects] and reach both ends', () => {
    const seen = new Set<number>();
    const task = new VisualTask({ seed: 2 });
    for (let i = 0; i < 500; i++) {
      const n = task.sample(i, 'train').scene.cells.filter((o) => o !== null).length;
      expect(n).toBeGreaterThanOrEqual(3);
      expect(n).toBeLessThanOrEqual(8);
      seen.add(n);
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7, 8]);
    const custom = new VisualTask({ minObjects: 1, maxObjects: 2 });
    for (let i = 0; i < 100; i++) {
      const n = custom.sample(i, 'heldOut').scene.cells.filter((o) => o !== null).length;
      expect(n === 1 || n === 2).toBe(true);
    }
  });
});

describe('questions', () => {
  it('every family: answer and reasoning recomputed from the decoded image and the prompt text', () => {
    const task = new VisualTask({ seed: 11 });
    const tok = task.tokenizer;
    const seenFamilies = new Set<string>();
    for (const split of ['train', 'heldOut'] as const) {
      for (let i = 0; i < 1000; i++) {
        const ex = task.example(i, split);
        expect(ex.id).toBe(`${split}-${i}`);
        const question = tok.decode(ex.prompt);
        const cells = decodeImage(ex.image, 4, 4);
        const want = oracleAnswer(cells, 4, question);
        seenFamilies.add(want.family);
        // Families are asked in turn.
        expect(want.family).toBe(QUESTION_FAMILIES[i % QUESTION_FAMILIES.length]);
        expect(ex.answer, `${ex.id}: ${question}`).toBe(want.answer);
        expect(ex.target).toBe(`<think> ${want.reasoning} </think> <answer> ${want.answer} </answer>`);
        expect(ex.target.split(' ').length).toBeLessThanOrEqual(10);
        expect(ex.answer).toMatch(/^(\d|red|green|blue|yellow|square|cross|dot|bar|none|yes|no)$/);
      }
    }
    expect(seenFamilies.size).toBe(5);
  });

  it('the families option restricts (and orders) the families asked', () => {
    const task = new VisualTask({ families: ['sum', 'color-at'] });
    for (let i = 0; i < 40; i++) {
      const q = task.tokenizer.decode(task.example(i, 'train').prompt);
      expect(q).toMatch(i % 2 === 0 ? /^\S+ plus \S+ \?$/ : /^color at \d \d \?$/);
    }
  });

  it('sums and counts stay single digits even with many objects', () => {
    const task = new VisualTask({ rows: 5, cols: 5, minObjects: 20, maxObjects: 25, families: ['sum', 'count'] });
    for (let i = 0; i < 200; i++) {
      const ex = task.example(i, i % 3 === 0 ? 'heldOut' : 'train');
      expect(ex.answer).toMatch(/^\d$/);
      const cells = decodeImage(ex.image, 5, 5);
      expect(ex.answer).toBe(oracleAnswer(cells, 5, task.tokenizer.decode(ex.prompt)).answer);
    }
  });

  it('answers are not degenerate: in each family the most frequent answer is < 60% of 1000 samples', () => {
    for (const family of QUESTION_FAMILIES) {
      const task = new VisualTask({ seed: 7, families: [family] });
      const freq = new Map<string, number>();
      for (const ex of task.batch(0, 1000, 'train')) freq.set(ex.answer, (freq.get(ex.answer) ?? 0) + 1);
      const top = Math.max(...freq.values());
      expect(top, `${family}: ${JSON.stringify([...freq])}`).toBeLessThan(600);
      expect(freq.size).toBeGreaterThanOrEqual(2);
    }
  });
});

describe('determinism and splits', () => {
  it('the same (seed, split, index) gives the identical example (bitwise image), in any order, from any instance', () => {
    const a = new VisualTask({ seed: 42 });
    const b = new VisualTask({ seed: 42 });
    const forward = a.batch(0, 50, 'train');
    const backward: Example[] = [];
    for (let i = 49; i >= 0; i--) backward[i] = b.example(i, 'train');
    for (let i = 0; i < 50; i++) expect(sameExample(forward[i]!, backward[i]!)).toBe(true);
    expect(sameExample(a.example(123456789, 'heldOut'), b.example(123456789, 'heldOut'))).toBe(true);
    const set1 = a.heldOutSet(30);
    const set2 = b.batch(0, 30, 'heldOut');
    set1.forEach((ex, i) => expect(sameExample(ex, set2[i]!)).toBe(true));
  });

  it('different seeds (and different indices) give different examples', () => {
    const a = new VisualTask({ seed: 1 }).batch(0, 50, 'train');
    const b = new VisualTask({ seed: 2 }).batch(0, 50, 'train');
    const differing = a.filter((ex, i) => bytesKey(ex.image) !== bytesKey(b[i]!.image)).length;
    expect(differing).toBeGreaterThan(45);
    expect(new Set(a.map((ex) => bytesKey(ex.image))).size).toBeGreaterThan(45);
  });

  it('train (2000) and held-out (500) share no (image, prompt) pair, nor even an image', () => {
    const task = new VisualTask({ seed: 3 });
    const trainPairs = new Set<string>();
    const trainImages = new Set<string>();
    for (const ex of task.batch(0, 2000, 'train')) {
      trainImages.add(bytesKey(ex.image));
      trainPairs.add(bytesKey(ex.image) + '|' + Array.from(ex.prompt).join(','));
    }
    for (const ex of task.heldOutSet(500)) {
      expect(trainPairs.has(bytesKey(ex.image) + '|' + Array.from(ex.prompt).join(','))).toBe(false);
      expect(trainImages.has(bytesKey(ex.image))).toBe(false);
    }
  });

  it('disjointness holds by construction even where scenes repeat constantly (tiny grid)', () => {
    // A 2 × 2 grid with at most one object has only 1 + 4·16 = 65 scenes: each split repeats its
    // scenes many times over, yet no scene is in both.
    const task = new VisualTask({ seed: 9, rows: 2, cols: 2, minObjects: 0, maxObjects: 1 });
    const train = new Set(task.batch(0, 2000, 'train').map((ex) => bytesKey(ex.image)));
    const heldOut = new Set(task.heldOutSet(500).map((ex) => bytesKey(ex.image)));
    expect(train.size).toBeLessThan(65);
    expect(heldOut.size).toBeGreaterThan(10);
    for (const k of heldOut) expect(train.has(k)).toBe(false);
    // Another seed's training set does not reach this seed's held-out scenes either.
    const other = new VisualTask({ seed: 10, rows: 2, cols: 2, minObjects: 0, maxObjects: 1 });
    for (const ex of other.batch(0, 500, 'train')) expect(heldOut.has(bytesKey(ex.image))).toBe(false);
  });
});

describe('tokenizer', () => {
  const tok = builtInTokenizer();

  it('reserved ids, a vocabulary of distinct words that fits the model (≤ 64), one shared instance', () => {
    expect(tok.padId).toBe(0);
    expect(tok.imageId).toBe(1);
    expect(tok.eosId).toBe(2);
    expect(tok.vocabulary.slice(0, 3)).toEqual(['<pad>', '<image>', '<eos>']);
    expect(tok.vocabSize).toBe(tok.vocabulary.length);
    expect(tok.vocabSize).toBeLessThanOrEqual(64);
    expect(new Set(tok.vocabulary).size).toBe(tok.vocabSize);
    expect(builtInTokenizer()).toBe(tok);
    expect(new VisualTask().tokenizer).toBe(tok);
    for (const w of ['<think>', '</think>', '<answer>', '</answer>', '?', '0', '9', 'none', 'yes', 'no']) {
      expect(tok.vocabulary).toContain(w);
    }
  });

  it('every prompt and target round-trips; prompts start with the only image token', () => {
    const task = new VisualTask({ seed: 4 });
    for (const split of ['train', 'heldOut'] as const) {
      for (const ex of task.batch(0, 500, split)) {
        expect(ex.prompt).toBeInstanceOf(Int32Array);
        expect(ex.prompt[0]).toBe(tok.imageId);
        expect(Array.from(ex.prompt).filter((id) => id === tok.imageId).length).toBe(1);
        const question = tok.decode(ex.prompt);
        expect(question.endsWith(' ?')).toBe(true);
        expect(tok.encode(question)).toEqual(Array.from(ex.prompt.slice(1)));
        const ids = tok.encode(ex.target);
        expect(ids.every((id) => id > 2 && id < tok.vocabSize)).toBe(true);
        expect(tok.decode(ids)).toBe(ex.target);
        expect(tok.decode([...ids, tok.eosId, ...tok.encode('yes no')])).toBe(ex.target);
      }
    }
  });

  it('encode splits on any whitespace; unknown and reserved words are RangeErrors naming the word', () => {
    expect(tok.encode('  how\tmany\nred ? ')).toEqual(tok.encode('how many red ?'));
    expect(tok.encode('')).toEqual([]);
    expect(() => tok.encode('how many purple ?')).toThrow(RangeError);
    expect(() => tok.encode('how many purple ?')).toThrow(/purple/);
    expect(() => tok.encode('<image> how many red ?')).toThrow(/<image>/);
    expect(() => tok.encode('<eos>')).toThrow(RangeError);
    expect(() => tok.encode(3 as unknown as string)).toThrow(TypeError);
  });

  it('decode stops at EOS, skips pad and image, rejects ids outside the vocabulary', () => {
    const [how, many, red] = tok.encode('how many red');
    expect(tok.decode([tok.imageId, how!, tok.padId, many!, red!, tok.eosId, how!])).toBe('how many red');
    expect(tok.decode(new Int32Array([tok.eosId, how!]))).toBe('');
    expect(tok.decode([])).toBe('');
    expect(() => tok.decode([how!, tok.vocabSize])).toThrow(/ids\[1\]/);
    expect(() => tok.decode([-1])).toThrow(RangeError);
    expect(() => tok.decode([1.5])).toThrow(RangeError);
  });

  it('a custom vocabulary must start with the reserved tokens and have no duplicates', () => {
    expect(new WordTokenizer(['<pad>', '<image>', '<eos>', 'a']).encode('a a')).toEqual([3, 3]);
    expect(() => new WordTokenizer(['<image>', '<pad>', '<eos>'])).toThrow(/vocabulary\[0\]/);
    expect(() => new WordTokenizer(['<pad>', '<image>', '<eos>', 'a', 'a'])).toThrow(/twice/);
  });
});

describe('rewards', () => {
  it('parseAnswer takes the last <answer> … </answer>, trimmed, or null', () => {
    expect(parseAnswer('<think> count red </think> <answer> 3 </answer>')).toBe('3');
    expect(parseAnswer('<answer> 1 </answer> <answer>  4  </answer>')).toBe('4');
    expect(parseAnswer('<answer> red blue </answer>')).toBe('red blue');
    expect(parseAnswer('<think> count red </think> 3')).toBeNull();
    expect(parseAnswer('<answer> 3')).toBeNull();
    expect(parseAnswer('<answer> 3 </answer> <answer> 4')).toBeNull();
    expect(parseAnswer('')).toBeNull();
  });

  it('accuracy: 1 only when the parsed answer equals the reference', () => {
    expect(accuracyReward(ctx('<think> count red </think> <answer> 3 </answer>', '3'))).toBe(1);
    expect(accuracyReward(ctx('<think> </think> <answer> 3 </answer>', '3', false))).toBe(1);
    expect(accuracyReward(ctx('<think> count red </think> <answer> 4 </answer>', '3'))).toBe(0);
    expect(accuracyReward(ctx('<think> count red </think> <answer> 3 3 </answer>', '3'))).toBe(0);
    expect(accuracyReward(ctx('<think> count red </think> 3', '3'))).toBe(0);
    expect(accuracyReward(ctx('3', '3'))).toBe(0);
    expect(accuracyReward(ctx('<answer> </answer>', 'none'))).toBe(0);
  });

  it('format: exactly <think> w* </think> <answer> w+ </answer>, and finished', () => {
    expect(formatReward(ctx('<think> count red </think> <answer> 3 </answer>', '9'))).toBe(1);
    expect(formatReward(ctx('<think> </think> <answer> no </answer>', 'yes'))).toBe(1);
    expect(formatReward(ctx('<think> a b c d </think> <answer> x y </answer>', 'x'))).toBe(1);
    // unfinished (cut at the length limit)
    expect(formatReward(ctx('<think> count red </think> <answer> 3 </answer>', '3', false))).toBe(0);
    // missing or misplaced tags, empty answer, extra text, nested tags
    expect(formatReward(ctx('<answer> 3 </answer>', '3'))).toBe(0);
    expect(formatReward(ctx('<think> count red </think> 3', '3'))).toBe(0);
    expect(formatReward(ctx('<think> count red <answer> 3 </answer>', '3'))).toBe(0);
    expect(formatReward(ctx('<think> count red </think> <answer> </answer>', '3'))).toBe(0);
    expect(formatReward(ctx('<think> count red </think> <answer> 3 </answer> 3', '3'))).toBe(0);
    expect(formatReward(ctx('red <think> count </think> <answer> 3 </answer>', '3'))).toBe(0);
    expect(formatReward(ctx('<think> count red </think> yes <answer> 3 </answer>', '3'))).toBe(0);
    expect(formatReward(ctx('<think> <think> </think> <answer> 3 </answer>', '3'))).toBe(0);
    expect(formatReward(ctx('<think> </think> <answer> 3 </think> </answer>', '3'))).toBe(0);
    expect(formatReward(ctx('<think> </think> <answer> <answer> 3 </answer>', '3'))).toBe(0);
    expect(formatReward(ctx('', '3'))).toBe(0);
  });

  it("every generated target earns full accuracy and format through the task's rewards", async () => {
    const task = new VisualTask({ seed: 6 });
    for (const example of task.batch(0, 200, 'train')) {
      const c = { completion: example.target, finished: true, example };
      expect(await task.rewards.accuracy(c)).toBe(1);
      expect(await task.rewards.format(c)).toBe(1);
    }
  });
});

describe('options', () => {
  it('rejects bad options with TypeError / RangeError naming the field', () => {
    expect(() => new VisualTask({ rows: 0 })).toThrow(/rows/);
    expect(() => new VisualTask({ cols: 10 })).toThrow(RangeError);
    expect(() => new VisualTask({ cellSize: 3 })).toThrow(/cellSize/);
    expect(() => new VisualTask({ seed: 1.5 })).toThrow(RangeError);
    expect(() => new VisualTask({ seed: '1' as unknown as number })).toThrow(TypeError);
    expect(() => new VisualTask({ maxObjects: 17 })).toThrow(/maxObjects/);
    expect(() => new VisualTask({ minObjects: 5, maxObjects: 4 })).toThrow(/maxObjects/);
    expect(() => new VisualTask({ families: [] })).toThrow(RangeError);
    expect(() => new VisualTask({ families: ['count', 'colour' as QuestionFamily] })).toThrow(/families\[1\]/);
    const task = new VisualTask();
    expect(() => task.example(-1, 'train')).toThrow(/index/);
    expect(() => task.example(0.5, 'train')).toThrow(RangeError);
    expect(() => task.example(0, 'test' as 'train')).toThrow(/split/);
    expect(() => task.batch(0, -1, 'train')).toThrow(/count/);
    expect(() => renderScene({ rows: 2, cols: 2, cells: [] })).toThrow(/cells/);
  });

  it('small grids get clamped defaults; impossible splits are a RangeError, not a hang', () => {
    const small = new VisualTask({ rows: 1, cols: 2 });
    expect(small.sceneOptions).toEqual({ rows: 1, cols: 2, minObjects: 2, maxObjects: 2 });
    expect(small.example(0, 'train').image.length).toBe(4 * 8 * 3);
    // A single possible scene (an empty 1 × 1 grid) belongs to one split only.
    const one = new VisualTask({ rows: 1, cols: 1, minObjects: 0, maxObjects: 0 });
    const ok = (split: 'train' | 'heldOut') => {
      try {
        one.example(0, split);
        return true;
      } catch (e) {
        expect(e).toBeInstanceOf(RangeError);
        return false;
      }
    };
    expect(ok('train') !== ok('heldOut')).toBe(true);
  });
});
