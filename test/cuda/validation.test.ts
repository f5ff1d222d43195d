/**
 * Bad values found by the CUDA kernels are reported exactly as the CPU kernels report them: the
 * same error class and the same message (argument, flat index, offending value, rule), from host
 * arrays and from DeviceArrays, sync and async; the first bad element in the CPU's order wins when
 * there are several. Skipped, with the reason printed, where no GPU can be used.
 */
import { describe, expect, it } from 'vitest';
import * as api from '../../lib/index.js';
import { cudaAvailable, reportCudaSkip } from '../helpers/cuda.js';

reportCudaSkip('test/cuda/validation.test.ts');

type AnyFn = (...args: unknown[]) => unknown;
interface Case {
  what: string;
  fn: AnyFn;
  /** The arguments before the options object. */
  args: unknown[];
}

const f32 = (n: number, v = 0.25) => new Float32Array(n).fill(v);
const withAt = <T extends Float32Array | Int32Array | Uint8Array>(a: T, at: Record<number, number>): T => {
  const b = a.slice() as T;
  for (const [i, v] of Object.entries(at)) b[Number(i)] = v;
  return b;
};

const frShape = { rows: 3, cols: 5 };
const adj = { batch: 2, steps: 3, width: 4, lengths: new Int32Array([4, 4, 3, 2, 4, 1]) };
const att = { batch: 2, steps: 3, keys: 5, modality: new Uint8Array([0, 1, 1, 2, 2]) };
const coord = () => ({ frVis: f32(6, 0.3), frTxt: f32(6, 0.1), ratioVis: f32(6, 0.6), ratioTxt: f32(6, 0.4), mask: new Uint8Array([1, 1, 1, 1, 1, 0]), batch: 2, steps: 3 });
const loss = () => ({ logp: f32(6, -1), oldLogp: f32(6, -1.1), refLogp: f32(6, -0.9), advantages: new Float32Array([0.5, -0.5]), mask: new Uint8Array([1, 1, 1, 1, 1, 0]), batch: 2, steps: 3 });
const grpo = { algorithm: 'grpo' };

const cases: Case[] = [
  { what: 'fisherRao: NaN in p', fn: api.fisherRao as AnyFn, args: [withAt(f32(15), { 7: NaN }), f32(15), frShape] },
  { what: 'fisherRao: negative in q before a NaN in p of a later row', fn: api.fisherRao as AnyFn, args: [withAt(f32(15), { 12: NaN }), withAt(f32(15), { 6: -2 }), frShape] },
  { what: 'fisherRao: p and q bad in the same row (p first)', fn: api.fisherRao as AnyFn, args: [withAt(f32(15), { 9: Infinity }), withAt(f32(15), { 5: -1 }), frShape] },
  { what: 'fisherRaoAdjacent: a length above width', fn: api.fisherRaoAdjacent as AnyFn, args: [f32(24), { ...adj, lengths: withAt(adj.lengths, { 2: 5 }) }] },
  { what: 'fisherRaoAdjacent: a negative length after a NaN entry', fn: api.fisherRaoAdjacent as AnyFn, args: [withAt(f32(24), { 1: NaN }), { ...adj, lengths: withAt(adj.lengths, { 4: -1 }) }] },
  { what: 'fisherRaoAdjacent: NaN inside the prefix of the previous row', fn: api.fisherRaoAdjacent as AnyFn, args: [withAt(f32(24), { 13: NaN }), adj] },
  { what: 'fisherRaoAdjacent: Infinity without lengths', fn: api.fisherRaoAdjacent as AnyFn, args: [withAt(f32(24), { 23: Infinity }), { batch: 2, steps: 3, width: 4 }] },
  // Row 1's NaN lies past pair 1's common prefix (2) but inside pair 2's (3): the kernel screens a
  // row once, as the current row of one pair, and must still report it for the next. 130 steps, so
  // that pair 2 is inside a run of steps on small grids and at a run's start on large ones.
  { what: 'fisherRaoAdjacent: NaN past one pair\'s prefix, inside the next pair\'s', fn: api.fisherRaoAdjacent as AnyFn,
    args: [withAt(f32(130 * 4), { 6: NaN }), { batch: 1, steps: 130, width: 4, lengths: withAt(new Int32Array(130).fill(3), { 0: 2 }) }] },
  { what: 'fisherRaoAdjacent: -0 entries are fine, a negative entry later is not', fn: api.fisherRaoAdjacent as AnyFn,
    args: [withAt(f32(130 * 4), { 1: -0, 9: -0, 300: -1e-30 }), { batch: 1, steps: 130, width: 4 }] },
  { what: 'attentionStats: a modality label 3 after bad data', fn: api.attentionStats as AnyFn, args: [withAt(f32(30, 0.2), { 6: NaN }), { ...att, modality: new Uint8Array([0, 1, 3, 2, 2]) }] },
  { what: 'attentionStats: a length above keys', fn: api.attentionStats as AnyFn, args: [f32(30, 0.2), { ...att, lengths: new Int32Array([5, 5, 5, 6, 5, 5]) }] },
  { what: 'attentionStats: NaN on a vision key', fn: api.attentionStats as AnyFn, args: [withAt(f32(30, 0.2), { 6: NaN }), att] },
  { what: 'attentionStats: negative on a text key of a later row', fn: api.attentionStats as AnyFn, args: [withAt(f32(30, 0.2), { 14: -0.1, 28: NaN }), att] },
  // Rows longer than a warp's registers hold (1024 entries) go to whole-block teams, whose screen
  // and exact check take block-wide votes instead of warp votes.
  { what: 'fisherRao: rows of 2000 (block teams), -0 in one row, NaN in a later one', fn: api.fisherRao as AnyFn,
    args: [withAt(f32(3 * 2000), { 5: -0, [2000 + 1500]: NaN }), f32(3 * 2000), { rows: 3, cols: 2000 }] },
  { what: 'fisherRaoAdjacent: rows of 2000 (block teams), -0 early, -Infinity late', fn: api.fisherRaoAdjacent as AnyFn,
    args: [withAt(f32(4 * 2000), { 17: -0, [2000 + 3]: -0, [2 * 2000 + 1999]: -Infinity }), { batch: 1, steps: 4, width: 2000 }] },
  { what: 'attentionStats: rows of 2000 keys (block teams), -0 early, NaN on a text key late', fn: api.attentionStats as AnyFn,
    args: [withAt(f32(4 * 2000, 0.2), { 3: -0, [3 * 2000 + 1800]: NaN }), { batch: 1, steps: 4, keys: 2000, modality: new Uint8Array(2000).map((_, k) => (k < 1000 ? 1 : 2)) }] },
  { what: 'attentionStats: -0 on region keys is fine, a negative text key later is not', fn: api.attentionStats as AnyFn,
    args: [withAt(f32(130 * 5, 0.2), { 1: -0, 3: -0, 6: -0, 604: -1e-30 }), { ...att, batch: 1, steps: 130 }] },
  { what: 'coordinationScores: mask value 2', fn: api.coordinationScores as AnyFn, args: [{ ...coord(), mask: new Uint8Array([1, 1, 2, 1, 1, 1]) }] },
  { what: 'coordinationScores: bad values in several arrays and tokens (the first token, then the first array, wins)', fn: api.coordinationScores as AnyFn, args: [{ ...coord(), frTxt: withAt(f32(6, 0.1), { 4: NaN }), ratioVis: withAt(f32(6, 0.6), { 4: NaN, 2: Infinity }) }] },
  { what: 'policyLoss: mask value 255', fn: api.policyLoss as AnyFn, args: [{ ...loss(), mask: new Uint8Array([1, 1, 1, 255, 1, 0]) }, grpo] },
  { what: 'policyLoss: NaN in oldLogp before a NaN in logp (logp reported first)', fn: api.policyLoss as AnyFn, args: [{ ...loss(), logp: withAt(f32(6, -1), { 4: NaN }), oldLogp: withAt(f32(6, -1), { 1: NaN }) }, grpo] },
  { what: 'policyLoss: -Infinity in refLogp', fn: api.policyLoss as AnyFn, args: [{ ...loss(), refLogp: withAt(f32(6, -1), { 3: -Infinity }) }, grpo] },
  { what: 'policyLoss: NaN per-sequence advantage', fn: api.policyLoss as AnyFn, args: [{ ...loss(), advantages: new Float32Array([0.5, NaN]) }, grpo] },
  { what: 'policyLoss: Infinity per-token advantage (sapo, sequence level)', fn: api.policyLoss as AnyFn, args: [{ ...loss(), advantages: withAt(f32(6, 1), { 2: Infinity }) }, { algorithm: 'sapo', importanceLevel: 'sequence' }] },
  { what: 'policyLoss: NaN in logp with dapo (token-count pass)', fn: api.policyLoss as AnyFn, args: [{ ...loss(), logp: withAt(f32(6, -1), { 0: NaN }) }, { algorithm: 'dapo' }] },
];

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to throw');
}

/** The same arguments with every TypedArray (top level and one level into objects) uploaded. */
function onDevice(args: unknown[]): { args: unknown[]; arrays: api.DeviceArray[] } {
  const arrays: api.DeviceArray[] = [];
  const up = (v: unknown): unknown => {
    if (v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array) {
      const d = api.DeviceArray.upload(v as Float32Array);
      arrays.push(d);
      return d;
    }
    return v;
  };
  const mapped = args.map((a) => {
    if (ArrayBuffer.isView(a)) return up(a);
    if (a && typeof a === 'object' && !Array.isArray(a)) return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, up(v)]));
    return a;
  });
  return { args: mapped, arrays };
}

describe.skipIf(!cudaAvailable)('CUDA validation errors equal the CPU ones', () => {
  for (const c of cases) {
    it(c.what, async () => {
      const cpu = thrown(() => c.fn(...c.args, { device: 'cpu' }));
      expect(cpu).toBeInstanceOf(RangeError);
      const gpu = thrown(() => c.fn(...c.args, { device: 'cuda' }));
      expect(gpu.constructor).toBe(cpu.constructor);
      expect(gpu.message).toBe(cpu.message);
      const asyncName = `${(c.fn as { name: string }).name}Async` as keyof typeof api;
      await expect((api[asyncName] as AnyFn)(...c.args, { device: 'cuda' }) as Promise<unknown>).rejects.toThrow(cpu.message);
      const device = onDevice(c.args);
      const fromDevice = thrown(() => c.fn(...device.args));
      expect(fromDevice.message).toBe(cpu.message);
      for (const a of device.arrays) a.dispose();
    });
  }
});
