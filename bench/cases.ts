/**
 * The size grid and the input generators. One job: describe what is measured.
 *
 * Every case builds its inputs lazily (in `prepare`) so only one case's arrays are alive at a
 * time — the largest cases hold 256 MiB of inputs — and from its own seeded PRNG, so a case gets
 * the same inputs whether it runs alone (`--filter`) or in the full grid.
 *
 * Bytes are counted as the compulsory traffic of one call: every input byte the kernel must read
 * once, plus every output byte it writes. A kernel that re-reads data from cache is not charged
 * twice; one that reads data it need not (padding, "other" keys) is not credited for it. The
 * per-kernel formula sits next to each case.
 */
import { mulberry32 } from '../test/helpers/prng.js';
import {
  attentionStats,
  coordinationScores,
  fisherRao,
  fisherRaoAdjacent,
  fisherRaoAdjacentAsync,
  groupAdvantages,
  normalizeScores,
  policyLoss,
  reweightAdvantages,
  Modality,
  type AttentionStatsShape,
  type CoordinationInputs,
  type PolicyAlgorithm,
  type PolicyLossInputs,
} from '../lib/index.js';
import {
  attentionStatsRef,
  coordinationScoresRef,
  fisherRaoAdjacentRef,
  fisherRaoRef,
  groupAdvantagesRef,
  normalizeScoresRef,
  policyLossRef,
  reweightAdvantagesRef,
} from '../test/oracle/index.js';

/** small: realistic single-step sizes, run by `--quick`; large: the sizes the goals apply to. */
export type Tier = 'small' | 'mid' | 'large';

/** Targets checked on `large` rows (see the goals). */
export interface Goals {
  /** Native must be at least this many times faster than the TypeScript loop. */
  minSpeedup?: number;
  /** Copy time / kernel time (the achieved fraction of measured copy bandwidth) must reach this. */
  minCopyFraction?: number;
}

/** A case with its inputs built: closures over the arrays, and the byte counts of one call. */
export interface Prepared {
  /** One native call. */
  native: () => unknown;
  /** The same computation through the float64 TypeScript oracle. */
  ts: () => unknown;
  /** Compulsory bytes read per call (also the size of the copy roofline's buffer). */
  bytesRead: number;
  /** Bytes written per call. */
  bytesWritten: number;
  /** Largest relative |native − ts| over the main outputs, to catch timing a kernel that does the wrong work. */
  relDiff: (nativeOut: unknown, tsOut: unknown) => number;
  /** Promise variant, timed as an extra row with the same inputs (shows async costs no more). */
  async?: { kernel: string; fn: () => Promise<unknown> };
}

export interface BenchCase {
  kernel: string;
  /** Human-readable size, e.g. `64×512×1024`. */
  size: string;
  tier: Tier;
  goals: Goals;
  /** Parameters written to the JSON next to the timings. */
  params: Record<string, unknown>;
  prepare: () => Prepared;
}

// ---------------------------------------------------------------------------------------------
// Seeded inputs
// ---------------------------------------------------------------------------------------------

/** The tests' mulberry32, seeded from a hash of the case name so every case has its own inputs. */
export function rng(seedText: string): () => number {
  let s = 0x9e3779b9;
  for (let i = 0; i < seedText.length; i++) s = Math.imul(s ^ seedText.charCodeAt(i), 0x85ebca6b) >>> 0;
  return mulberry32(s);
}

/** Non-negative, skewed weights (u³ puts most mass on few entries, as attention does). */
function fillWeights(out: Float32Array, rand: () => number): Float32Array {
  for (let i = 0; i < out.length; i++) {
    const u = rand();
    out[i] = u * u * u;
  }
  return out;
}

/** A near copy of `p`: each entry moved by up to ±10%, the typical size of a step-to-step shift. */
function perturbed(p: Float32Array, rand: () => number): Float32Array {
  const q = new Float32Array(p.length);
  for (let i = 0; i < p.length; i++) q[i] = p[i] * (0.9 + 0.2 * rand());
  return q;
}

/** Per-sequence completion lengths in [lo·steps, steps]; padding is trailing, as after EOS. */
function completionLengths(batch: number, steps: number, lo: number, rand: () => number): Int32Array {
  const L = new Int32Array(batch);
  const min = Math.max(1, Math.floor(lo * steps));
  for (let b = 0; b < batch; b++) L[b] = min + Math.floor(rand() * (steps - min + 1));
  return L;
}

function maskFromLengths(L: Int32Array, steps: number): Uint8Array {
  const m = new Uint8Array(L.length * steps);
  for (let b = 0; b < L.length; b++) m.fill(1, b * steps, b * steps + L[b]);
  return m;
}

// ---------------------------------------------------------------------------------------------
// Comparison helpers
// ---------------------------------------------------------------------------------------------

export type NumArray = ArrayLike<number>;

/**
 * max |a − b| / max |b|: relative to the output's scale, because outputs range from FR distances
 * (~0.1–π) to policy gradients (~1e-6), where any absolute tolerance would say nothing.
 */
export function relDiff(a: NumArray, b: NumArray): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= diff)) diff = d; // NaN propagates as a failure
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff === 0 ? 0 : diff / Math.max(scale, Number.MIN_VALUE);
}

function relDiffFields(a: unknown, b: unknown, fields: string[]): number {
  const ra = a as Record<string, NumArray>;
  const rb = b as Record<string, NumArray>;
  return Math.max(...fields.map((f) => relDiff(ra[f], rb[f])));
}

export const sizeLabel = (...dims: number[]): string => dims.join('×');
/** The CPU benchmark measures the CPU kernels even where a GPU would be picked by default. */
const CPU = { device: 'cpu' } as const;
const LARGE_STREAM_GOALS: Goals = { minSpeedup: 4, minCopyFraction: 0.5 };
const LARGE_GOALS: Goals = { minSpeedup: 4 };

// ---------------------------------------------------------------------------------------------
// fisherRao: rows×cols, p and q
// ---------------------------------------------------------------------------------------------

// The *Workload functions build a case's inputs and count the compulsory bytes of one call; the
// GPU benchmark (bench/cuda.ts) measures the same workloads.

export function fisherRaoWorkload(rows: number, cols: number) {
  const rand = rng(`fisherRao ${sizeLabel(rows, cols)}`);
  const p = fillWeights(new Float32Array(rows * cols), rand);
  const q = perturbed(p, rand);
  return {
    inputs: { p, q, shape: { rows, cols } },
    // read p and q once: 2·rows·cols·4; write one float32 per row.
    bytesRead: 2 * rows * cols * 4,
    bytesWritten: rows * 4,
  };
}

function fisherRaoCase(rows: number, cols: number, tier: Tier): BenchCase {
  return {
    kernel: 'fisherRao',
    size: sizeLabel(rows, cols),
    tier,
    goals: tier === 'large' ? LARGE_STREAM_GOALS : {},
    params: { rows, cols, elementsPerInput: rows * cols },
    prepare() {
      const { inputs: { p, q, shape }, bytesRead, bytesWritten } = fisherRaoWorkload(rows, cols);
      return {
        native: () => fisherRao(p, q, shape, CPU),
        ts: () => fisherRaoRef(p, q, shape),
        bytesRead,
        bytesWritten,
        relDiff: (n, t) => relDiff(n as NumArray, t as NumArray),
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// fisherRaoAdjacent: batch×steps×width, full rows (no lengths)
// ---------------------------------------------------------------------------------------------

export function fisherRaoAdjacentWorkload(batch: number, steps: number, width: number) {
  const rand = rng(`fisherRaoAdjacent ${sizeLabel(batch, steps, width)}`);
  // Consecutive rows are near copies of each other, as attention rows of consecutive tokens are.
  const x = new Float32Array(batch * steps * width);
  const row = new Float32Array(width);
  for (let s = 0; s < batch; s++) {
    fillWeights(row, rand);
    for (let t = 0; t < steps; t++) {
      const off = (s * steps + t) * width;
      for (let i = 0; i < width; i++) {
        row[i] *= 0.9 + 0.2 * rand();
        x[off + i] = row[i];
      }
    }
  }
  return {
    inputs: { x, shape: { batch, steps, width } },
    // every row is read once (its re-read as "previous row" comes from cache): B·T·W·4;
    // write one float32 per row: B·T·4.
    bytesRead: batch * steps * width * 4,
    bytesWritten: batch * steps * 4,
  };
}

function fisherRaoAdjacentCase(batch: number, steps: number, width: number, tier: Tier, withAsync = false): BenchCase {
  return {
    kernel: 'fisherRaoAdjacent',
    size: sizeLabel(batch, steps, width),
    tier,
    goals: tier === 'large' ? LARGE_STREAM_GOALS : {},
    params: { batch, steps, width, lengths: 'none (full rows)' },
    prepare() {
      const { inputs: { x, shape }, bytesRead, bytesWritten } = fisherRaoAdjacentWorkload(batch, steps, width);
      return {
        native: () => fisherRaoAdjacent(x, shape, CPU),
        ts: () => fisherRaoAdjacentRef(x, shape),
        bytesRead,
        bytesWritten,
        relDiff: (n, t) => relDiff(n as NumArray, t as NumArray),
        async: withAsync ? { kernel: 'fisherRaoAdjacentAsync', fn: () => fisherRaoAdjacentAsync(x, shape, CPU) } : undefined,
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// attentionStats: batch×steps×keys with a Qwen2.5-VL-like layout
// ---------------------------------------------------------------------------------------------

/** Keys before the image: system prompt and chat template. */
export const OTHER_KEYS = 32;
/** One image at the reference resolution: 576 vision tokens. */
export const VISION_KEYS = 576;
/** Question and template text after the image, before the first generated token. */
export const PROMPT_TEXT_KEYS = 64;
/** Keys of the prompt, before the first generated token. */
export const PROMPT_KEYS = OTHER_KEYS + VISION_KEYS + PROMPT_TEXT_KEYS;

export function attentionStatsWorkload(batch: number, steps: number, keys: number) {
  const rand = rng(`attentionStats ${sizeLabel(batch, steps, keys)}`);
  const modality = new Uint8Array(keys);
  modality.fill(Modality.Other, 0, OTHER_KEYS);
  modality.fill(Modality.Vision, OTHER_KEYS, OTHER_KEYS + VISION_KEYS);
  modality.fill(Modality.Text, OTHER_KEYS + VISION_KEYS);
  const lengths = new Int32Array(batch * steps);
  const attn = new Float32Array(batch * steps * keys); // keys past the length stay 0 (never read)
  let readKeys = 0;
  for (let r = 0; r < batch * steps; r++) {
    const t = r % steps;
    const L = Math.min(keys, PROMPT_KEYS + t);
    lengths[r] = L;
    readKeys += Math.max(0, L - OTHER_KEYS);
    // A softmax row: non-negative, sums to 1 over the valid keys.
    const row = fillWeights(attn.subarray(r * keys, r * keys + L), rand);
    let sum = 0;
    for (let i = 0; i < L; i++) sum += row[i];
    const inv = 1 / sum;
    for (let i = 0; i < L; i++) row[i] *= inv;
  }
  const shape: AttentionStatsShape = { batch, steps, keys, modality, lengths };
  return {
    inputs: { attn, shape },
    // read the vision and text keys below each row's length once, Σ_rows (L − other)·4 (the
    // "other" keys are never read), plus modality (K bytes) and lengths (B·T·4);
    // write four float32 outputs per row: 4·B·T·4.
    bytesRead: readKeys * 4 + keys + batch * steps * 4,
    bytesWritten: 4 * batch * steps * 4,
    readKeys,
  };
}

function attentionStatsCase(batch: number, steps: number, keys: number, tier: Tier): BenchCase {
  return {
    kernel: 'attentionStats',
    size: sizeLabel(batch, steps, keys),
    tier,
    goals: tier === 'large' ? LARGE_STREAM_GOALS : {},
    params: {
      batch,
      steps,
      keys,
      layout: `${OTHER_KEYS} other, ${VISION_KEYS} vision, rest text`,
      lengths: `min(keys, ${PROMPT_KEYS} + t): the context grows by one key per generated token until the cache is full`,
    },
    prepare() {
      const { inputs: { attn, shape }, bytesRead, bytesWritten } = attentionStatsWorkload(batch, steps, keys);
      const fields = ['ratioVis', 'ratioTxt', 'frVis', 'frTxt'];
      return {
        native: () => attentionStats(attn, shape, CPU),
        ts: () => attentionStatsRef(attn, shape),
        bytesRead,
        bytesWritten,
        relDiff: (n, t) => relDiffFields(n, t, fields),
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// coordinationScores: batch×steps per-token signals
// ---------------------------------------------------------------------------------------------

export function coordinationWorkload(batch: number, steps: number) {
  const rand = rng(`coordinationScores ${sizeLabel(batch, steps)}`);
  const n = batch * steps;
  const frVis = new Float32Array(n);
  const frTxt = new Float32Array(n);
  const ratioVis = new Float32Array(n);
  const ratioTxt = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    frVis[i] = 0.3 * rand();
    frTxt[i] = 0.3 * rand();
    ratioVis[i] = rand();
    ratioTxt[i] = 1 - ratioVis[i];
  }
  const mask = maskFromLengths(completionLengths(batch, steps, 0.5, rand), steps);
  const inputs: CoordinationInputs = { frVis, frTxt, ratioVis, ratioTxt, mask, batch, steps };
  return {
    inputs,
    // read four float32 signals and the mask: B·T·(4·4 + 1);
    // write roles (int8), alignment (float32) and one score per sequence: B·T·5 + B·4.
    bytesRead: n * 17,
    bytesWritten: n * 5 + batch * 4,
  };
}

function coordinationCase(batch: number, steps: number, tier: Tier): BenchCase {
  return {
    kernel: 'coordinationScores',
    size: sizeLabel(batch, steps),
    tier,
    goals: tier === 'large' ? LARGE_GOALS : {},
    params: { batch, steps, mask: 'trailing padding, lengths in [steps/2, steps]' },
    prepare() {
      const { inputs, bytesRead, bytesWritten } = coordinationWorkload(batch, steps);
      return {
        native: () => coordinationScores(inputs, CPU),
        ts: () => coordinationScoresRef(inputs),
        bytesRead,
        bytesWritten,
        relDiff: (a, b) => relDiffFields(a, b, ['sequenceScore', 'alignment', 'roles']),
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Advantages: groupAdvantages → normalizeScores → reweightAdvantages
// ---------------------------------------------------------------------------------------------

const GROUP = 8;

function advantageInputs(batch: number, seed: string) {
  const rand = rng(seed);
  // Rewards as the reference sums them: accuracy (0/1) + format (0/1).
  const rewards = new Float32Array(batch);
  for (let i = 0; i < batch; i++) rewards[i] = (rand() < 0.5 ? 1 : 0) + (rand() < 0.8 ? 1 : 0);
  // Sequence scores σ(·) of mean alignment: in (0.5, 0.73).
  const scores = new Float32Array(batch);
  for (let i = 0; i < batch; i++) scores[i] = 0.5 + 0.23 * rand();
  return { rewards, scores };
}

/** The three per-sequence steps of method §4–5 in the order the trainer runs them. */
function advantagePipelineCase(batch: number, tier: Tier): BenchCase {
  const size = `${batch}`;
  return {
    kernel: 'advantagePipeline',
    size,
    tier,
    goals: tier === 'large' ? LARGE_GOALS : {},
    params: { batch, groupSize: GROUP, steps: 'groupAdvantages → normalizeScores (batch scope) → reweightAdvantages' },
    prepare() {
      const { rewards, scores } = advantageInputs(batch, `advantagePipeline ${size}`);
      const groupOpts = { groupSize: GROUP };
      return {
        native: () => reweightAdvantages(groupAdvantages(rewards, groupOpts), normalizeScores(scores)),
        ts: () => reweightAdvantagesRef(groupAdvantagesRef(rewards, groupOpts), normalizeScoresRef(scores)),
        // groupAdvantages reads R, writes A; normalizeScores reads c, writes ĉ; reweight reads A
        // and ĉ, writes Â: reads 4·B·4, writes 3·B·4 (intermediates count: each call moves them).
        bytesRead: 4 * batch * 4,
        bytesWritten: 3 * batch * 4,
        relDiff: (n, t) => relDiff(n as NumArray, t as NumArray),
      };
    },
  };
}

function groupAdvantagesCase(batch: number, tier: Tier): BenchCase {
  const size = `${batch}`;
  return {
    kernel: 'groupAdvantages',
    size,
    tier,
    goals: tier === 'large' ? LARGE_GOALS : {},
    params: { batch, groupSize: GROUP, scale: 'group' },
    prepare() {
      const { rewards } = advantageInputs(batch, `groupAdvantages ${size}`);
      const opts = { groupSize: GROUP };
      return {
        native: () => groupAdvantages(rewards, opts),
        ts: () => groupAdvantagesRef(rewards, opts),
        bytesRead: batch * 4, // rewards
        bytesWritten: batch * 4, // advantages
        relDiff: (n, t) => relDiff(n as NumArray, t as NumArray),
      };
    },
  };
}

function normalizeScoresCase(batch: number, tier: Tier): BenchCase {
  const size = `${batch}`;
  return {
    kernel: 'normalizeScores',
    size,
    tier,
    goals: tier === 'large' ? LARGE_GOALS : {},
    params: { batch, groupSize: GROUP },
    prepare() {
      const { scores } = advantageInputs(batch, `normalizeScores ${size}`);
      const opts = { groupSize: GROUP };
      return {
        native: () => normalizeScores(scores, opts),
        ts: () => normalizeScoresRef(scores, opts),
        bytesRead: batch * 4, // scores
        bytesWritten: batch * 4, // ĉ
        relDiff: (n, t) => relDiff(n as NumArray, t as NumArray),
      };
    },
  };
}

/** Per-token advantages (batch·steps) scaled by per-sequence weights, with the length guard on. */
function reweightPerTokenCase(batch: number, steps: number, tier: Tier): BenchCase {
  const size = sizeLabel(batch, steps);
  return {
    kernel: 'reweightAdvantages',
    size,
    tier,
    goals: tier === 'large' ? LARGE_GOALS : {},
    params: { batch, steps, advantages: 'per token', minLength: 60 },
    prepare() {
      const rand = rng(`reweightAdvantages ${size}`);
      const adv = new Float32Array(batch * steps);
      for (let i = 0; i < adv.length; i++) adv[i] = 3 * rand() - 1.5;
      const cHat = new Float32Array(batch);
      for (let b = 0; b < batch; b++) cHat[b] = 2 * rand() - 1;
      const lengths = completionLengths(batch, steps, 0.01, rand);
      const opts = { lengths, minLength: 60 };
      return {
        native: () => reweightAdvantages(adv, cHat, opts),
        ts: () => reweightAdvantagesRef(adv, cHat, opts),
        // read per-token advantages, ĉ and lengths: B·T·4 + 2·B·4; write B·T·4.
        bytesRead: batch * steps * 4 + 2 * batch * 4,
        bytesWritten: batch * steps * 4,
        relDiff: (n, t) => relDiff(n as NumArray, t as NumArray),
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// policyLoss
// ---------------------------------------------------------------------------------------------

export function policyLossWorkload(algorithm: PolicyAlgorithm, batch: number, steps: number) {
  // DAPO runs without a reference model (β = 0); the others use one (β > 0), as in the reference runs.
  const withRef = algorithm !== 'dapo';
  const rand = rng(`policyLoss/${algorithm} ${sizeLabel(batch, steps)}`);
  const n = batch * steps;
  const logp = new Float32Array(n);
  const oldLogp = new Float32Array(n);
  const refLogp = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    logp[i] = -5 * rand(); // finite log-probs ~ −U(0, 5)
    // After one optimiser step the policy has moved a little: |Δℓ| up to 0.3, so some tokens clip.
    oldLogp[i] = logp[i] + 0.6 * (rand() - 0.5);
    refLogp[i] = logp[i] + 0.4 * (rand() - 0.5);
  }
  const advantages = new Float32Array(batch);
  for (let b = 0; b < batch; b++) advantages[b] = 3 * rand() - 1.5;
  const L = completionLengths(batch, steps, 0.25, rand);
  const mask = maskFromLengths(L, steps);
  let active = 0;
  for (let b = 0; b < batch; b++) active += L[b];
  const inputs: PolicyLossInputs = { logp, oldLogp, advantages, mask, batch, steps };
  if (withRef) inputs.refLogp = refLogp;
  const logArrays = withRef ? 3 : 2;
  return {
    inputs,
    withRef,
    // read the mask (B·T bytes), the log-prob arrays on unmasked tokens only (masked entries
    // are never read; padding is trailing): k·Σm·4 with k = 2 or 3, and A: B·4;
    // write the gradient, zeros included: B·T·4 (plus a few scalars, ignored).
    bytesRead: n + logArrays * active * 4 + batch * 4,
    bytesWritten: n * 4,
  };
}

function policyLossCase(algorithm: PolicyAlgorithm, batch: number, steps: number, tier: Tier): BenchCase {
  const withRef = algorithm !== 'dapo';
  return {
    kernel: `policyLoss/${algorithm}`,
    size: sizeLabel(batch, steps),
    tier,
    goals: tier === 'large' ? LARGE_GOALS : {},
    params: {
      algorithm,
      batch,
      steps,
      refLogp: withRef,
      mask: 'trailing padding, lengths in [steps/4, steps]',
      advantages: 'per sequence',
    },
    prepare() {
      const { inputs, bytesRead, bytesWritten } = policyLossWorkload(algorithm, batch, steps);
      const config = { algorithm };
      return {
        native: () => policyLoss(inputs, config, CPU),
        ts: () => policyLossRef(inputs, config),
        bytesRead,
        bytesWritten,
        relDiff: (a, b) => {
          const ra = a as { loss: number; grad: NumArray };
          const rb = b as { loss: number; grad: NumArray };
          return Math.max(relDiff([ra.loss], [rb.loss]), relDiff(ra.grad, rb.grad));
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The grid
// ---------------------------------------------------------------------------------------------

/**
 * All cases, small to large within each kernel. Large sizes follow the issue: FR on 2^24 and 2^25
 * elements per input, FR adjacent and attention statistics on 64×512×1024 (64 rollouts, 512
 * generated tokens, a 1024-key cache), policy losses on 64×4096 tokens.
 */
export function allCases(): BenchCase[] {
  const cases: BenchCase[] = [
    fisherRaoCase(64, 1024, 'small'), // 2^16
    fisherRaoCase(1024, 1024, 'mid'), // 2^20
    fisherRaoCase(16384, 1024, 'large'), // 2^24
    fisherRaoCase(32768, 1024, 'large'), // 2^25

    fisherRaoAdjacentCase(8, 64, 256, 'small'),
    fisherRaoAdjacentCase(32, 256, 512, 'mid'),
    fisherRaoAdjacentCase(64, 512, 1024, 'large', true),

    attentionStatsCase(8, 64, 1024, 'small'),
    attentionStatsCase(32, 256, 1024, 'mid'),
    attentionStatsCase(64, 512, 1024, 'large'),

    coordinationCase(8, 256, 'small'),
    coordinationCase(64, 1024, 'mid'),
    coordinationCase(256, 4096, 'large'),

    advantagePipelineCase(512, 'small'),
    advantagePipelineCase(65536, 'mid'),
    advantagePipelineCase(1 << 20, 'large'),
    groupAdvantagesCase(1 << 20, 'large'),
    normalizeScoresCase(1 << 20, 'large'),
    reweightPerTokenCase(8, 1024, 'small'),
    reweightPerTokenCase(256, 4096, 'large'),
  ];
  for (const algorithm of ['grpo', 'dapo', 'gspo', 'sapo'] as const) {
    cases.push(
      policyLossCase(algorithm, 8, 1024, 'small'),
      policyLossCase(algorithm, 32, 2048, 'mid'),
      policyLossCase(algorithm, 64, 4096, 'large'),
    );
  }
  return cases;
}
