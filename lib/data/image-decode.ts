/**
 * Image files → the float RGB arrays a policy takes: PNG and JPEG decoding (pure JS, so no native
 * image library has to be built), and resizing to the policy's fixed image shape.
 * @packageDocumentation
 */
import { readFile } from 'node:fs/promises';
import { PNG } from 'pngjs';
import { decode as decodeJpeg } from 'jpeg-js';
import type { ImageShape } from '../task/types.js';

/** A decoded image: `height × width × 3` RGB values in [0, 1], row-major. */
export interface RgbImage {
  width: number;
  height: number;
  channels: 3;
  data: Float32Array;
}

/** Any `height × width × channels` image of floats, row-major, channels interleaved. */
export interface RasterImage {
  width: number;
  height: number;
  channels: number;
  data: Float32Array;
}

/** Limits that keep a hostile or mistaken file (a huge photo, a forged header) from exhausting memory. */
export interface DecodeImageOptions {
  /** Largest `width × height` accepted, checked from the header before decoding. Default 100 000 000. */
  maxPixels?: number;
  /** jpeg-js's cap on its own allocations, in MB. Default 512. */
  maxMemoryUsageInMB?: number;
}

const DEFAULT_MAX_PIXELS = 100_000_000;
const DEFAULT_MAX_MEMORY_MB = 512;
const SUPPORTED = 'supported formats are PNG and JPEG';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: ArrayLike<number>, at = 0): boolean {
  if (bytes.length < at + prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));

/** A name for a few formats users commonly have, so the error says what the file is, not just what it is not. */
function sniffUnsupported(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'empty file';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'GIF';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'WebP';
  if (startsWith(bytes, ascii('BM'))) return 'BMP';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'TIFF';
  if (startsWith(bytes, ascii('ftypheic'), 4) || startsWith(bytes, ascii('ftypheix'), 4)) return 'HEIC';
  if (startsWith(bytes, ascii('ftypavif'), 4)) return 'AVIF';
  return 'unrecognised format';
}

function checkPixels(width: number, height: number, maxPixels: number, source: string, format: string): void {
  if (!(width > 0 && height > 0)) throw new Error(`${source}: ${format} header gives an empty image (${width}×${height})`);
  if (width * height > maxPixels) {
    throw new Error(`${source}: ${format} image is ${width}×${height}, more than the limit of ${maxPixels} pixels`);
  }
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function decodePng(bytes: Uint8Array, source: string, maxPixels: number): RgbImage {
  // IHDR is always the first chunk: 8 magic + 4 length + 4 type, then width and height (big-endian).
  // Checking them first keeps pngjs from allocating for a forged size.
  if (bytes.length >= 24 && startsWith(bytes, ascii('IHDR'), 12)) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    checkPixels(view.getUint32(16), view.getUint32(20), maxPixels, source, 'PNG');
  }
  let png: { width: number; height: number; data: Buffer };
  try {
    // pngjs normalises every colour type and bit depth (palette, grey, 16-bit) to 8-bit RGBA.
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    throw new Error(`${source}: cannot decode PNG: ${messageOf(err)}`, { cause: err });
  }
  const { width, height, data: rgba } = png;
  const out = new Float32Array(width * height * 3);
  for (let p = 0, q = 0; q < out.length; p += 4, q += 3) {
    // Composite over black: a transparent pixel carries no colour the model should see.
    const a = rgba[p + 3]!;
    out[q] = (rgba[p]! * a) / 65025;
    out[q + 1] = (rgba[p + 1]! * a) / 65025;
    out[q + 2] = (rgba[p + 2]! * a) / 65025;
  }
  return { width, height, channels: 3, data: out };
}

function decodeJpg(bytes: Uint8Array, source: string, maxPixels: number, maxMemoryUsageInMB: number): RgbImage {
  let jpg: { width: number; height: number; data: Uint8Array };
  try {
    // formatAsRGBA false: jpeg-js writes 3 bytes per pixel and already expands grey and CMYK to RGB.
    jpg = decodeJpeg(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxMemoryUsageInMB,
      maxResolutionInMP: maxPixels / 1e6,
    });
  } catch (err) {
    throw new Error(`${source}: cannot decode JPEG: ${messageOf(err)}`, { cause: err });
  }
  const { width, height, data } = jpg;
  checkPixels(width, height, maxPixels, source, 'JPEG');
  const out = new Float32Array(width * height * 3);
  for (let i = 0; i < out.length; i++) out[i] = data[i]! / 255;
  return { width, height, channels: 3, data: out };
}

/**
 * Decodes a PNG or JPEG file's bytes (the format is told by its magic bytes, not its name) to RGB
 * in [0, 1]. Alpha is composited over black; grey, palette and 16-bit PNGs and grey or CMYK JPEGs
 * come out as 8-bit-precision RGB.
 *
 * @param source - names the file in error messages (usually its path).
 * @throws Error naming `source`: for any other format (saying which, for GIF, WebP, BMP, TIFF,
 *   HEIC, AVIF, and listing the supported ones), a corrupt file, or an image over the limits.
 * @example
 * ```ts
 * const img = decodeImage(await readFile('cat.png'), 'cat.png'); // { width, height, channels: 3, data }
 * ```
 */
export function decodeImage(bytes: Uint8Array, source: string, options: DecodeImageOptions = {}): RgbImage {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const maxMemoryUsageInMB = options.maxMemoryUsageInMB ?? DEFAULT_MAX_MEMORY_MB;
  if (startsWith(bytes, PNG_MAGIC)) return decodePng(bytes, source, maxPixels);
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return decodeJpg(bytes, source, maxPixels, maxMemoryUsageInMB);
  throw new Error(`${source}: unsupported image format (${sniffUnsupported(bytes)}); ${SUPPORTED}`);
}

/** For one axis: each output index's input indices and weights (summing to 1). */
interface AxisTaps {
  index: Int32Array;
  weight: Float64Array;
  /** Output o's taps are `[start[o], start[o + 1])`. */
  start: Int32Array;
}

function axisTaps(inSize: number, outSize: number): AxisTaps {
  const index: number[] = [];
  const weight: number[] = [];
  const start = new Int32Array(outSize + 1);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    start[o] = index.length;
    if (inSize > outSize) {
      // Box filter: output o covers input span [o·scale, (o+1)·scale); each input pixel counts by
      // its overlap, so every input contributes in proportion to its area and nothing aliases.
      const lo = o * scale;
      const hi = (o + 1) * scale;
      for (let i = Math.floor(lo); i < Math.min(inSize, Math.ceil(hi)); i++) {
        const overlap = Math.min(hi, i + 1) - Math.max(lo, i);
        if (overlap > 1e-12) {
          index.push(i);
          weight.push(overlap / scale);
        }
      }
    } else {
      // Bilinear with pixel centres at i + ½ (identity when the sizes are equal); edges clamp.
      const src = Math.min(inSize - 1, Math.max(0, (o + 0.5) * scale - 0.5));
      const i0 = Math.floor(src);
      const frac = src - i0;
      index.push(i0);
      weight.push(1 - frac);
      if (frac > 0) {
        index.push(Math.min(i0 + 1, inSize - 1));
        weight.push(frac);
      }
    }
  }
  start[outSize] = index.length;
  return { index: Int32Array.from(index), weight: Float64Array.from(weight), start };
}

function checkSize(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`resizeImage: ${name} must be a positive integer, got ${value}`);
}

/**
 * Resizes `image` to `height × width`, each channel independently: an area average (box filter)
 * along an axis that shrinks, bilinear interpolation along one that grows, a copy along one that
 * keeps its size. The two axes are handled separately, so one may shrink while the other grows.
 *
 * @returns `Float32Array(height*width*image.channels)`, row-major, channels interleaved.
 * @throws RangeError when a size is not a positive integer or `image.data` does not match its shape.
 * @example
 * ```ts
 * resizeImage({ width: 2, height: 2, channels: 1, data: new Float32Array([0, 1, 1, 0]) }, 1, 1); // [0.5]
 * ```
 */
export function resizeImage(image: RasterImage, height: number, width: number): Float32Array {
  checkSize(height, 'height');
  checkSize(width, 'width');
  checkSize(image.height, 'image.height');
  checkSize(image.width, 'image.width');
  checkSize(image.channels, 'image.channels');
  const c = image.channels;
  const inH = image.height;
  const inW = image.width;
  if (image.data.length !== inH * inW * c) {
    throw new RangeError(`resizeImage: image.data has ${image.data.length} values, expected ${inH}×${inW}×${c}`);
  }
  const src = image.data;
  const cols = axisTaps(inW, width);
  const rows = axisTaps(inH, height);

  // Horizontal pass into float64 (so the two passes round once), then vertical.
  const tmp = new Float64Array(inH * width * c);
  for (let y = 0; y < inH; y++) {
    for (let x = 0; x < width; x++) {
      const dst = (y * width + x) * c;
      for (let t = cols.start[x]!; t < cols.start[x + 1]!; t++) {
        const w = cols.weight[t]!;
        const s = (y * inW + cols.index[t]!) * c;
        for (let k = 0; k < c; k++) tmp[dst + k] += w * src[s + k]!;
      }
    }
  }
  const out = new Float32Array(height * width * c);
  const acc = new Float64Array(width * c);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    for (let t = rows.start[y]!; t < rows.start[y + 1]!; t++) {
      const w = rows.weight[t]!;
      const base = rows.index[t]! * width * c;
      for (let j = 0; j < width * c; j++) acc[j] += w * tmp[base + j]!;
    }
    out.set(acc, y * width * c);
  }
  return out;
}

/**
 * Reads an image file, decodes it ({@link decodeImage}) and resizes it ({@link resizeImage}) to
 * `shape`; with `shape.channels` 1 the result is the plain mean of R, G and B.
 *
 * @returns `Float32Array(shape.height*shape.width*shape.channels)` in [0, 1].
 * @throws RangeError when `shape` is not positive integers with 1 or 3 channels; Error naming
 *   `path` when the file cannot be read (its `cause` is the fs error, with its `code`) or decoded.
 */
export async function loadImage(path: string, shape: ImageShape, options?: DecodeImageOptions): Promise<Float32Array> {
  checkSize(shape.height, 'shape.height');
  checkSize(shape.width, 'shape.width');
  if (shape.channels !== 1 && shape.channels !== 3) {
    throw new RangeError(`loadImage: shape.channels must be 1 or 3, got ${shape.channels}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new Error(`${path}: cannot read image file: ${messageOf(err)}`, { cause: err });
  }
  const rgb = resizeImage(decodeImage(bytes, path, options), shape.height, shape.width);
  if (shape.channels === 3) return rgb;
  const grey = new Float32Array(shape.height * shape.width);
  for (let p = 0; p < grey.length; p++) grey[p] = (rgb[3 * p]! + rgb[3 * p + 1]! + rgb[3 * p + 2]!) / 3;
  return grey;
}
