/**
 * The adversarial inputs the CUDA kernels are checked on: the situations the CPU tests pin down
 * (zero-mass rows, one-hot and disjoint rows, tiny shifts, denormal and huge magnitudes, growing,
 * shrinking and empty prefixes, garbage and NaN where nothing may be read, masked and empty
 * sequences, every loss algorithm), plus the shapes that pick each CUDA code path: widths that are
 * or are not multiples of the 16-byte vector, rows that fit a warp's registers, a block's, or
 * neither, and enough rows to spread over every multiprocessor. Built from the same seeded
 * generators as the CPU tests.
 */
import { Modality, type PolicyAlgorithm, type PolicyLossConfig } from '../../lib/index.js';
import { Rng } from '../helpers/prng.js';
import { growingLayout, makePolicyCase, makeSmoothPolicyCase, tinyShiftCase, type PolicyCase } from '../helpers/data.js';

export interface FisherRaoCase {
  name: string;
  p: Float32Array;
  q: Float32Array;
  rows: number;
  cols: number;
}

export interface AdjacentCase {
  name: string;
  x: Float32Array;
  /** Entries that must never be read (NaN there) are replaced by these clean values for the oracle. */
  clean?: Float32Array;
  batch: number;
  steps: number;
  width: number;
  lengths?: Int32Array;
}

export interface AttentionCase {
  name: string;
  attn: Float32Array;
  clean?: Float32Array;
  batch: number;
  steps: number;
  keys: number;
  modality: Uint8Array;
  lengths?: Int32Array;
}

export interface CoordinationCase {
  name: string;
  frVis: Float32Array;
  frTxt: Float32Array;
  ratioVis: Float32Array;
  ratioTxt: Float32Array;
  mask?: Uint8Array;
  batch: number;
  steps: number;
  tauVis?: number;
  tauTxt?: number;
}

export interface PolicyCaseWithConfig {
  name: string;
  input: PolicyCase;
  config: PolicyLossConfig;
}

// ---------------------------------------------------------------------------------------------
// fisherRao
// ---------------------------------------------------------------------------------------------

export function fisherRaoCases(): FisherRaoCase[] {
  const cases: FisherRaoCase[] = [];
  const rng = new Rng(11);
  // Vector and scalar loads (cols % 4), warp rows (≤ 1024), block rows (≤ 4096) and longer.
  for (const cols of [1, 2, 3, 7, 16, 31, 64, 257, 1000, 1024, 1025, 2048, 4096, 4100, 9000]) {
    const rows = 40;
    cases.push({ name: `random rows, cols ${cols}`, p: rng.probRows(rows, cols, rng.range(0.3, 3)), q: rng.probRows(rows, cols, rng.range(0.3, 3)), rows, cols });
  }
  {
    const r = new Rng(12);
    const rows = 30;
    const cols = 50;
    const p = r.probRows(rows, cols);
    const q = r.probRows(rows, cols);
    for (let i = 0; i < rows; i++) {
      const sp = 10 ** r.range(-6, 6);
      const sq = 10 ** r.range(-6, 6);
      for (let c = 0; c < cols; c++) {
        p[i * cols + c]! *= sp;
        q[i * cols + c]! *= sq;
      }
    }
    cases.push({ name: 'unnormalised rows (mass 1e-6 … 1e6)', p, q, rows, cols });
  }
  {
    const r = new Rng(13);
    const cols = 37;
    const p = r.probRows(20, cols);
    for (let c = 0; c < cols; c++) {
      p[c] = c === 5 ? 1 : 0;
      p[cols + c] = 0;
      p[2 * cols + c]! *= 1000;
    }
    cases.push({ name: 'identical rows (one-hot, zero, unnormalised)', p, q: p.slice(), rows: 20, cols });
  }
  {
    const r = new Rng(14);
    const rows = 25;
    const cols = 40;
    const p = new Float32Array(rows * cols);
    const q = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      for (let c = 2; c < cols; c++) (r.bool() ? p : q)[i * cols + c] = r.range(0.01, 1);
      p[i * cols] = 0.5;
      q[i * cols + 1] = 0.5;
    }
    cases.push({ name: 'disjoint supports', p, q, rows, cols });
  }
  {
    const cols = 10;
    const p = new Float32Array(5 * cols);
    const q = new Float32Array(5 * cols);
    p[3] = 1;
    q[3] = 2;
    p[cols] = 1;
    q[cols + 9] = 1;
    p[2 * cols + 4] = 1;
    for (let c = 0; c < cols; c++) q[2 * cols + c] = 0.1;
    for (let c = 0; c < cols; c++) q[3 * cols + c] = 7;
    q[4 * cols + 2] = 0.25;
    cases.push({ name: 'one-hot vs one-hot / uniform, zero rows', p, q, rows: 5, cols });
  }
  cases.push({ name: 'both rows zero', p: new Float32Array(8), q: new Float32Array(8), rows: 2, cols: 4 });
  cases.push({ name: 'cols = 1 with zero rows', p: new Float32Array([1, 0, 3]), q: new Float32Array([5, 2, 0]), rows: 3, cols: 1 });
  cases.push({ name: 'negative zeros', p: new Float32Array([-0, 0.5, 0.5, -0]), q: new Float32Array([0, 0.5, 0.5, 0]), rows: 1, cols: 4 });
  cases.push({ name: 'no rows', p: new Float32Array(0), q: new Float32Array(0), rows: 0, cols: 5 });
  {
    const { p, q } = tinyShiftCase(42, 400, 64);
    cases.push({ name: 'tiny shifts 400 × 64', p, q, rows: 400, cols: 64 });
  }
  {
    const { p, q } = tinyShiftCase(43, 60, 4096);
    cases.push({ name: 'tiny shifts 60 × 4096', p, q, rows: 60, cols: 4096 });
  }
  {
    const { p, q } = tinyShiftCase(44, 24, 1023);
    cases.push({ name: 'tiny shifts 24 × 1023 (scalar loads)', p, q, rows: 24, cols: 1023 });
  }
  {
    const r = new Rng(15);
    const cols = 100_000;
    const p = r.probRows(4, cols);
    const q = r.probRows(4, cols);
    for (let c = 0; c < cols; c++) {
      q[cols + c] = p[cols + c]! * Math.exp(3e-3 * r.normal());
      p[2 * cols + c] = c === cols - 1 ? 1 : 0;
      q[2 * cols + c] = 1e-5;
      p[3 * cols + c] = c % 1000 === 0 ? 1 : 0;
      q[3 * cols + c] = c % 1500 === 0 ? 1 : 0;
    }
    cases.push({ name: 'long rows (100k): random, tiny shift, one-hot vs uniform, sparse', p, q, rows: 4, cols });
  }
  {
    const r = new Rng(16);
    cases.push({ name: 'many rows 3000 × 300', p: r.probRows(3000, 300), q: r.probRows(3000, 300, 0.5), rows: 3000, cols: 300 });
  }
  {
    const r = new Rng(17);
    const cols = 20;
    const p = new Float32Array(4 * cols);
    const q = new Float32Array(4 * cols);
    for (let c = 0; c < cols; c++) {
      p[c] = r.range(1, 2) * 1e-38;
      q[c] = r.range(1, 2) * 1e-38;
      p[cols + c] = r.range(1, 2) * 1e37;
      q[cols + c] = r.range(1, 2) * 1e37;
      p[2 * cols + c] = c === 0 ? 3e38 : 1e-40;
      q[2 * cols + c] = 1;
      p[3 * cols + c] = 3e38; // four of these overflow a float32 sum; the mass is float64
      q[3 * cols + c] = c % 2 ? 3e38 : 1e38;
    }
    cases.push({ name: 'extreme magnitudes (denormal-ish, huge, near FLT_MAX)', p, q, rows: 4, cols });
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------
// fisherRaoAdjacent
// ---------------------------------------------------------------------------------------------

function growingLengths(batch: number, steps: number, start: number, width: number): Int32Array {
  const lengths = new Int32Array(batch * steps);
  for (let b = 0; b < batch; b++) for (let t = 0; t < steps; t++) lengths[b * steps + t] = Math.min(width, start + t);
  return lengths;
}

export function adjacentCases(): AdjacentCase[] {
  const cases: AdjacentCase[] = [];
  {
    const r = new Rng(21);
    cases.push({ name: 'no lengths, width 45 (scalar loads)', x: r.probRows(6 * 9, 45), batch: 6, steps: 9, width: 45 });
  }
  {
    const r = new Rng(22);
    const batch = 5;
    const steps = 30;
    const width = 40;
    const x = r.probRows(batch * steps, width);
    const lengths = growingLengths(batch, steps, 10, width);
    for (let i = 0; i < batch * steps; i++) for (let k = lengths[i]!; k < width; k++) x[i * width + k] = 1e6 * r.uniform();
    cases.push({ name: 'growing prefixes, garbage past each length', x, batch, steps, width, lengths });
  }
  {
    const r = new Rng(23);
    const batch = 7;
    const steps = 12;
    const width = 20;
    const lengths = new Int32Array(batch * steps);
    for (let i = 0; i < lengths.length; i++) lengths[i] = r.bool(0.15) ? 0 : r.int(1, width);
    cases.push({ name: 'random lengths (0, shrinking, growing)', x: r.probRows(batch * steps, width, 2), batch, steps, width, lengths });
  }
  cases.push({
    name: 'prefix renormalisation, zero-mass prefix',
    x: new Float32Array([0.5, 0.5, 9, 9, 1, 1, 100, 100, 0, 0, 1, 1, 0, 0, 5, 5]),
    batch: 1,
    steps: 4,
    width: 4,
    lengths: new Int32Array([2, 4, 4, 2]),
  });
  {
    const width = 5;
    const x = new Float32Array(4 * width);
    x[1] = 1;
    x[width + 1] = 3;
    x[2 * width + 4] = 1;
    x[3 * width + 4] = 1;
    cases.push({ name: 'identical rows and one-hot jumps', x, batch: 1, steps: 4, width });
  }
  {
    const r = new Rng(24);
    const batch = 2;
    const steps = 6;
    const width = 12;
    const clean = r.probRows(batch * steps, width);
    const lengths = new Int32Array(batch * steps);
    for (let i = 0; i < lengths.length; i++) lengths[i] = r.int(0, width);
    const x = clean.slice();
    for (let i = 0; i < batch * steps; i++) for (let k = lengths[i]!; k < width; k++) x[i * width + k] = NaN;
    cases.push({ name: 'NaN past every length (never read)', x, clean, batch, steps, width, lengths });
  }
  {
    // The kernel's shortcuts and what they must fall back from: −0 entries (the sign screen flags
    // them; the exact check clears them), row masses outside the ratio form's [2^-32, 2^32] (the
    // float-pair and float64 forms), entries whose float32 chunk sums overflow, and a row that is
    // the previous row of one pair and the current row of the next at each of these.
    const r = new Rng(31);
    const width = 8;
    const scales = [1, 1e-12, 1e-12, 3e-10, 1, 1e12, 4e9, 1, 1e36, 1e36, 1, 1e-30];
    const x = new Float32Array(scales.length * width);
    scales.forEach((scale, i) => {
      for (let k = 0; k < width; k++) x[i * width + k] = scale * r.range(0.2, 1);
    });
    x[2] = -0;
    x[width + 5] = -0;
    for (let k = 0; k < 4; k++) x[9 * width + k] = 3e38; // a float32 chunk sum overflows
    x[7 * width + 3] = 0;
    cases.push({ name: 'negative zeros, masses 1e-30 … 1e37, overflowing chunk sums', x, batch: 2, steps: scales.length / 2, width });
  }
  cases.push({ name: 'steps = 1', x: new Float32Array([0.3, 0.7, 0.1, 0.9]), batch: 2, steps: 1, width: 2 });
  cases.push({ name: 'batch = 0', x: new Float32Array(0), batch: 0, steps: 3, width: 4 });
  {
    const r = new Rng(25);
    const width = 100_000;
    const x = r.probRows(3, width);
    for (let k = 0; k < width; k++) {
      x[width + k] = x[k]! * Math.exp(2e-3 * r.normal());
      x[2 * width + k] = x[width + k]! * Math.exp(0.2 * r.normal());
    }
    cases.push({ name: 'long rows (100k), tiny shifts', x, batch: 1, steps: 3, width, lengths: new Int32Array([width, width - 1, width]) });
  }
  for (const [width, seed] of [[1024, 26], [1028, 27], [4096, 28], [6000, 29]] as const) {
    const r = new Rng(seed);
    const batch = 3;
    const steps = 7;
    const x = new Float32Array(batch * steps * width);
    for (let b = 0; b < batch; b++) {
      const base = r.probRows(1, width);
      for (let t = 0; t < steps; t++) {
        const eps = 10 ** r.range(-4, -1);
        for (let k = 0; k < width; k++) x[(b * steps + t) * width + k] = base[k]! * Math.exp(eps * r.normal());
      }
    }
    cases.push({ name: `drifting rows, width ${width}`, x, batch, steps, width, lengths: growingLengths(batch, steps, width - 5, width) });
  }
  {
    const r = new Rng(30);
    const batch = 64;
    const steps = 200;
    const width = 64;
    cases.push({ name: 'many steps 64 × 200 × 64 (runs of steps)', x: r.probRows(batch * steps, width), batch, steps, width, lengths: growingLengths(batch, steps, 8, width) });
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------
// attentionStats
// ---------------------------------------------------------------------------------------------

function randomAttention(rng: Rng, rows: number, keys: number, lengths?: Int32Array): Float32Array {
  const a = rng.probRows(rows, keys, rng.range(0.5, 2.5));
  if (lengths) for (let i = 0; i < rows; i++) for (let k = lengths[i]!; k < keys; k++) a[i * keys + k] = 50 * rng.uniform();
  return a;
}

function growingAttention(seed: number, batch: number, steps: number, other: number, vision: number, question: number, name: string): AttentionCase {
  const r = new Rng(seed);
  const layout = growingLayout(other, vision, question, steps);
  const lengths = new Int32Array(batch * steps);
  for (let b = 0; b < batch; b++) for (let t = 0; t < steps; t++) lengths[b * steps + t] = layout.lengthAt(t);
  const attn = randomAttention(r, batch * steps, layout.keys, lengths);
  return { name, attn, batch, steps, keys: layout.keys, modality: layout.modality, lengths };
}

export function attentionCases(): AttentionCase[] {
  const cases: AttentionCase[] = [];
  {
    const r = new Rng(31);
    const keys = 60;
    const modality = new Uint8Array(keys);
    for (let k = 0; k < keys; k++) modality[k] = r.int(0, 2);
    cases.push({ name: 'interleaved modalities, full rows', attn: randomAttention(r, 40, keys), batch: 4, steps: 10, keys, modality });
  }
  cases.push(growingAttention(32, 3, 40, 5, 64, 12, 'growing text region, garbage past the lengths'));
  {
    const r = new Rng(33);
    const steps = 25;
    const layout = growingLayout(3, 100, 20, steps);
    const batch = 2;
    const lengths = new Int32Array(batch * steps);
    for (let b = 0; b < batch; b++) for (let t = 0; t < steps; t++) lengths[b * steps + t] = layout.lengthAt(t);
    const keys = layout.keys;
    const attn = new Float32Array(batch * steps * keys);
    for (let b = 0; b < batch; b++) {
      const base = r.probRows(1, keys);
      for (let t = 0; t < steps; t++) {
        const eps = 10 ** r.range(-4, -1.5);
        for (let k = 0; k < keys; k++) attn[(b * steps + t) * keys + k] = base[k]! * Math.exp(eps * r.normal());
      }
    }
    cases.push({ name: 'tiny step-to-step drift', attn, batch, steps, keys, modality: layout.modality, lengths });
  }
  {
    // As for fisherRaoAdjacent: −0 entries (screened, then cleared), region masses outside the ratio
    // form's [2^-32, 2^32] in one region only, float32 chunk sums that overflow, and chunks of one
    // region (the pure-chunk path) beside mixed ones, with a growing prefix.
    const r = new Rng(36);
    const keys = 24; // 4 other, 8 vision, 4 mixed, 8 text: whole chunks of one label at 4 and 8 wide
    const modality = new Uint8Array(keys);
    for (let k = 4; k < 12; k++) modality[k] = 1;
    for (let k = 12; k < 16; k++) modality[k] = k % 2 ? 1 : 2;
    for (let k = 16; k < keys; k++) modality[k] = 2;
    const visionScale = [1, 1e-12, 1e-12, 1, 1e36, 1, 1, 3e-10];
    const textScale = [1, 1, 1e12, 1e12, 1, 1e36, 1e-30, 1];
    const steps = visionScale.length;
    const attn = new Float32Array(steps * keys);
    for (let t = 0; t < steps; t++) {
      for (let k = 0; k < keys; k++) {
        const scale = modality[k] === 1 ? visionScale[t]! : modality[k] === 2 ? textScale[t]! : 1;
        attn[t * keys + k] = scale * r.range(0.2, 1);
      }
    }
    attn[5] = -0;
    attn[keys + 17] = -0;
    for (let k = 16; k < 20; k++) attn[5 * keys + k] = 3e38; // a float32 chunk sum overflows
    const lengths = new Int32Array(steps).map((_, t) => Math.min(keys, 14 + 2 * t));
    cases.push({ name: 'negative zeros, region masses 1e-30 … 1e37, overflowing chunk sums', attn, batch: 1, steps, keys, modality, lengths });
  }
  {
    const r = new Rng(34);
    const keys = 33;
    const modality = new Uint8Array(keys);
    for (let k = 0; k < keys; k++) modality[k] = r.int(0, 2);
    const batch = 5;
    const steps = 14;
    const lengths = new Int32Array(batch * steps);
    for (let i = 0; i < lengths.length; i++) lengths[i] = r.bool(0.1) ? 0 : r.int(1, keys);
    cases.push({ name: 'random lengths (0, shrinking)', attn: randomAttention(r, batch * steps, keys, lengths), batch, steps, keys, modality, lengths });
  }
  {
    const rows = [
      [1, 0, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0, 0],
      [0, 1, 0, 0, 0, 0, 0, 0, 1],
      [0, 1, 0, 0, 0, 0, 0, 0, 1],
      [0, 0, 0, 0, 1, 1, 0, 0, 0],
      [0, 0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5],
      [5, 0.25, 0.25, 0.25, 0.25, 0, 0, 0, 0],
    ];
    cases.push({
      name: 'zero rows, zero-mass regions, one-hot and identical rows',
      attn: new Float32Array(rows.flat()),
      batch: 1,
      steps: rows.length,
      keys: 9,
      modality: new Uint8Array([0, 1, 1, 1, 1, 2, 2, 2, 2]),
    });
  }
  {
    const r = new Rng(35);
    const keys = 12;
    const modality = new Uint8Array(keys).fill(Modality.Text);
    modality[0] = Modality.Other;
    cases.push({ name: 'no vision keys', attn: randomAttention(r, 10, keys), batch: 2, steps: 5, keys, modality });
  }
  {
    const r = new Rng(36);
    const layout = growingLayout(2, 4, 3, 4);
    const lengths = new Int32Array([2, 2, 6, 9]);
    cases.push({ name: 'regions with no keys below the prefix', attn: randomAttention(r, 4, layout.keys, lengths), batch: 1, steps: 4, keys: layout.keys, modality: layout.modality, lengths });
  }
  {
    const base = growingAttention(37, 2, 8, 4, 10, 5, 'NaN/Inf on "other" keys and past the lengths (never read)');
    const attn = base.attn.slice();
    for (let i = 0; i < base.batch * base.steps; i++)
      for (let k = 0; k < base.keys; k++) {
        if (k >= base.lengths![i]!) attn[i * base.keys + k] = NaN;
        else if (base.modality[k] === Modality.Other) attn[i * base.keys + k] = k % 2 ? Infinity : -1;
      }
    cases.push({ ...base, attn, clean: base.attn });
  }
  {
    const r = new Rng(38);
    const steps = 3;
    const layout = growingLayout(100, 70_000, 29_897, steps);
    const lengths = new Int32Array([layout.lengthAt(0), layout.lengthAt(1), layout.lengthAt(2)]);
    const attn = randomAttention(r, steps, layout.keys, lengths);
    for (let k = 0; k < layout.keys; k++) attn[2 * layout.keys + k] = attn[layout.keys + k]! * Math.exp(2e-3 * r.normal());
    cases.push({ name: 'long rows (100k keys)', attn, batch: 1, steps, keys: layout.keys, modality: layout.modality, lengths });
  }
  cases.push(growingAttention(39, 16, 64, 10, 700, 250, 'many rows 16 × 64 × 1024'));
  cases.push(growingAttention(40, 4, 20, 32, 576, 64, 'Qwen-like layout, keys 692 (scalar loads)'));
  cases.push(growingAttention(41, 3, 12, 16, 2000, 80, 'keys 2108: a block per row'));
  cases.push(growingAttention(42, 2, 6, 8, 5000, 100, 'keys 5114: past a block’s registers'));
  cases.push({ name: 'batch = 0', attn: new Float32Array(0), batch: 0, steps: 4, keys: 3, modality: new Uint8Array([0, 1, 2]) });
  return cases;
}

// ---------------------------------------------------------------------------------------------
// coordinationScores
// ---------------------------------------------------------------------------------------------

function randomSignals(rng: Rng, batch: number, steps: number, maskProb: number, name: string): CoordinationCase {
  const n = batch * steps;
  const ratioVis = rng.f32Uniform(n);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = rng.bool(maskProb) ? 0 : 1;
  return {
    name,
    frVis: rng.f32Uniform(n, 0, 0.5),
    frTxt: rng.f32Uniform(n, 0, 0.5),
    ratioVis,
    ratioTxt: rng.f32(n, (i) => 1 - ratioVis[i]!),
    mask,
    batch,
    steps,
  };
}

export function coordinationCases(): CoordinationCase[] {
  const r = new Rng(41);
  const cases: CoordinationCase[] = [
    { ...randomSignals(r, 9, 17, 0.2, 'masks, default thresholds') },
    { ...randomSignals(r, 9, 17, 0.2, 'masks, tauVis 0.1, tauTxt 0'), tauVis: 0.1, tauTxt: 0 },
    { ...randomSignals(r, 9, 17, 0.2, 'masks, tauVis −0.05, tauTxt 0.2'), tauVis: -0.05, tauTxt: 0.2 },
    { ...randomSignals(r, 64, 1000, 0.1, 'long sequences 64 × 1000') },
    { ...randomSignals(r, 4, 1, 0, 'steps = 1 (no active token)') },
    { ...randomSignals(r, 0, 5, 0, 'batch = 0') },
  ];
  {
    const c = randomSignals(new Rng(42), 4, 6, 0.3, 'NaN/Inf at step 0 and on masked tokens (never read)');
    for (let i = 0; i < 24; i++) {
      if (c.mask![i] === 0 || i % 6 === 0) {
        c.frVis[i] = NaN;
        c.frTxt[i] = Infinity;
        c.ratioVis[i] = NaN;
        c.ratioTxt[i] = NaN;
      }
    }
    cases.push(c);
  }
  {
    const c = randomSignals(new Rng(43), 3, 5, 0, 'fully masked and all-neutral sequences');
    c.mask!.fill(0, 0, 5);
    for (let t = 0; t < 5; t++) c.frTxt[5 + t] = c.frVis[5 + t]!;
    cases.push(c);
  }
  {
    const c = randomSignals(new Rng(44), 5, 30, 0, 'no mask');
    delete c.mask;
    cases.push(c);
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------
// policyLoss
// ---------------------------------------------------------------------------------------------

export const ALGORITHMS: PolicyAlgorithm[] = ['grpo', 'bnpo', 'dr_grpo', 'dapo', 'gspo', 'sapo'];

export function policyCases(): PolicyCaseWithConfig[] {
  const cases: PolicyCaseWithConfig[] = [];
  const combos = [
    { old: true, ref: true },
    { old: false, ref: true },
    { old: true, ref: false },
    { old: false, ref: false },
  ];
  for (const [ai, algorithm] of ALGORITHMS.entries()) {
    for (const perTokenAdvantages of [false, true]) {
      for (const [ci, { old, ref }] of combos.entries()) {
        const config: PolicyLossConfig = { algorithm };
        const input = makeSmoothPolicyCase(1000 + 100 * ai + 10 * ci + (perTokenAdvantages ? 1 : 0),
          { batch: 6, steps: 9, perTokenAdvantages, old, ref, maskedRows: [4] }, config, 1e-5);
        cases.push({ name: `${algorithm}, ${perTokenAdvantages ? 'per-token' : 'per-sequence'} A, old ${old}, ref ${ref}`, input, config });
      }
    }
  }
  for (const [k, config] of ([
    { algorithm: 'grpo', delta: 1.3 },
    { algorithm: 'dapo', delta: 1.6, epsLow: 0.1, epsHigh: 0.4 },
    { algorithm: 'bnpo', importanceLevel: 'sequence' },
    { algorithm: 'dr_grpo', importanceLevel: 'sequence', maxCompletionLength: 20 },
    { algorithm: 'sapo', tauPos: 2, tauNeg: 0.5 },
    { algorithm: 'gspo', beta: 0.1 },
  ] as PolicyLossConfig[]).entries()) {
    const input = makeSmoothPolicyCase(2100 + k, { batch: 4, steps: 10, perTokenAdvantages: k % 2 === 0 }, config, 1e-4);
    cases.push({ name: `options ${JSON.stringify(config)}`, input, config });
  }
  for (const [k, algorithm] of ALGORITHMS.entries()) {
    const config: PolicyLossConfig = { algorithm, beta: 0.01 };
    const input = makeSmoothPolicyCase(3700 + k, { batch: 4, steps: 6, perTokenAdvantages: true, logRatio: (rng) => rng.range(-20, 20) }, config, 1e-4);
    for (let i = 0; i < input.refLogp!.length; i++) input.refLogp![i] = input.logp[i]! + (i % 2 ? 15 : -15);
    cases.push({ name: `${algorithm}: log-ratios up to ±20, reference ±15`, input, config });
    cases.push({
      name: `${algorithm}: fully masked rows with NaN in every masked entry`,
      input: makeSmoothPolicyCase(3501, { batch: 5, steps: 7, perTokenAdvantages: true, maskedRows: [0, 3], nanInMasked: true }, { algorithm }, 1e-5),
      config: { algorithm },
    });
    cases.push({
      name: `${algorithm}: everything masked`,
      input: makePolicyCase(3503, { batch: 3, steps: 4, maskedRows: [0, 1, 2], nanInMasked: true }),
      config: { algorithm },
    });
    cases.push({ name: `${algorithm}: steps = 1`, input: makeSmoothPolicyCase(3504 + k, { batch: 6, steps: 1 }, { algorithm }, 1e-5), config: { algorithm } });
    cases.push({
      name: `${algorithm}: 48 × 700 (several tokens per thread)`,
      input: makeSmoothPolicyCase(3800 + k, { batch: 48, steps: 700, perTokenAdvantages: k % 2 === 1, density: 0.9 }, { algorithm }, 1e-6),
      config: { algorithm },
    });
  }
  cases.push({
    name: 'batch = 0',
    input: { logp: new Float32Array(0), advantages: new Float32Array(0), mask: new Uint8Array(0), batch: 0, steps: 5 },
    config: { algorithm: 'grpo' },
  });
  return cases;
}
