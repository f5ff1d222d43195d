/**
 * The safetensors reader/writer: round trips of every dtype (scalars and zero-size tensors
 * included), the exact bytes of a small file built by hand from the format description, metadata,
 * every malformed input rejected with a message naming its source, and the atomic file write
 * (a failed write leaves neither a temp file nor a changed destination).
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensorsFile,
  writeSafetensorsFile,
  SafetensorsFormatError,
  type SafetensorsDtype,
  type TensorRecord,
} from '../lib/safetensors.js';
import { expectBitEqual, expectRejectsNamed, expectThrowsNamed } from './helpers/assert.js';

// ---------------------------------------------------------------------------------------------
// Helpers written from the format description, independent of lib/safetensors.ts.

const ascii = (s: string): number[] => [...Buffer.from(s, 'utf8')];

/** u64 little-endian, byte by byte. */
function u64le(n: bigint): number[] {
  const out: number[] = [];
  for (let i = 0; i < 8; i++) out.push(Number((n >> BigInt(8 * i)) & 0xffn));
  return out;
}

/** A file from a header (string or raw bytes) and data bytes; `declared` overrides the length prefix. */
function rawFile(header: string | number[], data: number[] = [], declared?: bigint): Uint8Array {
  const h = typeof header === 'string' ? ascii(header) : header;
  return Uint8Array.from([...u64le(declared ?? BigInt(h.length)), ...h, ...data]);
}

/** A file whose header is `JSON.stringify(header)`, with `dataLen` zero bytes of data. */
function jsonFile(header: unknown, dataLen = 0): Uint8Array {
  return rawFile(JSON.stringify(header), new Array<number>(dataLen).fill(0));
}

/** Byte length of the header and the data start, read back from a file's prefix. */
function layout(bytes: Uint8Array): { headerLen: number; dataStart: number } {
  let n = 0;
  for (let i = 7; i >= 0; i--) n = n * 256 + bytes[i]!;
  return { headerLen: n, dataStart: 8 + n };
}

// One tensor per dtype with awkward values (NaN, −0, extremes, raw half-float bit patterns).
function sampleTensors(): Map<string, TensorRecord> {
  const m = new Map<string, TensorRecord>();
  const add = (name: string, dtype: SafetensorsDtype, shape: number[], data: TensorRecord['data']) =>
    m.set(name, { dtype, shape, data });
  add('f32', 'F32', [2, 3], new Float32Array([1.5, -0, NaN, Infinity, -3.4028234663852886e38, 1e-45]));
  add('f64', 'F64', [3, 2], new Float64Array([Math.PI, -0, NaN, -Infinity, 5e-324, Number.MAX_VALUE]));
  add('i32', 'I32', [4], new Int32Array([0, -1, 2147483647, -2147483648]));
  add('i64', 'I64', [2, 2], new BigInt64Array([0n, -1n, 2n ** 63n - 1n, -(2n ** 63n)]));
  add('u8', 'U8', [5], new Uint8Array([0, 1, 127, 128, 255]));
  add('i8', 'I8', [1, 4], new Int8Array([0, -1, 127, -128]));
  add('i16', 'I16', [3], new Int16Array([0, -32768, 32767]));
  add('u16', 'U16', [3], new Uint16Array([0, 1, 65535]));
  add('f16', 'F16', [2, 2], new Uint16Array([0x3c00, 0x8000, 0x7e00, 0x7c00]));
  add('bf16', 'BF16', [2, 2], new Uint16Array([0x3f80, 0x8000, 0x7fc1, 0xff80]));
  add('bool', 'BOOL', [2, 1, 2], new Uint8Array([1, 0, 0, 1]));
  return m;
}

const NATURAL: Record<SafetensorsDtype, string> = {
  F32: 'Float32Array',
  F64: 'Float64Array',
  I32: 'Int32Array',
  I64: 'BigInt64Array',
  U8: 'Uint8Array',
  I8: 'Int8Array',
  I16: 'Int16Array',
  U16: 'Uint16Array',
  F16: 'Uint16Array',
  BF16: 'Uint16Array',
  BOOL: 'Uint8Array',
};
const ALL_DTYPES = Object.keys(NATURAL) as SafetensorsDtype[];

function emptyOf(dtype: SafetensorsDtype, n: number): TensorRecord['data'] {
  switch (NATURAL[dtype]) {
    case 'Float32Array': return new Float32Array(n);
    case 'Float64Array': return new Float64Array(n);
    case 'Int32Array': return new Int32Array(n);
    case 'BigInt64Array': return new BigInt64Array(n);
    case 'Int8Array': return new Int8Array(n);
    case 'Int16Array': return new Int16Array(n);
    case 'Uint16Array': return new Uint16Array(n);
    default: return new Uint8Array(n);
  }
}

/** Every decoded tensor equals the original: dtype, shape, natural array type, identical bits. */
function expectSameTensors(got: Map<string, TensorRecord>, want: Map<string, TensorRecord>): void {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [name, w] of want) {
    const g = got.get(name)!;
    expect(g.dtype, name).toBe(w.dtype);
    expect(g.shape, name).toEqual(w.shape);
    expect(g.data.constructor.name, `${name}: array type`).toBe(NATURAL[w.dtype]);
    expectBitEqual(g.data, w.data, name);
  }
}

// ---------------------------------------------------------------------------------------------

describe('round trip', () => {
  it('every dtype, bit for bit, as its natural typed array', () => {
    const want = sampleTensors();
    const { tensors, metadata } = decodeSafetensors(encodeSafetensors(want));
    expectSameTensors(tensors, want);
    expect(metadata).toEqual({});
  });

  it('scalars (shape []) of every dtype hold one element', () => {
    const want = new Map<string, TensorRecord>();
    for (const dtype of ALL_DTYPES) {
      const data = emptyOf(dtype, 1);
      if (data instanceof BigInt64Array) data[0] = -42n;
      else data[0] = dtype === 'BOOL' ? 1 : 7;
      want.set(`scalar_${dtype}`, { dtype, shape: [], data });
    }
    const { tensors } = decodeSafetensors(encodeSafetensors(want));
    expectSameTensors(tensors, want);
    expect(tensors.get('scalar_I64')!.data[0]).toBe(-42n);
  });

  it('zero-size tensors of every dtype, mixed with non-empty ones sharing their offsets', () => {
    const want = sampleTensors();
    for (const dtype of ALL_DTYPES) {
      want.set(`empty_${dtype}_a`, { dtype, shape: [0], data: emptyOf(dtype, 0) });
      want.set(`empty_${dtype}_b`, { dtype, shape: [2, 0, 3], data: emptyOf(dtype, 0) });
    }
    const bytes = encodeSafetensors(want);
    const { tensors } = decodeSafetensors(bytes);
    expectSameTensors(tensors, want);
    const header = JSON.parse(Buffer.from(bytes.subarray(8, layout(bytes).dataStart)).toString('utf8'));
    expect(header.empty_F32_b.data_offsets[0]).toBe(header.empty_F32_b.data_offsets[1]);
  });

  it('a file with no tensors, or only zero-size ones, has an empty data buffer', () => {
    for (const want of [
      new Map<string, TensorRecord>(),
      new Map<string, TensorRecord>([['z', { dtype: 'F64', shape: [0, 4], data: new Float64Array(0) }]]),
    ]) {
      const bytes = encodeSafetensors(want);
      expect(bytes.length).toBe(layout(bytes).dataStart);
      expectSameTensors(decodeSafetensors(bytes).tensors, want);
    }
  });

  it('odd names (unicode, "__proto__", integer-like) survive', () => {
    const want = new Map<string, TensorRecord>();
    for (const name of ['__proto__', '0', '10', 'ünï/cødé.weight', 'a "quoted" name', 'constructor']) {
      want.set(name, { dtype: 'I16', shape: [1], data: new Int16Array([name.length]) });
    }
    expectSameTensors(decodeSafetensors(encodeSafetensors(want)).tensors, want);
  });

  it('a Map and a plain object in any insertion order give identical bytes (layout sorted by name)', () => {
    const t = sampleTensors();
    const reversed = new Map([...t].reverse());
    const obj = Object.fromEntries(t) as Record<string, TensorRecord>;
    const a = encodeSafetensors(t);
    expect(encodeSafetensors(reversed).equals(a)).toBe(true);
    expect(encodeSafetensors(obj).equals(a)).toBe(true);
    // Data order follows the names.
    const order = [...decodeSafetensors(a).tensors.keys()];
    expect(order).toEqual([...t.keys()].sort());
  });

  it('raw little-endian bytes in a Uint8Array are accepted for any dtype', () => {
    const raw = Uint8Array.from([0, 0, 0xc0, 0x3f, 0, 0, 0x80, 0xbe]); // 1.5, -0.25 as F32
    const { tensors } = decodeSafetensors(encodeSafetensors({ x: { dtype: 'F32', shape: [2], data: raw } }));
    expect([...(tensors.get('x')!.data as Float32Array)]).toEqual([1.5, -0.25]);
  });

  it('a view of a larger array (non-zero byteOffset) writes only its own bytes', () => {
    const big = new Float64Array([9, 1, 2, 3, 9]);
    const { tensors } = decodeSafetensors(encodeSafetensors({ x: { dtype: 'F64', shape: [3], data: big.subarray(1, 4) } }));
    expect([...(tensors.get('x')!.data as Float64Array)]).toEqual([1, 2, 3]);
  });

  it('aligned tensors are zero-copy views into the input; misaligned ones are correct copies', () => {
    // "a" (3 bytes of U8) pushes "b" (F64) to data offset 3: misaligned for an 8-byte type.
    const bytes = encodeSafetensors({
      a: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
      b: { dtype: 'F64', shape: [2], data: new Float64Array([0.5, -2]) },
      c: { dtype: 'U8', shape: [5], data: new Uint8Array(5) },
      d: { dtype: 'F32', shape: [1], data: new Float32Array([4]) },
    });
    const { tensors } = decodeSafetensors(bytes);
    const a = tensors.get('a')!.data;
    const b = tensors.get('b')!.data as Float64Array;
    const d = tensors.get('d')!.data as Float32Array; // data offset 24: aligned
    expect(a.buffer).toBe(bytes.buffer);
    expect(d.buffer).toBe(bytes.buffer);
    expect(b.buffer).not.toBe(bytes.buffer);
    expect([...b]).toEqual([0.5, -2]);
    d[0] = 8; // a view: writes through to the bytes
    expect(decodeSafetensors(bytes).tensors.get('d')!.data[0]).toBe(8);
    // The same file at an odd position in a larger buffer: every multi-byte tensor is copied.
    const shifted = new Uint8Array(bytes.length + 1).subarray(1);
    shifted.set(bytes);
    const again = decodeSafetensors(shifted).tensors;
    expect(again.get('d')!.data.buffer).not.toBe(shifted.buffer);
    expect([...(again.get('d')!.data as Float32Array)]).toEqual([8]);
    expect([...(again.get('b')!.data as Float64Array)]).toEqual([0.5, -2]);
  });
});

describe('bytes on disk follow the format', () => {
  // a: F32 [2] = [1.5, -0.25]; b: I16 [3] = [1, -2, 3]; metadata {k: v}.
  const f32Bytes = [0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x80, 0xbe];
  const i16Bytes = [0x01, 0x00, 0xfe, 0xff, 0x03, 0x00];
  const input = () => ({
    b: { dtype: 'I16' as const, shape: [3], data: new Int16Array([1, -2, 3]) },
    a: { dtype: 'F32' as const, shape: [2], data: new Float32Array([1.5, -0.25]) },
  });

  it('length prefix, header padded with spaces to an 8-byte data start, offsets and data', () => {
    const bytes = encodeSafetensors(input(), { k: 'v' });
    const { headerLen, dataStart } = layout(bytes);
    expect(dataStart % 8).toBe(0);
    expect(bytes.length).toBe(dataStart + 14);
    const text = Buffer.from(bytes.subarray(8, dataStart)).toString('utf8');
    const json = text.trimEnd();
    expect(text.slice(json.length)).toMatch(/^ *$/);
    expect(headerLen - Buffer.byteLength(json)).toBeLessThan(8); // minimal padding
    expect(JSON.parse(json)).toEqual({
      __metadata__: { k: 'v' },
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'I16', shape: [3], data_offsets: [8, 14] },
    });
    expect([...bytes.subarray(dataStart)]).toEqual([...f32Bytes, ...i16Bytes]);
  });

  it('the encoder output is exactly the hand-built file', () => {
    const json =
      '{"__metadata__":{"k":"v"},' +
      '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
      '"b":{"dtype":"I16","shape":[3],"data_offsets":[8,14]}}';
    const padded = json + ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
    const expected = rawFile(padded, [...f32Bytes, ...i16Bytes]);
    expect([...encodeSafetensors(input(), { k: 'v' })]).toEqual([...expected]);
  });

  it('decodes a hand-built file with an unpadded header (data start not aligned)', () => {
    const json =
      '{"c":{"dtype":"U8","shape":[2],"data_offsets":[14,16]},' +
      '"__metadata__":{"format":"pt"},' +
      '"a":{"dtype":"F64","shape":[],"data_offsets":[0,8]},' +
      '"b":{"dtype":"I16","shape":[3],"data_offsets":[8,14]}} '; // one trailing space
    const f64 = [0, 0, 0, 0, 0, 0, 0xf8, 0x3f]; // 1.5
    const bytes = rawFile(json, [...f64, ...i16Bytes, 7, 9]);
    expect((8 + json.length) % 2).toBe(1); // data start odd: no multi-byte tensor is aligned
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()]).toEqual(['a', 'b', 'c']); // data order, not header order
    expect(tensors.get('a')!.shape).toEqual([]);
    expect([...(tensors.get('a')!.data as Float64Array)]).toEqual([1.5]);
    expect([...(tensors.get('b')!.data as Int16Array)]).toEqual([1, -2, 3]);
    expect(tensors.get('b')!.data.buffer).not.toBe(bytes.buffer); // copied
    expect([...tensors.get('c')!.data]).toEqual([7, 9]);
  });

  it('a header with leading whitespace and extra entry fields still decodes', () => {
    const json = '  {"x":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1],"note":"ignored"}}  ';
    const { tensors } = decodeSafetensors(rawFile(json, [1]));
    expect(tensors.get('x')).toEqual({ dtype: 'BOOL', shape: [1], data: Uint8Array.from([1]) });
  });
});

describe('metadata', () => {
  it('round trips, including unicode, empty strings and "__proto__" keys', () => {
    const metadata = Object.fromEntries([
      ['format', 'pt'],
      ['step', '1200'],
      ['empty', ''],
      ['ünïcødé ✓', '値 "quoted" \n newline'],
      ['__proto__', 'plain data'],
    ]);
    const got = decodeSafetensors(encodeSafetensors(sampleTensors(), metadata)).metadata;
    expect(Object.entries(got)).toEqual(Object.entries(metadata));
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
  });

  it('an empty metadata map is written and reads back as {}; absent metadata reads back as {}', () => {
    const withEmpty = encodeSafetensors({}, {});
    expect(Buffer.from(withEmpty.subarray(8)).toString('utf8').trimEnd()).toBe('{"__metadata__":{}}');
    expect(decodeSafetensors(withEmpty).metadata).toEqual({});
    expect(decodeSafetensors(encodeSafetensors({})).metadata).toEqual({});
  });
});

describe('encodeSafetensors validation', () => {
  const f32 = (n: number) => new Float32Array(n);
  const rec = (over: Partial<Record<keyof TensorRecord, unknown>>) =>
    ({ w: { dtype: 'F32', shape: [2], data: f32(2), ...over } }) as unknown as Record<string, TensorRecord>;
  const cases: [string, () => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ['tensors null', () => encodeSafetensors(null as never), TypeError, /tensors/],
    ['tensors an array', () => encodeSafetensors([] as never), TypeError, /tensors/],
    ['non-string Map key', () => encodeSafetensors(new Map([[1, rec({}).w]]) as never), TypeError, /names must be strings/],
    ['empty name', () => encodeSafetensors({ '': rec({}).w! }), RangeError, /name must not be empty/],
    ['name __metadata__', () => encodeSafetensors({ __metadata__: rec({}).w! }), RangeError, /"__metadata__" is reserved/],
    ['record not an object', () => encodeSafetensors({ w: 3 } as never), TypeError, /tensor "w"/],
    ['dtype not a string', () => encodeSafetensors(rec({ dtype: 4 })), TypeError, /tensor "w": dtype/],
    ['unknown dtype', () => encodeSafetensors(rec({ dtype: 'F8_E4M3' })), RangeError, /tensor "w": unknown dtype "F8_E4M3"/],
    ['shape not an array', () => encodeSafetensors(rec({ shape: 2 })), TypeError, /tensor "w": shape/],
    ['shape entry a string', () => encodeSafetensors(rec({ shape: ['2'] })), TypeError, /tensor "w": shape\[0\]/],
    ['negative shape', () => encodeSafetensors(rec({ shape: [-2] })), RangeError, /tensor "w": shape\[0\] = -2/],
    ['fractional shape', () => encodeSafetensors(rec({ shape: [1, 1.5] })), RangeError, /tensor "w": shape\[1\] = 1.5/],
    ['data a plain array', () => encodeSafetensors(rec({ data: [1, 2] })), TypeError, /tensor "w": data .*Float32Array/],
    ['data of another type', () => encodeSafetensors(rec({ data: new Int32Array(2) })), TypeError, /tensor "w": data .*Int32Array/],
    ['data too short', () => encodeSafetensors(rec({ shape: [3] })), RangeError, /tensor "w": data has 8 bytes.*needs 12/],
    ['data too long', () => encodeSafetensors(rec({ shape: [] })), RangeError, /tensor "w": data has 8 bytes.*needs 4/],
    ['raw bytes of the wrong size', () => encodeSafetensors(rec({ data: new Uint8Array(7) })), RangeError, /tensor "w": data has 7 bytes/],
    ['metadata not an object', () => encodeSafetensors({}, 'x' as never), TypeError, /metadata/],
    ['metadata value a number', () => encodeSafetensors({}, { step: 3 } as never), TypeError, /metadata\["step"\] must be a string/],
    ['metadata value null', () => encodeSafetensors({}, { a: null } as never), TypeError, /metadata\["a"\]/],
  ];
  for (const [what, fn, cls, pattern] of cases) {
    it(`${what} → ${cls.name} ${pattern}`, () => expectThrowsNamed(fn, cls, pattern));
  }
});

describe('decodeSafetensors rejects malformed files', () => {
  const SOURCE = 'ckpt/bad.safetensors';
  const t = (dtype: unknown, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty file', new Uint8Array(0), /too short/],
    ['7 bytes', new Uint8Array(7), /too short/],
    ['header length beyond the file', rawFile('{}', [], 100n), /header length 100 runs past the end of the file/],
    ['header length 2^64 - 1', rawFile('{}', [], 2n ** 64n - 1n), /header length 18446744073709551615 runs past/],
    ['header not UTF-8', rawFile([0x7b, 0xff, 0x7d]), /not valid UTF-8/],
    ['empty header', rawFile(''), /not valid JSON/],
    ['header not JSON', rawFile('{"a":'), /not valid JSON/],
    ['header an array', rawFile('[]'), /not a JSON object.*array/],
    ['header null', rawFile('null'), /not a JSON object.*null/],
    ['header a number', rawFile('42'), /not a JSON object.*number/],
    ['entry not an object', jsonFile({ x: 5 }), /tensor "x": header entry is not an object/],
    ['unknown dtype', jsonFile({ x: t('F128', [1], [0, 16]) }, 16), /tensor "x": unknown dtype "F128"/],
    ['lower-case dtype', jsonFile({ x: t('f32', [1], [0, 4]) }, 4), /tensor "x": unknown dtype "f32"/],
    ['missing dtype', jsonFile({ x: { shape: [1], data_offsets: [0, 4] } }, 4), /tensor "x": unknown dtype/],
    ['shape not an array', jsonFile({ x: t('F32', 1, [0, 4]) }, 4), /tensor "x": shape 1 is not an array of non-negative integers/],
    ['missing shape', jsonFile({ x: { dtype: 'F32', data_offsets: [0, 4] } }, 4), /tensor "x": shape .*not an array/],
    ['negative shape', jsonFile({ x: t('F32', [-1], [0, 4]) }, 4), /tensor "x": shape \[-1\] is not/],
    ['fractional shape', jsonFile({ x: t('F32', [0.5], [0, 4]) }, 4), /tensor "x": shape \[0.5\] is not/],
    ['string shape entry', jsonFile({ x: t('F32', ['1'], [0, 4]) }, 4), /tensor "x": shape \["1"\] is not/],
    ['missing offsets', jsonFile({ x: { dtype: 'F32', shape: [1] } }, 4), /tensor "x": data_offsets .*not a pair/],
    ['offsets not a pair', jsonFile({ x: t('F32', [1], [0, 4, 8]) }, 4), /tensor "x": data_offsets \[0,4,8\] is not a pair/],
    ['negative offset', jsonFile({ x: t('F32', [1], [-4, 0]) }, 4), /tensor "x": data_offsets .*not a pair.*non-negative/],
    ['fractional offset', jsonFile({ x: t('F32', [1], [0, 3.5]) }, 4), /tensor "x": data_offsets .*not a pair/],
    ['string offsets', jsonFile({ x: t('F32', [1], ['0', '4']) }, 4), /tensor "x": data_offsets .*not a pair/],
    ['begin after end', jsonFile({ x: t('F32', [0], [4, 0]) }, 4), /tensor "x": data_offsets \[4, 0\] has begin after end/],
    ['end beyond the data', jsonFile({ x: t('F32', [2], [0, 8]) }, 4), /tensor "x": data_offsets \[0, 8\] run past the end of the data buffer \(4 bytes\)/],
    ['byte size too small', jsonFile({ x: t('F32', [2], [0, 4]) }, 4), /tensor "x": byte size mismatch.*needs 8 bytes.*hold 4/],
    ['byte size too large', jsonFile({ x: t('I64', [], [0, 16]) }, 16), /tensor "x": byte size mismatch.*needs 8 bytes.*hold 16/],
    ['shape overflowing', jsonFile({ x: t('F64', [2 ** 30, 2 ** 30, 2 ** 30], [0, 8]) }, 8), /tensor "x": byte size mismatch/],
    ['overlap', jsonFile({ a: t('F32', [2], [0, 8]), b: t('F32', [2], [4, 12]) }, 12), /tensor "b" .*overlaps tensor "a"/],
    ['same range twice', jsonFile({ a: t('F32', [1], [0, 4]), b: t('I32', [1], [0, 4]) }, 4), /overlaps/],
    ['zero-size inside another', jsonFile({ a: t('F32', [2], [0, 8]), z: t('F32', [0], [4, 4]) }, 8), /tensor "z" .*overlaps tensor "a"/],
    ['gap at the start', jsonFile({ a: t('F32', [1], [4, 8]) }, 8), /gap in the data buffer: bytes \[0, 4\) before tensor "a"/],
    ['gap in the middle', jsonFile({ a: t('F32', [1], [0, 4]), b: t('F32', [1], [8, 12]) }, 12), /gap .*\[4, 8\) before tensor "b"/],
    ['trailing bytes', jsonFile({ a: t('F32', [1], [0, 4]) }, 8), /gap .*\[4, 8\) at its end/],
    ['data but no tensors', jsonFile({}, 3), /gap .*\[0, 3\) at its end/],
    ['metadata a string', jsonFile({ __metadata__: 'x' }), /"__metadata__" is not an object/],
    ['metadata an array', jsonFile({ __metadata__: ['x'] }), /"__metadata__" is not an object/],
    ['metadata null', jsonFile({ __metadata__: null }), /"__metadata__" is not an object/],
    ['metadata number value', jsonFile({ __metadata__: { step: 3 } }), /"__metadata__" is not a string → string map: value of "step" is 3/],
    ['metadata nested value', jsonFile({ __metadata__: { a: { b: 'c' } } }), /value of "a"/],
  ];
  for (const [what, bytes, pattern] of cases) {
    it(`${what} → ${pattern}`, () => {
      let err: unknown;
      try {
        decodeSafetensors(bytes, SOURCE);
      } catch (e) {
        err = e;
      }
      expect(err, 'should throw').toBeInstanceOf(SafetensorsFormatError);
      const e = err as SafetensorsFormatError;
      expect(e.message.startsWith(`${SOURCE}: `), e.message).toBe(true);
      expect(e.message).toMatch(pattern);
      expect(e.source).toBe(SOURCE);
      expect(e.name).toBe('SafetensorsFormatError');
    });
  }

  it('without a source, messages name the bytes generically', () => {
    expect(() => decodeSafetensors(new Uint8Array(3))).toThrow(/^<safetensors bytes>: too short/);
  });

  it('a wrong argument type is a TypeError, not a format error', () => {
    expectThrowsNamed(() => decodeSafetensors('abc' as never), TypeError, /bytes/);
    expectThrowsNamed(() => decodeSafetensors(new Float32Array(4) as never), TypeError, /bytes/);
    expectThrowsNamed(() => decodeSafetensors(new Uint8Array(8), 5 as never), TypeError, /source/);
  });
});

describe('files', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dyco-safetensors-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const small = (v: number): Record<string, TensorRecord> => ({
    w: { dtype: 'F32', shape: [2], data: new Float32Array([v, -v]) },
  });

  it('writes a file that reads back, leaving nothing else in the directory', async () => {
    const path = join(dir, 'model.safetensors');
    const want = sampleTensors();
    await writeSafetensorsFile(path, want, { step: '7' });
    expect(await readdir(dir)).toEqual(['model.safetensors']);
    const { tensors, metadata } = await readSafetensorsFile(path);
    expectSameTensors(tensors, want);
    expect(metadata).toEqual({ step: '7' });
    expect((await readFile(path)).equals(encodeSafetensors(want, { step: '7' }))).toBe(true);
  });

  it('overwriting replaces the whole contents (a shorter file leaves no old tail)', async () => {
    const path = join(dir, 'model.safetensors');
    await writeSafetensorsFile(path, sampleTensors(), { run: 'first' });
    await writeSafetensorsFile(path, small(3));
    expect((await readFile(path)).equals(encodeSafetensors(small(3)))).toBe(true);
    const { tensors, metadata } = await readSafetensorsFile(path);
    expect([...(tensors.get('w')!.data as Float32Array)]).toEqual([3, -3]);
    expect(metadata).toEqual({});
    expect(await readdir(dir)).toEqual(['model.safetensors']);
  });

  it('a missing target directory rejects and leaves no temp file', async () => {
    const path = join(dir, 'missing', 'model.safetensors');
    await expect(writeSafetensorsFile(path, small(1))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('an invalid tensor rejects before touching the disk: the existing file is unchanged', async () => {
    const path = join(dir, 'model.safetensors');
    await writeSafetensorsFile(path, small(1));
    const before = await readFile(path);
    const bad = { w: { dtype: 'F32', shape: [3], data: new Float32Array(2) } } as Record<string, TensorRecord>;
    await expectRejectsNamed(() => writeSafetensorsFile(path, bad), RangeError, /tensor "w"/);
    await expectRejectsNamed(() => writeSafetensorsFile(path, small(2), { a: 1 } as never), TypeError, /metadata\["a"\]/);
    expect((await readFile(path)).equals(before)).toBe(true);
    expect(await readdir(dir)).toEqual(['model.safetensors']);
  });

  it('a failing rename (path is a directory) removes the temp file and leaves the directory alone', async () => {
    const path = join(dir, 'model.safetensors');
    await mkdir(path);
    await writeFile(join(path, 'keep.txt'), 'keep');
    await expect(writeSafetensorsFile(path, small(1))).rejects.toMatchObject({ code: expect.stringMatching(/^E/) });
    expect(await readdir(dir)).toEqual(['model.safetensors']);
    expect(await readFile(join(path, 'keep.txt'), 'utf8')).toBe('keep');
  });

  it('concurrent writes to one path leave exactly one complete file', async () => {
    const path = join(dir, 'model.safetensors');
    const versions = Array.from({ length: 8 }, (_, i) => {
      const n = 1000 * (i + 1); // different sizes, so a mix of two would not decode
      return { w: { dtype: 'F64' as const, shape: [n], data: new Float64Array(n).fill(i) } };
    });
    await Promise.all(versions.map((v) => writeSafetensorsFile(path, v)));
    expect(await readdir(dir)).toEqual(['model.safetensors']);
    const got = (await readSafetensorsFile(path)).tensors.get('w')!.data as Float64Array;
    const i = got[0]!;
    expect(got.length).toBe(1000 * (i + 1));
    expect(got.every((x) => x === i)).toBe(true);
  });

  it('reading a malformed or truncated file rejects with a format error naming the path', async () => {
    const path = join(dir, 'model.safetensors');
    await writeSafetensorsFile(path, small(1));
    const full = (await readFile(path)).length;
    await truncate(path, full - 2);
    await expectRejectsNamed(() => readSafetensorsFile(path), SafetensorsFormatError, new RegExp(`^${escape(path)}: .*run past the end of the data buffer`));
    await writeFile(path, 'not a safetensors file');
    await expectRejectsNamed(() => readSafetensorsFile(path), SafetensorsFormatError, new RegExp(`^${escape(path)}: header length`));
  });

  it('reading a missing file rejects with the file-system error', async () => {
    await expect(readSafetensorsFile(join(dir, 'nope.safetensors'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('bad path arguments reject with a TypeError', async () => {
    await expectRejectsNamed(() => writeSafetensorsFile('', small(1)), TypeError, /path/);
    await expectRejectsNamed(() => readSafetensorsFile(42 as never), TypeError, /path/);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
