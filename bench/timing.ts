/**
 * Warm-up + median timer. One job: turn a function into a robust per-call time.
 *
 * Why the median: on a shared 2-core machine the occasional sample is hit by another process,
 * a GC pause or a page-fault storm; the median ignores those while the mean does not.
 * Why interleaving: the kernel and its copy roofline are sampled alternately, so background load
 * hits both and their ratio stays meaningful.
 * Why batches: a single call of a small kernel takes a few microseconds, close to the cost of
 * reading the clock, so calls shorter than {@link MIN_SAMPLE_NS} are timed in batches and divided.
 */

/** Samples shorter than this are batched: reading the clock costs ~50 ns, keep that under 0.1%. */
const MIN_SAMPLE_NS = 50_000;

export interface TimingOptions {
  /** Wall-clock budget for the timed samples (warm-up excluded), in ms. */
  budgetMs: number;
  /** Take at least this many samples even when that overruns the budget (≥ 1). */
  minReps: number;
  /** Never take more than this many samples. */
  maxReps: number;
  /** Warm-up: keep calling until this much time has passed (at least one call), in ms. */
  warmupMs: number;
}

export interface Timing {
  /** Median time of one call, in ms. */
  medianMs: number;
  /** Fastest sample, per call, in ms. */
  minMs: number;
  /** Number of timed samples the median is taken over. */
  samples: number;
  /** Calls per sample (> 1 only for calls shorter than 50 µs). */
  batch: number;
  /** Warm-up calls made before timing. */
  warmupCalls: number;
}

const now = (): bigint => process.hrtime.bigint();

function median(sorted: number[]): number {
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) >> 1] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

type RunBatch = (k: number) => Promise<number>;

interface Plan {
  batch: number;
  reps: number;
  warmupCalls: number;
}

/**
 * Warm-up, then the sampling plan. Warm-up lets V8 tier up the TypeScript loops, faults in
 * freshly allocated output pages and wakes the addon's thread pool. The fastest warm-up call
 * estimates the per-call time (the fastest, because one call disturbed by a context switch would
 * otherwise shrink the sample count).
 */
async function plan(runBatch: RunBatch, opts: TimingOptions): Promise<Plan> {
  let warmupCalls = 0;
  let warmNs = 0;
  let fastestNs = Number.POSITIVE_INFINITY;
  const warmLimitNs = opts.warmupMs * 1e6;
  do {
    const ns = await runBatch(1);
    warmNs += ns;
    fastestNs = Math.min(fastestNs, ns);
    warmupCalls++;
  } while (warmNs < warmLimitNs && warmupCalls < 1000);

  // Estimate with a batch when single calls are tiny, so the estimate itself is not clock noise.
  let perCallNs = fastestNs;
  if (perCallNs < MIN_SAMPLE_NS) {
    const k = 64;
    perCallNs = (await runBatch(k)) / k;
  }
  const batch = Math.max(1, Math.ceil(MIN_SAMPLE_NS / Math.max(perCallNs, 1)));
  const reps = Math.min(opts.maxReps, Math.max(opts.minReps, Math.floor((opts.budgetMs * 1e6) / (perCallNs * batch))));
  return { batch, reps, warmupCalls };
}

function summarise(perCallMs: number[], p: Plan): Timing {
  perCallMs.sort((a, b) => a - b);
  return { medianMs: median(perCallMs), minMs: perCallMs[0], samples: p.reps, batch: p.batch, warmupCalls: p.warmupCalls };
}

/**
 * Samples several functions interleaved: each gets its own plan, and their samples are spread
 * evenly over one common sequence. Used for the kernel and its copy roofline, so a burst of
 * background load (2 shared cores) slows both alike instead of skewing their ratio.
 */
async function timeInterleavedWith(runs: RunBatch[], opts: TimingOptions[]): Promise<Timing[]> {
  const plans: Plan[] = [];
  for (let i = 0; i < runs.length; i++) plans.push(await plan(runs[i], opts[i]));
  const total = Math.max(...plans.map((p) => p.reps));
  const samples: number[][] = plans.map(() => []);
  for (let r = 0; r < total; r++) {
    for (let i = 0; i < runs.length; i++) {
      // Fn i takes its reps_i samples at evenly spaced steps r of the common sequence.
      const due = Math.floor(((r + 1) * plans[i].reps) / total) - Math.floor((r * plans[i].reps) / total);
      for (let j = 0; j < due; j++) samples[i].push((await runs[i](plans[i].batch)) / plans[i].batch / 1e6);
    }
  }
  return plans.map((p, i) => summarise(samples[i], p));
}

const syncBatch =
  (fn: () => unknown): RunBatch =>
  async (k) => {
    const t0 = now();
    for (let i = 0; i < k; i++) sink = fn();
    return Number(now() - t0);
  };

/** Times synchronous functions with interleaved samples (see {@link timeInterleavedWith}). */
export function timeSyncInterleaved(fns: (() => unknown)[], opts: TimingOptions[]): Promise<Timing[]> {
  return timeInterleavedWith(fns.map(syncBatch), opts);
}

/** Times a synchronous function. Its result is kept alive in a sink so V8 cannot drop the call. */
export async function timeSync(fn: () => unknown, opts: TimingOptions): Promise<Timing> {
  return (await timeInterleavedWith([syncBatch(fn)], [opts]))[0];
}

/** Times an async function, awaiting each call before the next (latency of one call, not throughput). */
export async function timeAsync(fn: () => Promise<unknown>, opts: TimingOptions): Promise<Timing> {
  const run: RunBatch = async (k) => {
    const t0 = now();
    for (let i = 0; i < k; i++) sink = await fn();
    return Number(now() - t0);
  };
  return (await timeInterleavedWith([run], [opts]))[0];
}

/** Times async functions with interleaved samples, awaiting each call (see {@link timeInterleavedWith}). */
export function timeAsyncInterleaved(fns: (() => Promise<unknown>)[], opts: TimingOptions[]): Promise<Timing[]> {
  return timeInterleavedWith(
    fns.map((fn): RunBatch => async (k) => {
      const t0 = now();
      for (let i = 0; i < k; i++) sink = await fn();
      return Number(now() - t0);
    }),
    opts,
  );
}

/** Holds the last result of a timed call (see {@link timeSync}). */
export let sink: unknown = undefined;
