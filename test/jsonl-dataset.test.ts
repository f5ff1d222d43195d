/**
 * User data loading: the byte tokenizer (Unicode round trips, tags as single tokens, invalid UTF-8
 * decoded without throwing), PNG/JPEG decoding and resizing checked against values computed here
 * by hand, and the JSONL loader on fixture files written to a temp dir — a valid file, and every
 * kind of bad line reported with the file path and the right line number.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { encode as encodeJpeg } from 'jpeg-js';
import {
  ByteTokenizer,
  DatasetError,
  decodeImage,
  loadImage,
  loadJsonlDataset,
  resizeImage,
} from '../lib/data/index.js';

// ---------------------------------------------------------------------------------------------
// Fixtures

let dir: string;
const tok = new ByteTokenizer();
const shape = { height: 2, width: 2, channels: 3 };

/** 4×4 opaque RGBA pixels with distinct values, so any wrong averaging shows. */
const PIXELS_4X4: number[][] = Array.from({ length: 16 }, (_, p) => [(p * 13) % 256, (p * 29 + 7) % 256, (255 - p * 11) % 256, 255]);

function pngBytes(width: number, height: number, rgba: number[][], options: { colorType?: 0 | 2 | 4 | 6 } = {}): Buffer {
  const png = new PNG({ width, height });
  rgba.forEach((px, p) => png.data.set(px, p * 4));
  return PNG.sync.write(png, { colorType: options.colorType ?? 6 });
}

function jpegBytes(width: number, height: number, rgb: [number, number, number], quality: number): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) data.set([...rgb, 255], p * 4);
  return encodeJpeg({ width, height, data }, quality).data;
}

/** One JSONL line in the reference format. */
function line(id: string, image: string | string[], human: string, gpt: string): string {
  return JSON.stringify({
    id,
    image,
    conversations: [
      { from: 'human', value: human },
      { from: 'gpt', value: gpt },
    ],
  });
}

let fileCounter = 0;
async function writeJsonl(lines: string[]): Promise<string> {
  const path = join(dir, `data-${fileCounter++}.jsonl`);
  await writeFile(path, lines.join('\n') + '\n');
  return path;
}

/** Loads `lines` and expects a DatasetError whose message starts `path:lineNumber: ` and matches `pattern`. */
async function expectLineError(lines: string[], lineNumber: number, pattern: RegExp): Promise<string> {
  const path = await writeJsonl(lines);
  const err = await loadJsonlDataset(path, { tokenizer: tok, imageShape: shape }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatasetError);
  const message = (err as Error).message;
  expect(message.startsWith(`${path}:${lineNumber}: `), message).toBe(true);
  expect(message).toMatch(pattern);
  expect((err as DatasetError).line).toBe(lineNumber);
  return message;
}

const GOOD = line('ok', 'a.png', '<image>\nWhat is shown?', 'a cat');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dyco-jsonl-'));
  await writeFile(join(dir, 'a.png'), pngBytes(4, 4, PIXELS_4X4));
  await writeFile(join(dir, 'b.jpg'), jpegBytes(16, 16, [200, 100, 50], 95));
  await writeFile(join(dir, 'fake.gif'), Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'));
  await writeFile(join(dir, 'noise.png'), Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 97 + 31) % 256)));
  await writeFile(join(dir, 'broken.png'), pngBytes(4, 4, PIXELS_4X4).subarray(0, 40));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// ByteTokenizer

describe('ByteTokenizer', () => {
  it('has the documented ids', () => {
    expect(tok.vocabSize).toBe(263);
    expect([tok.padId, tok.imageId, tok.eosId]).toEqual([0, 1, 2]);
    expect(tok.encode('<think></think><answer></answer>')).toEqual([3, 4, 5, 6]);
    expect(tok.encode('<image>')).toEqual([1]);
    expect(tok.encode('A')).toEqual([7 + 0x41]);
    expect(tok.encode('é')).toEqual([7 + 0xc3, 7 + 0xa9]);
    expect(tok.encode('')).toEqual([]);
  });

  it('round-trips Unicode text, emoji and tags', () => {
    const texts = [
      'plain ascii',
      'naïve café — “quotes” ∑ ∫ 中文 日本語 한국어 עברית العربية',
      'emoji 😀👍🏽 👨‍👩‍👧‍👦 🇫🇷 and a flag',
      '<think> let me see 🤔 </think> <answer> 42 </answer>',
      '<thinking> is not a tag, nor is </answer > or <ANSWER>',
      '\u0000 nul and \uFEFF bom and \r\n newlines\t',
    ];
    for (const text of texts) {
      const ids = tok.encode(text);
      expect(ids.every((id) => Number.isInteger(id) && id >= 3 && id < tok.vocabSize)).toBe(true);
      expect(tok.decode(ids)).toBe(text);
      expect(tok.decode(Int32Array.from(ids))).toBe(text);
    }
    // The tags are one token each, wherever they appear.
    const ids = tok.encode('x<answer>y</answer>z');
    expect(ids).toEqual([7 + 0x78, 5, 7 + 0x79, 6, 7 + 0x7a]);
  });

  it('round-trips random code points (every plane, no lone surrogates)', () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const tags = ['<think>', '</think>', '<answer>', '</answer>'];
    for (let trial = 0; trial < 200; trial++) {
      let text = '';
      const n = Math.floor(rand() * 30);
      for (let i = 0; i < n; i++) {
        if (rand() < 0.1) {
          text += tags[Math.floor(rand() * 4)];
          continue;
        }
        let cp = Math.floor(rand() * 0x110000);
        if (cp >= 0xd800 && cp <= 0xdfff) cp -= 0x800;
        text += String.fromCodePoint(cp);
      }
      expect(tok.decode(tok.encode(text))).toBe(text);
    }
  });

  it('decodes: stops at EOS, skips pad and image', () => {
    const ids = [tok.imageId, ...tok.encode('ab'), tok.padId, ...tok.encode('c'), tok.eosId, ...tok.encode('ignored')];
    expect(tok.decode(ids)).toBe('abc');
    expect(tok.decode([])).toBe('');
  });

  it('decodes invalid UTF-8 and out-of-vocabulary ids to U+FFFD without throwing', () => {
    const b = (byte: number): number => tok.firstByteId + byte;
    expect(() => tok.decode([b(0xff), b(0xfe)])).not.toThrow();
    expect(tok.decode([b(0xff)])).toBe('\uFFFD');
    expect(tok.decode([b(0x41), b(0xc3)])).toBe('A\uFFFD'); // truncated 2-byte sequence
    expect(tok.decode([b(0xed), b(0xa0), b(0x80)])).toMatch(/^\uFFFD+$/); // encoded surrogate
    expect(tok.decode([b(0xc0), b(0x80)])).toMatch(/^\uFFFD+$/); // overlong NUL
    // A multi-byte character cut by a tag: both halves become replacement characters.
    expect(tok.decode([b(0xe2), b(0x82), 5, b(0xac)])).toBe('\uFFFD<answer>\uFFFD');
    expect(tok.decode([263, -1, 1.5, Number.NaN, b(0x41)])).toBe('\uFFFD\uFFFD\uFFFD\uFFFDA');
    // Random byte soup never throws.
    for (let s = 0; s < 50; s++) {
      const ids = Array.from({ length: 40 }, (_, i) => 3 + ((s * 7919 + i * 104729) % 260));
      expect(typeof tok.decode(ids)).toBe('string');
    }
  });

  it('refuses lone surrogates with a RangeError giving the index', () => {
    expect(() => tok.encode('ab\uD800c')).toThrow(RangeError);
    expect(() => tok.encode('ab\uD800c')).toThrow(/U\+D800 at index 2/);
    expect(() => tok.encode('\uDC00')).toThrow(/index 0/);
    expect(() => tok.encode('x\uD83D')).toThrow(/index 1/);
  });
});

// ---------------------------------------------------------------------------------------------
// Images

/** Independent 2× box downscale of an RGBA pixel list (alpha 255) to RGB floats. */
function boxDownscale2x(width: number, height: number, rgba: number[][]): number[] {
  const out: number[] = [];
  for (let y = 0; y < height / 2; y++) {
    for (let x = 0; x < width / 2; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (const [dy, dx] of [
          [0, 0],
          [0, 1],
          [1, 0],
          [1, 1],
        ]) {
          sum += rgba[(2 * y + dy!) * width + 2 * x + dx!]![c]!;
        }
        out.push(sum / 4 / 255);
      }
    }
  }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i]! - expected[i]!), `index ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(tolerance);
  }
}

describe('decodeImage / resizeImage / loadImage', () => {
  it('decodes a PNG to RGB in [0, 1]', () => {
    const img = decodeImage(pngBytes(4, 4, PIXELS_4X4), 'x.png');
    expect([img.width, img.height, img.channels]).toEqual([4, 4, 3]);
    expectClose(img.data, PIXELS_4X4.flatMap((px) => px.slice(0, 3).map((v) => v / 255)), 1e-7);
  });

  it('composites PNG alpha over black and expands grey to RGB', () => {
    const rgba = [
      [255, 128, 0, 0],
      [255, 128, 0, 255],
      [200, 100, 50, 51],
      [10, 20, 30, 128],
    ];
    const img = decodeImage(pngBytes(2, 2, rgba), 'alpha.png');
    expectClose(img.data, rgba.flatMap(([r, g, b, a]) => [r!, g!, b!].map((v) => (v * a!) / 255 / 255)), 1e-7);

    const greys = [0, 64, 200, 255].map((v) => [v, v, v, 255]);
    const grey = decodeImage(pngBytes(2, 2, greys, { colorType: 0 }), 'grey.png');
    expectClose(grey.data, greys.flatMap(([v]) => [v! / 255, v! / 255, v! / 255]), 1e-7);
  });

  it('decodes a JPEG (quality 95) to approximately the encoded colour', () => {
    const img = decodeImage(jpegBytes(16, 16, [200, 100, 50], 95), 'x.jpg');
    expect([img.width, img.height, img.channels]).toEqual([16, 16, 3]);
    const expected = Array.from({ length: 16 * 16 }, () => [200 / 255, 100 / 255, 50 / 255]).flat();
    expectClose(img.data, expected, 6 / 255);
  });

  it('rejects other formats naming the source and the supported formats', () => {
    const gif = Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1');
    expect(() => decodeImage(gif, 'pic.gif')).toThrow(/^pic\.gif: unsupported image format \(GIF\); supported formats are PNG and JPEG$/);
    expect(() => decodeImage(new Uint8Array([1, 2, 3, 4]), 'r.bin')).toThrow(/r\.bin: .*PNG and JPEG/);
    expect(() => decodeImage(new Uint8Array(0), 'e.png')).toThrow(/e\.png: unsupported image format \(empty file\)/);
    expect(() => decodeImage(pngBytes(4, 4, PIXELS_4X4).subarray(0, 40), 'cut.png')).toThrow(/cut\.png: cannot decode PNG/);
    expect(() => decodeImage(Uint8Array.from([0xff, 0xd8, 0xff, 0x00, 0x01]), 'cut.jpg')).toThrow(/cut\.jpg: cannot decode JPEG/);
  });

  it('refuses images over the pixel limit before decoding', () => {
    expect(() => decodeImage(pngBytes(4, 4, PIXELS_4X4), 'big.png', { maxPixels: 15 })).toThrow(/big\.png: PNG image is 4×4, more than the limit of 15 pixels/);
    expect(() => decodeImage(jpegBytes(16, 16, [1, 2, 3], 90), 'big.jpg', { maxPixels: 100 })).toThrow(/big\.jpg: cannot decode JPEG: maxResolutionInMP/);
  });

  it('downscales 2× exactly as the box average', () => {
    const img = decodeImage(pngBytes(4, 4, PIXELS_4X4), 'x.png');
    expectClose(resizeImage(img, 2, 2), boxDownscale2x(4, 4, PIXELS_4X4), 1e-6);
    // 4× (where bilinear sampling would read only the middle pixels): the mean of all 16.
    const mean = [0, 1, 2].map((c) => PIXELS_4X4.reduce((sum, px) => sum + px[c]!, 0) / 16 / 255);
    expectClose(resizeImage(img, 1, 1), mean, 1e-6);
  });

  it('downscales by a non-integer factor with area weights', () => {
    // 3 → 2: output 0 covers [0, 1.5) = x0 + ½·x1, output 1 covers [1.5, 3) = ½·x1 + x2, over 1.5.
    const out = resizeImage({ width: 3, height: 1, channels: 1, data: Float32Array.from([0.3, 0.6, 0.9]) }, 1, 2);
    expectClose(out, [(0.3 + 0.3) / 1.5, (0.3 + 0.9) / 1.5], 1e-6);
  });

  it('upscales bilinearly with half-pixel centres and clamped edges', () => {
    const out = resizeImage({ width: 2, height: 1, channels: 2, data: Float32Array.from([0, 1, 1, 0]) }, 1, 4);
    expectClose(out, [0, 1, 0.25, 0.75, 0.75, 0.25, 1, 0], 1e-7);
    // Same size is a copy; one axis can shrink while the other grows.
    const data = Float32Array.from({ length: 12 }, (_, i) => i / 11);
    expectClose(resizeImage({ width: 2, height: 2, channels: 3, data }, 2, 2), data, 0);
    const mixed = resizeImage({ width: 2, height: 2, channels: 1, data: Float32Array.from([0, 1, 0.5, 0.5]) }, 1, 4);
    expectClose(mixed, [0.25, 0.375, 0.625, 0.75], 1e-7);
  });

  it('checks sizes', () => {
    const img = { width: 2, height: 2, channels: 1, data: new Float32Array(4) };
    expect(() => resizeImage(img, 0, 2)).toThrow(RangeError);
    expect(() => resizeImage(img, 2, 1.5)).toThrow(RangeError);
    expect(() => resizeImage({ ...img, data: new Float32Array(3) }, 2, 2)).toThrow(/3 values/);
  });

  it('loadImage reads, decodes, resizes, and averages RGB for one channel', async () => {
    const rgb = await loadImage(join(dir, 'a.png'), { height: 2, width: 2, channels: 3 });
    const expected = boxDownscale2x(4, 4, PIXELS_4X4);
    expectClose(rgb, expected, 1e-6);
    const grey = await loadImage(join(dir, 'a.png'), { height: 2, width: 2, channels: 1 });
    expectClose(grey, [0, 1, 2, 3].map((p) => (expected[3 * p]! + expected[3 * p + 1]! + expected[3 * p + 2]!) / 3), 1e-6);
    await expect(loadImage(join(dir, 'a.png'), { height: 2, width: 2, channels: 4 })).rejects.toThrow(RangeError);
    await expect(loadImage(join(dir, 'nope.png'), shape)).rejects.toThrow(/nope\.png: cannot read image file/);
  });
});

// ---------------------------------------------------------------------------------------------
// loadJsonlDataset

describe('loadJsonlDataset', () => {
  it('loads a valid file', async () => {
    const path = await writeJsonl([
      line('first', 'a.png', '<image>\nWhat is shown? 🐱', '  a cat \n'),
      '',
      '   ',
      line('second', ['b.jpg'], 'Colour of <image> please', '<think> it is orange </think> <answer> orange </answer>'),
      line('third', join(dir, 'a.png'), '<image>', 'x<answer>\n 7 \n</answer>'),
    ]);
    const examples = await loadJsonlDataset(path, { tokenizer: tok, imageShape: shape });
    expect(examples.map((e) => e.id)).toEqual(['first', 'second', 'third']);

    const humans = ['<image>\nWhat is shown? 🐱', 'Colour of <image> please', '<image>'];
    examples.forEach((e, i) => {
      expect(e.prompt).toBeInstanceOf(Int32Array);
      expect(Array.from(e.prompt)).toEqual(tok.encode(humans[i]!));
      expect(e.prompt.filter((id) => id === tok.imageId).length).toBe(1);
      expect(tok.decode(e.prompt)).toBe(humans[i]!.replace('<image>', ''));
      expect(e.image).toBeInstanceOf(Float32Array);
      expect(e.image.length).toBe(2 * 2 * 3);
    });

    expect(examples.map((e) => e.answer)).toEqual(['a cat', 'orange', '7']);
    expect(examples[0]!.target).toBe('<think> </think> <answer> a cat </answer>');
    expect(examples[1]!.target).toBe('<think> it is orange </think> <answer> orange </answer>');
    expect(examples[2]!.target).toBe('x<answer>\n 7 \n</answer>');

    // Images: the known PNG against an independent box average; the JPEG is one colour.
    const expected = boxDownscale2x(4, 4, PIXELS_4X4);
    expectClose(examples[0]!.image, expected, 1e-6);
    expectClose(examples[2]!.image, expected, 1e-6);
    expect(examples[2]!.image).not.toBe(examples[0]!.image); // cached, but each example has its own copy
    expectClose(examples[1]!.image, [0, 1, 2, 3].flatMap(() => [200 / 255, 100 / 255, 50 / 255]), 6 / 255);
  });

  it('accepts CRLF line ends and a byte-order mark, and gives grey images for one channel', async () => {
    const path = join(dir, 'crlf.jsonl');
    await writeFile(path, '\uFEFF' + GOOD + '\r\n\r\n' + GOOD + '\r\n');
    const examples = await loadJsonlDataset(path, { tokenizer: tok, imageShape: { height: 1, width: 1, channels: 1 } });
    expect(examples.length).toBe(2);
    expect(examples[0]!.image.length).toBe(1);
    expect(examples[1]!.answer).toBe('a cat');
  });

  it('reports invalid JSON with its line number', async () => {
    const message = await expectLineError([GOOD, GOOD, '{"id": "x", "image": '], 3, /invalid JSON/);
    expect(message).not.toMatch(/:1: |:2: /);
    // Blank lines still count.
    await expectLineError([GOOD, '', '', 'not json'], 4, /invalid JSON/);
    await expectLineError([GOOD, '[1, 2]'], 2, /expected a JSON object, got an array/);
  });

  it('reports a missing image file naming the resolved path', async () => {
    const resolved = join(dir, 'sub', 'missing.png');
    const message = await expectLineError([GOOD, line('m', 'sub/missing.png', '<image> q', 'a')], 2, /not found/);
    expect(message).toContain(resolved);
  });

  it('reports a wrong number of <image> placeholders', async () => {
    await expectLineError([GOOD, GOOD, line('p', 'a.png', 'no placeholder', 'a')], 3, /0 <image> placeholders for 1 image/);
    await expectLineError([line('p', 'a.png', '<image><image> twice', 'a')], 1, /2 <image> placeholders for 1 image/);
  });

  it('reports a missing gpt or human turn', async () => {
    const noGpt = JSON.stringify({ id: 'g', image: 'a.png', conversations: [{ from: 'human', value: '<image> q' }] });
    await expectLineError([GOOD, noGpt], 2, /no gpt turn/);
    const noHuman = JSON.stringify({ id: 'h', image: 'a.png', conversations: [] });
    await expectLineError([noHuman], 1, /no human turn/);
    const gptFirst = JSON.stringify({ id: 'h', image: 'a.png', conversations: [{ from: 'gpt', value: 'a' }, { from: 'human', value: '<image>' }] });
    await expectLineError([GOOD, GOOD, gptFirst], 3, /gpt turn comes before any human turn/);
    const twoRounds = JSON.stringify({
      id: 't',
      image: 'a.png',
      conversations: [
        { from: 'human', value: '<image> q' },
        { from: 'gpt', value: 'a' },
        { from: 'human', value: 'and?' },
        { from: 'gpt', value: 'b' },
      ],
    });
    await expectLineError([twoRounds], 1, /second human turn/);
  });

  it('reports unsupported or undecodable images', async () => {
    const gif = await expectLineError([GOOD, GOOD, line('g', 'fake.gif', '<image>', 'a')], 3, /unsupported image format \(GIF\); supported formats are PNG and JPEG/);
    expect(gif).toContain(join(dir, 'fake.gif'));
    await expectLineError([line('n', 'noise.png', '<image>', 'a')], 1, /noise\.png: unsupported image format .*PNG and JPEG/);
    await expectLineError([GOOD, line('b', 'broken.png', '<image>', 'a')], 2, /broken\.png: cannot decode PNG/);
  });

  it('reports missing or mistyped fields', async () => {
    const bare = (fields: Record<string, unknown>): string =>
      JSON.stringify({ id: 'x', image: 'a.png', conversations: [{ from: 'human', value: '<image>' }, { from: 'gpt', value: 'a' }], ...fields });
    await expectLineError([bare({ id: undefined })], 1, /missing field "id"/);
    await expectLineError([bare({ id: 3 })], 1, /"id" must be a non-empty string, got number/);
    await expectLineError([bare({ image: undefined })], 1, /missing field "image"/);
    await expectLineError([bare({ image: 5 })], 1, /"image" must be/);
    await expectLineError([bare({ image: [] })], 1, /empty array/);
    await expectLineError([bare({ conversations: undefined })], 1, /missing field "conversations"/);
    await expectLineError([bare({ conversations: {} })], 1, /"conversations" must be an array, got object/);
    await expectLineError([bare({ conversations: [{ from: 'human', value: 3 }] })], 1, /conversations\[0\]\.value must be a string/);
    await expectLineError([bare({ conversations: [{ from: 'system', value: 'x' }] })], 1, /conversations\[0\]\.from must be "human" or "gpt", got "system"/);
  });

  it('reports more images than maxImages, empty answers and prompts the tokenizer cannot encode', async () => {
    await expectLineError([line('two', ['a.png', 'b.jpg'], '<image><image>', 'a')], 1, /2 images, but at most 1 per line is supported/);
    await expectLineError([line('e', 'a.png', '<image>', '   ')], 1, /gpt turn is empty/);
    await expectLineError([line('e', 'a.png', '<image>', '<answer> </answer>')], 1, /empty <answer><\/answer>/);
    await expectLineError([line('e', 'a.png', '<image>', '<answer> 3')], 1, /no closing <\/answer>/);
    await expectLineError([line('e', 'a.png', '<image>', '<image> 3')], 1, /gpt turn contains <image>/);
    await expectLineError([GOOD, line('s', 'a.png', '<image> bad \uD800', 'a')], 2, /cannot encode the prompt: .*U\+D800/);
  });

  it('reports file-level problems and bad options', async () => {
    const missing = join(dir, 'nope.jsonl');
    await expect(loadJsonlDataset(missing, { tokenizer: tok, imageShape: shape })).rejects.toThrow(new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot open`));
    const empty = await writeJsonl(['', '  ']);
    await expect(loadJsonlDataset(empty, { tokenizer: tok, imageShape: shape })).rejects.toThrow(/no examples/);
    const ok = await writeJsonl([GOOD]);
    await expect(loadJsonlDataset(ok, { tokenizer: tok, imageShape: shape, maxImages: 2 })).rejects.toThrow(RangeError);
    await expect(loadJsonlDataset(ok, { tokenizer: tok, imageShape: { height: 0, width: 2, channels: 3 } })).rejects.toThrow(RangeError);
    await expect(loadJsonlDataset(ok, { tokenizer: tok, imageShape: { height: 2, width: 2, channels: 2 } })).rejects.toThrow(RangeError);
  });
});
