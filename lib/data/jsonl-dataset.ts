/**
 * User training data in the reference repository's JSONL format, turned into {@link Example}s:
 * one JSON object per line with an id, image path(s) and a human/gpt conversation.
 * @packageDocumentation
 */
import { open, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { dirname, resolve } from 'node:path';
import type { Example, ImageShape, Tokenizer } from '../task/types.js';
import { loadImage, type DecodeImageOptions } from './image-decode.js';

/** Options of {@link loadJsonlDataset}. */
export interface LoadJsonlDatasetOptions {
  /** Encodes prompts (and, as a check, targets). */
  tokenizer: Tokenizer;
  /** Every image is resized to this shape. */
  imageShape: ImageShape;
  /**
   * Most images a line may name. Default 1, and 1 is the only value accepted for now: an
   * {@link Example} holds one image and its prompt one image token, so a multi-image line has no
   * faithful representation (tiling would silently change what the model sees).
   */
  maxImages?: number;
  /** Size limits for image decoding. */
  decode?: DecodeImageOptions;
}

/** A problem in a dataset file; the message starts with `file:line: ` (or `file: ` for file-level problems). */
export class DatasetError extends Error {
  /** The dataset file as given. */
  readonly file: string;
  /** 1-based line number, or undefined for a problem with the whole file. */
  readonly line: number | undefined;

  constructor(file: string, line: number | undefined, message: string, options?: ErrorOptions) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${message}`, options);
    this.name = 'DatasetError';
    this.file = file;
    this.line = line;
  }
}

const IMAGE_PLACEHOLDER = '<image>';
const ANSWER_PATTERN = /<answer>([\s\S]*?)<\/answer>/;

/** Thrown inside one line's parsing; the caller adds file and line. */
class LineProblem extends Error {}

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;

function countOccurrences(text: string, piece: string): number {
  return text.split(piece).length - 1;
}

/** The line's fields, checked for presence and type. */
interface ParsedLine {
  id: string;
  images: string[];
  human: string;
  gpt: string;
}

function parseLine(text: string, maxImages: number): ParsedLine {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (err) {
    throw new LineProblem(`invalid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new LineProblem(`expected a JSON object, got ${describe(record)}`);
  }
  const fields = record as Record<string, unknown>;

  const id = fields['id'];
  if (id === undefined) throw new LineProblem('missing field "id"');
  if (typeof id !== 'string' || id.length === 0) {
    throw new LineProblem(`field "id" must be a non-empty string, got ${typeof id === 'string' ? 'an empty string' : describe(id)}`);
  }

  const image = fields['image'];
  if (image === undefined) throw new LineProblem('missing field "image"');
  const images = typeof image === 'string' ? [image] : image;
  if (!Array.isArray(images) || !images.every((p): p is string => typeof p === 'string' && p.length > 0)) {
    throw new LineProblem('field "image" must be a non-empty path string or an array of them');
  }
  if (images.length === 0) throw new LineProblem('field "image" is an empty array; each line needs an image');
  if (images.length > maxImages) {
    throw new LineProblem(`${images.length} images, but at most ${maxImages} per line ${maxImages === 1 ? 'is' : 'are'} supported`);
  }

  const conversations = fields['conversations'];
  if (conversations === undefined) throw new LineProblem('missing field "conversations"');
  if (!Array.isArray(conversations)) throw new LineProblem(`field "conversations" must be an array, got ${describe(conversations)}`);
  let human: string | undefined;
  let gpt: string | undefined;
  conversations.forEach((turn: unknown, i) => {
    const where = `conversations[${i}]`;
    if (turn === null || typeof turn !== 'object' || Array.isArray(turn)) throw new LineProblem(`${where} must be an object, got ${describe(turn)}`);
    const { from, value } = turn as Record<string, unknown>;
    if (typeof value !== 'string') throw new LineProblem(`${where}.value must be a string, got ${describe(value)}`);
    if (from === 'human') {
      // One prompt and one answer per example; dropping later rounds would quietly lose data.
      if (human !== undefined) throw new LineProblem(`${where}: a second human turn; multi-turn conversations are not supported`);
      human = value;
    } else if (from === 'gpt') {
      if (human === undefined) throw new LineProblem(`${where}: the gpt turn comes before any human turn`);
      if (gpt !== undefined) throw new LineProblem(`${where}: a second gpt turn; multi-turn conversations are not supported`);
      gpt = value;
    } else {
      throw new LineProblem(`${where}.from must be "human" or "gpt", got ${typeof from === 'string' ? JSON.stringify(from) : describe(from)}`);
    }
  });
  if (human === undefined) throw new LineProblem('no human turn in "conversations"');
  if (gpt === undefined) throw new LineProblem('no gpt turn in "conversations"');

  const placeholders = countOccurrences(human, IMAGE_PLACEHOLDER);
  if (placeholders !== images.length) {
    throw new LineProblem(
      `the human turn has ${placeholders} ${IMAGE_PLACEHOLDER} placeholder${placeholders === 1 ? '' : 's'} for ${images.length} image${images.length === 1 ? '' : 's'}`,
    );
  }
  if (gpt.includes(IMAGE_PLACEHOLDER)) throw new LineProblem(`the gpt turn contains ${IMAGE_PLACEHOLDER}`);
  return { id, images, human, gpt };
}

/** The reference answer and the warm-start target of a gpt turn. */
function answerAndTarget(gpt: string): { answer: string; target: string } {
  if (gpt.includes('<answer>')) {
    const match = ANSWER_PATTERN.exec(gpt);
    if (match === null) throw new LineProblem('the gpt turn has <answer> but no closing </answer>');
    const answer = match[1]!.trim();
    if (answer.length === 0) throw new LineProblem('the gpt turn has an empty <answer></answer>');
    // Already in the reasoning format (possibly with real reasoning): train on it as written.
    return { answer, target: gpt };
  }
  const answer = gpt.trim();
  if (answer.length === 0) throw new LineProblem('the gpt turn is empty');
  return { answer, target: `<think> </think> <answer> ${answer} </answer>` };
}

/**
 * Prompt ids: the text before and after the placeholder encoded separately around one `imageId`,
 * so the image token is there exactly once whatever the tokenizer does with the literal `<image>`.
 */
function encodePrompt(tokenizer: Tokenizer, human: string): Int32Array {
  const at = human.indexOf(IMAGE_PLACEHOLDER);
  let before: number[];
  let after: number[];
  try {
    before = tokenizer.encode(human.slice(0, at));
    after = tokenizer.encode(human.slice(at + IMAGE_PLACEHOLDER.length));
  } catch (err) {
    throw new LineProblem(`cannot encode the prompt: ${err instanceof Error ? err.message : String(err)}`);
  }
  const ids = [...before, tokenizer.imageId, ...after];
  if (ids.indexOf(tokenizer.imageId) !== before.length || ids.lastIndexOf(tokenizer.imageId) !== before.length) {
    throw new LineProblem('the tokenizer encoded part of the prompt text as the image token');
  }
  return Int32Array.from(ids);
}

function checkTarget(tokenizer: Tokenizer, target: string): void {
  // Encoded here only so a bad target fails with its line number, not later in the warm start.
  let ids: number[];
  try {
    ids = tokenizer.encode(target);
  } catch (err) {
    throw new LineProblem(`cannot encode the target: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (ids.includes(tokenizer.imageId) || ids.includes(tokenizer.eosId) || ids.includes(tokenizer.padId)) {
    throw new LineProblem('the target encodes to a reserved token (image, EOS or pad)');
  }
}

function checkOptions(options: LoadJsonlDatasetOptions): number {
  if (options === null || typeof options !== 'object') throw new TypeError('loadJsonlDataset: options are required');
  const { tokenizer, imageShape } = options;
  if (tokenizer === null || typeof tokenizer !== 'object' || typeof tokenizer.encode !== 'function') {
    throw new TypeError('loadJsonlDataset: options.tokenizer must be a Tokenizer');
  }
  if (imageShape === null || typeof imageShape !== 'object') throw new TypeError('loadJsonlDataset: options.imageShape is required');
  for (const key of ['height', 'width'] as const) {
    if (!Number.isInteger(imageShape[key]) || imageShape[key] < 1) {
      throw new RangeError(`loadJsonlDataset: imageShape.${key} must be a positive integer, got ${imageShape[key]}`);
    }
  }
  if (imageShape.channels !== 1 && imageShape.channels !== 3) {
    throw new RangeError(`loadJsonlDataset: imageShape.channels must be 1 or 3, got ${imageShape.channels}`);
  }
  const maxImages = options.maxImages ?? 1;
  if (maxImages !== 1) {
    throw new RangeError(`loadJsonlDataset: maxImages must be 1 (an Example holds one image), got ${maxImages}`);
  }
  return maxImages;
}

/**
 * Loads a JSONL dataset: per non-blank line
 * `{"id", "image": "a.png" | ["a.png"], "conversations": [{"from": "human", "value": "<image>\n…"}, {"from": "gpt", "value": "…"}]}`.
 *
 * Image paths are relative to the file's directory (absolute ones are used as they are) and are
 * decoded and resized to `imageShape` (an image named by several lines is decoded once). The
 * prompt is the human turn with one image token where `<image>` was. The answer is the gpt turn
 * trimmed, or the trimmed inside of its first `<answer>…</answer>`; the target is the gpt turn as
 * written when it has `<answer>`, otherwise `<think> </think> <answer> {answer} </answer>`.
 *
 * @returns the examples in file order.
 * @throws TypeError/RangeError for bad options; {@link DatasetError} with a message starting
 *   `path:line: ` for a bad line (invalid JSON; a missing or mistyped id, image or conversations;
 *   no human or gpt turn, or more than one of either; `<image>` placeholders not matching the
 *   images; more images than `maxImages`; an image that is missing — naming the resolved path — or
 *   cannot be decoded; a prompt or target the tokenizer cannot encode; an empty answer), or
 *   starting `path: ` when the file cannot be read or has no examples.
 * @example
 * ```ts
 * const examples = await loadJsonlDataset('data/train.jsonl', {
 *   tokenizer: new ByteTokenizer(),
 *   imageShape: { height: 32, width: 32, channels: 3 },
 * });
 * ```
 */
export async function loadJsonlDataset(path: string, options: LoadJsonlDatasetOptions): Promise<Example[]> {
  const maxImages = checkOptions(options);
  const { tokenizer, imageShape } = options;
  const baseDir = dirname(resolve(path));

  // Opening first turns a missing file into a plain rejection here; errors on a stream that
  // readline consumes are easier to lose.
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new DatasetError(path, undefined, `cannot open: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const stream = handle.createReadStream({ encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });

  const examples: Example[] = [];
  // Resized pixels by resolved path: datasets often ask several questions about one image.
  const imageCache = new Map<string, Float32Array>();
  let lineNumber = 0;
  try {
    for await (const raw of lines) {
      lineNumber++;
      const text = lineNumber === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (text.trim().length === 0) continue;
      try {
        const line = parseLine(text, maxImages);
        const { answer, target } = answerAndTarget(line.gpt);
        const prompt = encodePrompt(tokenizer, line.human);
        checkTarget(tokenizer, target);
        const resolved = resolve(baseDir, line.images[0]!);
        let image = imageCache.get(resolved);
        if (image === undefined) {
          image = await loadLineImage(resolved, line.images[0]!, imageShape, options.decode);
          imageCache.set(resolved, image);
        }
        // A copy per example, so an in-place change to one example's image leaves the others alone.
        examples.push({ id: line.id, image: image.slice(), prompt, answer, target });
      } catch (err) {
        const message = err instanceof LineProblem ? err.message : err instanceof Error ? err.message : String(err);
        throw new DatasetError(path, lineNumber, message, { cause: err instanceof LineProblem ? err.cause : err });
      }
    }
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError(path, lineNumber > 0 ? lineNumber : undefined, `cannot read: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  } finally {
    lines.close();
    // autoClose (the default) closes the file handle with the stream.
    stream.destroy();
  }
  if (examples.length === 0) throw new DatasetError(path, undefined, 'no examples (the file is empty or has only blank lines)');
  return examples;
}

async function loadLineImage(
  resolved: string,
  given: string,
  shape: ImageShape,
  decode: DecodeImageOptions | undefined,
): Promise<Float32Array> {
  try {
    return await loadImage(resolved, shape, decode);
  } catch (err) {
    const code = err instanceof Error ? (err.cause as NodeJS.ErrnoException | undefined)?.code : undefined;
    const shown = given === resolved ? resolved : `${JSON.stringify(given)} (${resolved})`;
    if (code === 'ENOENT') throw new LineProblem(`image ${shown} not found: no file at ${resolved}`);
    // loadImage's messages already name the resolved path.
    throw new LineProblem(`image ${JSON.stringify(given)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
