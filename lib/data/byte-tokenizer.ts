/**
 * A byte-level tokenizer for tiny policies trained on user data: any text is representable
 * (UTF-8 bytes), and the four reasoning-format tags are single tokens so the format reward and
 * the model see them as one decision each rather than as seven or eight byte choices.
 * @packageDocumentation
 */
import type { Tokenizer } from '../task/types.js';

/** The reasoning-format tags, in id order starting at {@link ByteTokenizer.firstTagId}. */
export const BYTE_TOKENIZER_TAGS = ['<think>', '</think>', '<answer>', '</answer>'] as const;

/** The prompt placeholder that `encode` maps to the image token. */
export const IMAGE_PLACEHOLDER = '<image>';

const PAD_ID = 0;
const IMAGE_ID = 1;
const EOS_ID = 2;
const FIRST_TAG_ID = 3;
const FIRST_BYTE_ID = FIRST_TAG_ID + BYTE_TOKENIZER_TAGS.length; // 7
const VOCAB_SIZE = FIRST_BYTE_ID + 256; // 263

// One alternation over every special piece; the capture group keeps the separators in `split`.
// None of the pieces is a prefix of another, so alternation order does not matter, and none
// holds a regex metacharacter.
const SPECIAL_PATTERN = new RegExp(`(${[IMAGE_PLACEHOLDER, ...BYTE_TOKENIZER_TAGS].join('|')})`);

const TAG_IDS: ReadonlyMap<string, number> = new Map([
  [IMAGE_PLACEHOLDER, IMAGE_ID],
  ...BYTE_TOKENIZER_TAGS.map((tag, i) => [tag, FIRST_TAG_ID + i] as [string, number]),
]);

const utf8Encoder = new TextEncoder();
// `fatal: false`: invalid sequences (a model can sample any byte order) become U+FFFD instead of
// throwing, so decoding a completion never fails. `ignoreBOM`: a leading EF BB BF is content here.
const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * Index of the first lone surrogate in `text`, or -1. TextEncoder would silently turn one into
 * U+FFFD, so the text would not round-trip; `encode` refuses it instead.
 */
function firstLoneSurrogate(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++; // a valid pair
        continue;
      }
      return i;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}

/**
 * Tokenizer over UTF-8 bytes with a handful of special tokens.
 *
 * Ids: 0 pad, 1 image, 2 EOS, 3–6 the tags `<think>`, `</think>`, `<answer>`, `</answer>`, then
 * 7–262 the bytes 0x00–0xFF, so `vocabSize` is 263. `encode` maps the `<image>` placeholder to the
 * image id and each tag to its own id; everything else is its UTF-8 bytes.
 *
 * @example
 * ```ts
 * const tok = new ByteTokenizer();
 * tok.encode('<image>\nHi');        // [1, 17, 79, 112]
 * tok.decode(tok.encode('<answer> 42 </answer>')); // '<answer> 42 </answer>'
 * ```
 */
export class ByteTokenizer implements Tokenizer {
  /** 263: 7 special ids and 256 byte ids. */
  readonly vocabSize = VOCAB_SIZE;
  /** 0. */
  readonly padId = PAD_ID;
  /** 1; what `<image>` encodes to. */
  readonly imageId = IMAGE_ID;
  /** 2. */
  readonly eosId = EOS_ID;
  /** Id of `<think>`; the other tags follow in {@link BYTE_TOKENIZER_TAGS} order. */
  readonly firstTagId = FIRST_TAG_ID;
  /** Id of byte 0x00; byte `b` is `firstByteId + b`. */
  readonly firstByteId = FIRST_BYTE_ID;

  /**
   * Token ids of `text` (no EOS added): `<image>` → `imageId`, each tag → its id, the rest byte
   * by byte.
   * @throws RangeError when `text` is not a string or holds a lone UTF-16 surrogate (which has no
   *   UTF-8 encoding); the message gives its index.
   */
  encode(text: string): number[] {
    if (typeof text !== 'string') throw new RangeError(`ByteTokenizer.encode: expected a string, got ${typeof text}`);
    const bad = firstLoneSurrogate(text);
    if (bad >= 0) {
      const code = text.charCodeAt(bad).toString(16).toUpperCase();
      throw new RangeError(`ByteTokenizer.encode: cannot encode the lone surrogate U+${code} at index ${bad}`);
    }
    const ids: number[] = [];
    // With a capture group, `split` puts the separators at the odd indices.
    const parts = text.split(SPECIAL_PATTERN);
    for (let p = 0; p < parts.length; p++) {
      const part = parts[p]!;
      if (p % 2 === 1) {
        ids.push(TAG_IDS.get(part)!);
      } else if (part.length > 0) {
        for (const byte of utf8Encoder.encode(part)) ids.push(FIRST_BYTE_ID + byte);
      }
    }
    return ids;
  }

  /**
   * Text of `ids`, stopping at the first EOS; pad and image tokens are skipped. Bytes are decoded
   * as UTF-8 with invalid or truncated sequences (including one cut by a tag) replaced by U+FFFD;
   * an id outside the vocabulary (a policy whose output layer is wider than this vocabulary) also
   * decodes to U+FFFD. Never throws for array-like input.
   */
  decode(ids: ArrayLike<number>): string {
    let out = '';
    let bytes: number[] = [];
    const flush = (): void => {
      if (bytes.length > 0) {
        out += utf8Decoder.decode(Uint8Array.from(bytes));
        bytes = [];
      }
    };
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id === EOS_ID) break;
      if (id === PAD_ID || id === IMAGE_ID) continue;
      if (Number.isInteger(id) && id >= FIRST_BYTE_ID && id < VOCAB_SIZE) {
        bytes.push(id - FIRST_BYTE_ID);
        continue;
      }
      flush();
      out += Number.isInteger(id) && id >= FIRST_TAG_ID && id < FIRST_BYTE_ID ? BYTE_TOKENIZER_TAGS[id - FIRST_TAG_ID] : '\uFFFD';
    }
    flush();
    return out;
  }
}
