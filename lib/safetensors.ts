/**
 * Reader and writer of the safetensors file format, used to store tensors (weights, optimizer
 * state, cached statistics) in a form other tools can load.
 *
 * Layout of a file:
 *
 * | bytes | content |
 * |---|---|
 * | 8 | N, the header length, unsigned 64-bit little-endian |
 * | N | UTF-8 JSON object: tensor name → `{dtype, shape, data_offsets: [begin, end]}`, plus an optional `"__metadata__"` string → string map |
 * | rest | the data buffer; offsets are relative to its start, `end` exclusive, tensors tile it exactly |
 *
 * Tensor bytes are little-endian, row-major. This module writes the header padded with spaces so
 * the data buffer starts at a multiple of 8 bytes, which lets readers map tensors without copying.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TextDecoder } from 'node:util';

/** Element types this module reads and writes (the safetensors dtype names). */
export type SafetensorsDtype = 'F32' | 'F64' | 'I32' | 'I64' | 'U8' | 'I8' | 'I16' | 'U16' | 'F16' | 'BF16' | 'BOOL';

/** Typed arrays a {@link TensorRecord} can hold. */
export type TensorData =
  | Uint8Array
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Int8Array
  | Int16Array
  | Uint16Array;

/** One tensor: element type, shape and its elements. */
export interface TensorRecord {
  /** Element type. */
  dtype: SafetensorsDtype;
  /** Dimensions, outermost first; `[]` is a scalar (one element), a 0 anywhere means no elements. */
  shape: number[];
  /**
   * The elements, row-major. When writing: either the natural typed array of the dtype
   * (F32 → Float32Array, F64 → Float64Array, I32 → Int32Array, I64 → BigInt64Array,
   * U8/BOOL → Uint8Array, I8 → Int8Array, I16 → Int16Array, U16/F16/BF16 → Uint16Array holding the
   * raw bits) or a Uint8Array holding the raw little-endian bytes. When reading: always the natural
   * typed array.
   */
  data: TensorData;
}

/** What {@link decodeSafetensors} and {@link readSafetensorsFile} return. */
export interface SafetensorsContents {
  /** Tensors in the order of their data in the file. */
  tensors: Map<string, TensorRecord>;
  /** The `"__metadata__"` map; `{}` when the file has none. */
  metadata: Record<string, string>;
}

/**
 * A safetensors file or buffer that does not follow the format. The message starts with the
 * source (a file path, or the name given to {@link decodeSafetensors}) and says what is wrong.
 */
export class SafetensorsFormatError extends Error {
  /** The file path or name the bad bytes came from. */
  readonly source: string;
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'SafetensorsFormatError';
    this.source = source;
  }
}

type TypedArrayCtor = {
  readonly BYTES_PER_ELEMENT: number;
  new (length: number): TensorData;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData;
};

interface DtypeInfo {
  size: number;
  ctor: TypedArrayCtor;
}

// U16, F16 and BF16 all come back as Uint16Array of raw bits: Node 20 has no Float16Array, and
// converting would lose NaN payloads and make a round trip inexact.
const DTYPES: Readonly<Record<SafetensorsDtype, DtypeInfo>> = {
  F32: { size: 4, ctor: Float32Array as TypedArrayCtor },
  F64: { size: 8, ctor: Float64Array as TypedArrayCtor },
  I32: { size: 4, ctor: Int32Array as TypedArrayCtor },
  I64: { size: 8, ctor: BigInt64Array as TypedArrayCtor },
  U8: { size: 1, ctor: Uint8Array as TypedArrayCtor },
  I8: { size: 1, ctor: Int8Array as TypedArrayCtor },
  I16: { size: 2, ctor: Int16Array as TypedArrayCtor },
  U16: { size: 2, ctor: Uint16Array as TypedArrayCtor },
  F16: { size: 2, ctor: Uint16Array as TypedArrayCtor },
  BF16: { size: 2, ctor: Uint16Array as TypedArrayCtor },
  BOOL: { size: 1, ctor: Uint8Array as TypedArrayCtor },
};

const METADATA_KEY = '__metadata__';
const DATA_ALIGNMENT = 8;
const SPACE = 0x20;

// The format is little-endian; typed arrays use the host's order. On a big-endian host every
// multi-byte element is swapped on the way in and out (always copying on read).
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isDtype(s: unknown): s is SafetensorsDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, s);
}

/** The typed-array class name (`'Float32Array'`, …), or undefined when `x` is not a typed array. */
function typedArrayName(x: unknown): string | undefined {
  // Symbol.toStringTag of %TypedArray%.prototype works across realms, unlike instanceof, and
  // is undefined for DataView and everything else.
  if (!ArrayBuffer.isView(x)) return undefined;
  const tag = (x as unknown as Record<symbol, unknown>)[Symbol.toStringTag];
  return typeof tag === 'string' ? tag : undefined;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Product of `shape`, or undefined when it is not a safe integer. */
function elementCount(shape: readonly number[]): number | undefined {
  let n = 1;
  for (const d of shape) n *= d;
  return Number.isSafeInteger(n) ? n : undefined;
}

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

// ---------------------------------------------------------------------------------------------
// Encoding

interface CheckedTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  bytes: Uint8Array;
  /** Bytes are in host order and need swapping to little-endian (big-endian hosts only). */
  swap: boolean;
}

function checkTensor(name: unknown, rec: unknown): CheckedTensor {
  if (typeof name !== 'string') {
    throw new TypeError(`tensors: tensor names must be strings, got ${typeof name}`);
  }
  const label = `tensor ${JSON.stringify(name)}`;
  if (name === '') throw new RangeError('tensors: a tensor name must not be empty');
  if (name === METADATA_KEY) {
    throw new RangeError(`tensors: ${label} is reserved for the metadata map and cannot name a tensor`);
  }
  if (!isPlainObject(rec)) throw new TypeError(`${label}: expected an object {dtype, shape, data}`);
  const { dtype, shape, data } = rec;
  if (typeof dtype !== 'string') throw new TypeError(`${label}: dtype must be a string, got ${typeof dtype}`);
  if (!isDtype(dtype)) {
    throw new RangeError(
      `${label}: unknown dtype ${JSON.stringify(dtype)} (expected one of ${Object.keys(DTYPES).join(', ')})`,
    );
  }
  if (!Array.isArray(shape)) throw new TypeError(`${label}: shape must be an array of integers`);
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number') throw new TypeError(`${label}: shape[${i}] must be a number, got ${typeof d}`);
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(`${label}: shape[${i}] = ${d} is not a non-negative integer`);
    }
  }
  const info = DTYPES[dtype];
  const kind = typedArrayName(data);
  const natural = info.ctor.name;
  if (kind !== 'Uint8Array' && kind !== natural) {
    throw new TypeError(
      `${label}: data for dtype ${dtype} must be a ${natural} or a Uint8Array of raw bytes, got ${kind ?? typeof data}`,
    );
  }
  const view = data as TensorData;
  const count = elementCount(shape as number[]);
  if (count === undefined || count * info.size > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`${label}: shape ${shapeText(shape as number[])} is too large`);
  }
  const want = count * info.size;
  if (view.byteLength !== want) {
    throw new RangeError(
      `${label}: data has ${view.byteLength} bytes, but dtype ${dtype} with shape ` +
        `${shapeText(shape as number[])} needs ${want}`,
    );
  }
  return {
    name,
    dtype,
    shape: (shape as number[]).slice(),
    bytes: new Uint8Array(view.buffer, view.byteOffset, view.byteLength),
    swap: !HOST_IS_LITTLE_ENDIAN && kind !== 'Uint8Array' && info.size > 1,
  };
}

function checkMetadata(metadata: unknown): [string, string][] {
  if (!isPlainObject(metadata)) throw new TypeError('metadata must be an object mapping strings to strings');
  const entries = Object.entries(metadata);
  for (const [k, v] of entries) {
    if (typeof v !== 'string') {
      throw new TypeError(`metadata[${JSON.stringify(k)}] must be a string, got ${v === null ? 'null' : typeof v}`);
    }
  }
  return entries as [string, string][];
}

/**
 * Encodes tensors (and optional string metadata) as a safetensors file in memory.
 *
 * Tensors are laid out in the data buffer sorted by name (UTF-16 code-unit order), so the same
 * input always gives the same bytes whatever the insertion order. The header is padded with
 * spaces so the data buffer starts at a multiple of 8 bytes. The `"__metadata__"` entry is
 * written when `metadata` is given (even if empty).
 *
 * @param tensors - name → {@link TensorRecord}, as a Map or a plain object.
 * @param metadata - optional string → string map stored under `"__metadata__"`.
 * @returns the file's bytes.
 * @throws TypeError when `tensors` is not a Map/object, a name is not a string, a record's
 *   dtype/shape/data has the wrong type (data must be the dtype's natural typed array or a
 *   Uint8Array), or `metadata` is not an object of strings (the message names the key);
 *   RangeError when a name is empty or `"__metadata__"`, the dtype is unknown, a shape entry is
 *   negative or not an integer, or `data.byteLength` differs from dtype size × product(shape)
 *   (the message names the tensor).
 * @example
 * ```ts
 * const bytes = encodeSafetensors(
 *   { w: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } },
 *   { step: '100' },
 * );
 * ```
 */
export function encodeSafetensors(
  tensors: Map<string, TensorRecord> | Record<string, TensorRecord>,
  metadata?: Record<string, string>,
): Buffer {
  let entries: [unknown, unknown][];
  if (tensors instanceof Map) entries = [...tensors.entries()];
  else if (isPlainObject(tensors)) entries = Object.entries(tensors);
  else throw new TypeError('tensors must be a Map or an object mapping names to tensor records');
  const checked = entries.map(([name, rec]) => checkTensor(name, rec));
  const meta = metadata === undefined ? undefined : checkMetadata(metadata);
  // Plain < / > compares code units, independent of the locale (localeCompare is not).
  checked.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  // The header JSON is assembled by hand rather than with JSON.stringify(object): object keys
  // such as "__proto__" or integer-like names ("0") would be dropped or reordered by an object.
  const parts: string[] = [];
  if (meta) {
    const m = meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',');
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${m}}`);
  }
  let offset = 0;
  for (const t of checked) {
    const begin = offset;
    offset += t.bytes.byteLength;
    const entry = { dtype: t.dtype, shape: t.shape, data_offsets: [begin, offset] };
    parts.push(`${JSON.stringify(t.name)}:${JSON.stringify(entry)}`);
  }
  const json = `{${parts.join(',')}}`;
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  const headerLen = Math.ceil((8 + jsonBytes) / DATA_ALIGNMENT) * DATA_ALIGNMENT - 8;
  const dataStart = 8 + headerLen;

  const out = Buffer.alloc(dataStart + offset);
  out.writeBigUInt64LE(BigInt(headerLen), 0);
  out.write(json, 8, 'utf8');
  out.fill(SPACE, 8 + jsonBytes, dataStart);
  let pos = dataStart;
  for (const t of checked) {
    out.set(t.bytes, pos);
    if (t.swap) swapBytes(out.subarray(pos, pos + t.bytes.byteLength), DTYPES[t.dtype].size);
    pos += t.bytes.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

interface ParsedEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(fail: (problem: string) => never, name: string, raw: unknown, dataLen: number): ParsedEntry {
  const label = `tensor ${JSON.stringify(name)}`;
  if (!isPlainObject(raw)) fail(`${label}: header entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (!isDtype(dtype)) {
    fail(`${label}: unknown dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPES).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    fail(`${label}: shape ${JSON.stringify(shape)} is not an array of non-negative integers`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)
  ) {
    fail(`${label}: data_offsets ${JSON.stringify(offsets)} is not a pair [begin, end] of non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`${label}: data_offsets [${begin}, ${end}] has begin after end`);
  if (end > dataLen) {
    fail(`${label}: data_offsets [${begin}, ${end}] run past the end of the data buffer (${dataLen} bytes)`);
  }
  const count = elementCount(shape as number[]);
  const size = DTYPES[dtype].size;
  if (count === undefined || count * size !== end - begin) {
    fail(
      `${label}: byte size mismatch: dtype ${dtype} with shape ${shapeText(shape as number[])} needs ` +
        `${count === undefined ? 'too many' : count * size} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype, shape: (shape as number[]).slice(), begin, end };
}

/** A typed-array view of `len` bytes at `start` of `bytes`, or a copy when misaligned. */
function tensorView(bytes: Uint8Array, start: number, len: number, dtype: SafetensorsDtype): TensorData {
  const { size, ctor } = DTYPES[dtype];
  const count = len / size;
  const abs = bytes.byteOffset + start;
  if (size === 1 || (HOST_IS_LITTLE_ENDIAN && abs % size === 0)) return new ctor(bytes.buffer, abs, count);
  // Typed-array views need byteOffset % element size === 0; otherwise copy into fresh storage.
  const out = new ctor(count);
  const raw = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  raw.set(bytes.subarray(start, start + len));
  if (!HOST_IS_LITTLE_ENDIAN) swapBytes(raw, size);
  return out;
}

/**
 * Parses a safetensors file held in memory.
 *
 * Each tensor's `data` is the natural typed array of its dtype (see {@link TensorRecord}). It is a
 * view into `bytes` (no copy) when its position is aligned for the element type, otherwise a
 * copy; so writing to a returned array may write to `bytes`, and a returned array keeps `bytes`
 * alive. The header is validated completely: every problem raises a
 * {@link SafetensorsFormatError} whose message starts with `source`. Entries of a tensor other than
 * dtype, shape and data_offsets are ignored.
 *
 * @param bytes - the whole file.
 * @param source - names the bytes in error messages, e.g. the file path. Default `'<safetensors bytes>'`.
 * @returns the tensors (in data order) and the metadata (`{}` when absent).
 * @throws TypeError when `bytes` is not a Uint8Array or `source` is not a string;
 *   SafetensorsFormatError when the bytes are too short for the length prefix, the header length
 *   runs past the end, the header is not UTF-8 JSON of an object, a dtype is unsupported, a shape
 *   is not an array of non-negative integers, data_offsets are malformed, out of range, overlap
 *   or leave gaps, a tensor's byte size does not match dtype × shape, or `"__metadata__"` is not
 *   a string → string map.
 * @example
 * ```ts
 * const { tensors, metadata } = decodeSafetensors(await readFile('model.safetensors'), 'model.safetensors');
 * const w = tensors.get('w')!.data as Float32Array;
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array, source = '<safetensors bytes>'): SafetensorsContents {
  if (typedArrayName(bytes) !== 'Uint8Array') throw new TypeError('bytes must be a Uint8Array (or Buffer)');
  if (typeof source !== 'string') throw new TypeError(`source must be a string, got ${typeof source}`);
  const fail = (problem: string): never => {
    throw new SafetensorsFormatError(source, problem);
  };

  if (bytes.byteLength < 8) {
    fail(`too short for a safetensors file: ${bytes.byteLength} bytes, the header length prefix alone needs 8`);
  }
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(bytes.byteLength - 8)) {
    fail(
      `header length ${n} runs past the end of the file ` +
        `(${bytes.byteLength} bytes, at most ${bytes.byteLength - 8} after the prefix)`,
    );
  }
  const headerLen = Number(n);
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    return fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isPlainObject(header)) {
    const got = header === null ? 'null' : Array.isArray(header) ? 'an array' : typeof header;
    fail(`header is not a JSON object (got ${got})`);
  }

  let metadata: Record<string, string> = {};
  const entries: ParsedEntry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (!isPlainObject(raw)) fail('"__metadata__" is not an object mapping strings to strings');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') {
          fail(`"__metadata__" is not a string → string map: value of ${JSON.stringify(k)} is ${JSON.stringify(v)}`);
        }
      }
      // fromEntries defines own properties, so a key like "__proto__" survives as data.
      metadata = Object.fromEntries(Object.entries(raw as Record<string, string>));
      continue;
    }
    entries.push(parseEntry(fail, name, raw, dataLen));
  }

  // The tensors must tile the data buffer: walking them in offset order, each must start exactly
  // where the previous one ended, and the last must end at the end of the file. Zero-size tensors
  // sort before a non-empty one at the same offset and tile trivially.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let previous: ParsedEntry | undefined;
  for (const e of entries) {
    if (e.begin < expected) {
      fail(
        `tensor ${JSON.stringify(e.name)} (data_offsets [${e.begin}, ${e.end}]) overlaps ` +
          `tensor ${JSON.stringify(previous!.name)} (data_offsets [${previous!.begin}, ${previous!.end}])`,
      );
    }
    if (e.begin > expected) {
      fail(
        `gap in the data buffer: bytes [${expected}, ${e.begin}) before tensor ${JSON.stringify(e.name)} ` +
          'belong to no tensor',
      );
    }
    expected = e.end;
    previous = e;
  }
  if (expected !== dataLen) {
    fail(`gap in the data buffer: bytes [${expected}, ${dataLen}) at its end belong to no tensor`);
  }

  const tensors = new Map<string, TensorRecord>();
  for (const e of entries) {
    tensors.set(e.name, {
      dtype: e.dtype,
      shape: e.shape,
      data: tensorView(bytes, dataStart + e.begin, e.end - e.begin, e.dtype),
    });
  }
  return { tensors, metadata };
}

// ---------------------------------------------------------------------------------------------
// Files

/** fsync a directory so a rename in it survives a crash; best effort. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms (Windows) and file systems cannot open or fsync a directory; the rename has
    // already happened, so the file is complete either way, only its durability is weaker.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Writes tensors to `path` as a safetensors file, atomically: readers of `path` see either the
 * old file or the complete new one, never a partial file, also across a crash.
 *
 * The bytes are encoded first (so invalid input never touches the disk), written to a temporary
 * file `${path}.tmp-${pid}-${random}` in the same directory, fsynced, renamed over `path`, and then
 * the directory is fsynced (best effort). On any failure the temporary file is removed and the
 * error is rethrown; an existing file at `path` is then left as it was. The new file gets the
 * default permissions of a new file (the old file's mode is not carried over).
 *
 * @param path - destination file; its directory must exist.
 * @param tensors - as for {@link encodeSafetensors}.
 * @param metadata - as for {@link encodeSafetensors}.
 * @throws (rejects with) TypeError when `path` is not a non-empty string, the errors of
 *   {@link encodeSafetensors}, or the file system's error (ENOENT, EACCES, EISDIR, …).
 * @example
 * ```ts
 * const w = new Float32Array([0.1, 0.2, 0.3]);
 * await writeSafetensorsFile('ckpt/step-100.safetensors', { w: { dtype: 'F32', shape: [3], data: w } }, { step: '100' });
 * ```
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: Map<string, TensorRecord> | Record<string, TensorRecord>,
  metadata?: Record<string, string>,
): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string');
  const bytes = encodeSafetensors(tensors, metadata);
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let handle: FileHandle | undefined;
  try {
    // 'wx': never write through a file (or symlink) that happens to exist under the temp name.
    handle = await open(tmp, 'wx');
    await handle.writeFile(bytes);
    await handle.sync();
    const h = handle;
    handle = undefined;
    await h.close();
    await rename(tmp, path);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dirname(path));
}

/**
 * Reads and parses a safetensors file; errors name `path`. The whole file is read into memory and
 * the returned arrays are views into it (see {@link decodeSafetensors}).
 *
 * @param path - the file to read.
 * @returns the tensors (in data order) and the metadata (`{}` when absent).
 * @throws (rejects with) TypeError when `path` is not a non-empty string, the file system's error
 *   (ENOENT, …), or a {@link SafetensorsFormatError} naming `path` when the file is malformed.
 * @example
 * ```ts
 * const { tensors, metadata } = await readSafetensorsFile('ckpt/step-100.safetensors');
 * ```
 */
export async function readSafetensorsFile(path: string): Promise<SafetensorsContents> {
  if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string');
  return decodeSafetensors(await readFile(path), path);
}
