/**
 * `npm run bench:logits`: the logits-level policy loss (issue 7) on the CPU. In one process, per
 * shape: the fused kernel (`logitsPolicyLoss`, gradient to a new float32 array, to a reused one, and
 * in place) against the LibTorch composite of the same loss (log_softmax(logits.float()/T) → gather
 * → the ATen reference loss → autograd backward, `logitsPolicyLossTorch`), samples interleaved so background
 * load hits both, and a multi-threaded copy of as many bytes as the kernel must move (the bandwidth
 * roofline). Then, one child process per (shape, variant), the peak RSS one call adds. Last, the
 * runner's `trainStep` through the logits kernel against the log-prob path at tiny-vl sizes and at
 * a 32,768-token vocabulary (the measurement behind trainStep's default).
 *
 * Inputs are the conservative case for the fused kernel: every token unmasked and ℓ_old unset (ratio
 * 1, so no token is clipped and every row takes both passes); the composite's work does not depend
 * on them. The loss is DAPO's (β = 0, no KL term, whose cost is O(B·T) on either side).
 * LibTorch gets as many threads as the kernels (OMP_NUM_THREADS, unless set), so neither
 * side has more cores.
 *
 *   --quick            small shapes and budgets (smoke test)
 *   --no-runner        skip the trainStep section
 *   --out <file>       JSON path (default bench/results/logits-loss-cpu-<cpu-slug>-<YYYY-MM-DD>.json)
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { addon } from '../lib/native.js';
import { capabilities, logitsPolicyLoss, Policy, type LogitsPolicyLossInputs } from '../lib/index.js';
import { runnerAddon } from '../lib/runner.js';
import { childPeakBytes, reportPeakAdded } from './peak-rss.js';
import { cpuModel, gitCommit, machineSlug } from './machine.js';
import { defaultResultPath, writeResultFile } from './result-file.js';
import { timeAsyncInterleaved, type Timing, type TimingOptions } from './timing.js';
import { mulberry32 } from '../test/helpers/prng.js';

// LibTorch reads OMP_NUM_THREADS when the runner addon is loaded, which lib/runner.ts does lazily
// at first use (below): give it as many threads as the kernels' pool.
process.env.OMP_NUM_THREADS ??= String(addon.capabilities().threads);

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'no-runner': { type: 'boolean', default: false },
    out: { type: 'string' },
    'memory-child': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

interface Shape {
  batch: number;
  steps: number;
  vocab: number;
  dtype: 'float32' | 'bfloat16';
}
const shapes: Shape[] = args.quick
  ? [
      { batch: 2, steps: 64, vocab: 32768, dtype: 'float32' },
      { batch: 1, steps: 16, vocab: 151936, dtype: 'bfloat16' },
    ]
  : [
      { batch: 4, steps: 256, vocab: 32768, dtype: 'float32' },
      { batch: 4, steps: 256, vocab: 32768, dtype: 'bfloat16' },
      { batch: 1, steps: 128, vocab: 151936, dtype: 'float32' },
      { batch: 1, steps: 128, vocab: 151936, dtype: 'bfloat16' },
    ];
const shapeName = (s: Shape) => `B=${s.batch} T=${s.steps} V=${s.vocab} ${s.dtype}`;
// DAPO: β = 0, so each row's ∂loss/∂ℓ does not depend on the logits' values, and the in-place
// timing can feed one call's gradient to the next as its logits without drifting (see below).
const config = { algorithm: 'dapo' as const };
const TEMPERATURE = 0.9;

/** bfloat16 bits of a float32 (round to nearest even; the inputs are finite). */
function bf16(x: number): number {
  const u = new Uint32Array(new Float32Array([x]).buffer)[0]!;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Seeded inputs: bell-shaped logits (σ ≈ 2) with the target boosted in every row, random targets. */
function makeInputs(s: Shape): LogitsPolicyLossInputs {
  const random = mulberry32(s.batch * 1_000_003 + s.steps * 7919 + s.vocab);
  const rows = s.batch * s.steps;
  const n = rows * s.vocab;
  const logits = s.dtype === 'float32' ? new Float32Array(n) : new Uint16Array(n);
  // Irwin–Hall(4) instead of Box–Muller: a cheap bell shape for 40M values.
  const table = Float32Array.from({ length: 4096 }, () => (random() + random() + random() + random() - 2) * 2 * Math.sqrt(3));
  for (let i = 0; i < n; i++) {
    const x = table[(i * 2654435761) >>> 20]! + (random() - 0.5);
    logits[i] = s.dtype === 'float32' ? x : bf16(x);
  }
  const targets = Int32Array.from({ length: rows }, () => Math.floor(random() * s.vocab));
  for (let i = 0; i < rows; i++) {
    const k = i * s.vocab + targets[i]!;
    logits[k] = s.dtype === 'float32' ? 6 : bf16(6);
  }
  const advantages = Float32Array.from({ length: s.batch }, (_, b) => (b % 2 ? 1 : -1));
  return {
    logits,
    ...(s.dtype === 'float32' ? {} : { dtype: s.dtype }),
    targets,
    advantages,
    mask: new Uint8Array(rows).fill(1),
    batch: s.batch,
    steps: s.steps,
    vocab: s.vocab,
    temperature: TEMPERATURE,
  };
}

type Variant = 'fused' | 'fusedReused' | 'fusedInPlace' | 'composite';
const composite = (inputs: LogitsPolicyLossInputs) =>
  runnerAddon().logitsPolicyLossTorchAsync(inputs, config, { implementation: 'composite', returnGradient: false });

/** `out`: the float32 gradient buffer that 'fusedReused' writes into. */
function run(variant: Variant, inputs: LogitsPolicyLossInputs, out?: Float32Array): Promise<unknown> {
  if (variant === 'fused') return logitsPolicyLoss(inputs, config);
  if (variant === 'fusedReused') return logitsPolicyLoss(inputs, config, { gradLogits: out });
  if (variant === 'fusedInPlace') return logitsPolicyLoss(inputs, config, { inPlace: true });
  return composite(inputs);
}

// ---- child: peak RSS of one call --------------------------------------------------------------
async function memoryChild(spec: string): Promise<void> {
  const parsed = JSON.parse(spec) as { shape: Shape; variant: Variant } | { train: TrainSize; implementation: 'logits' | 'fused' };
  if ('train' in parsed) {
    // One trainStep after a first one (code, pools, AdamW state in place).
    const { policy, step } = await trainingSetup(parsed.train);
    await step(parsed.implementation);
    await reportPeakAdded(() => step(parsed.implementation));
    await policy.dispose();
    return;
  }
  const { shape, variant } = parsed;
  // A small call of the same variant first: code pages, thread pools and allocator arenas are in
  // place before the measured call, so the peak is the call's own data.
  const small = { ...shape, batch: 1, steps: 2 };
  await run(variant, makeInputs(small), new Float32Array(small.batch * small.steps * shape.vocab));
  const inputs = makeInputs(shape);
  // A reused output buffer exists, and has been written, before the call.
  const out = variant === 'fusedReused' ? new Float32Array(shape.batch * shape.steps * shape.vocab).fill(0) : undefined;
  // The result stays referenced until the peak is read (see bench/peak-rss.ts).
  await reportPeakAdded(() => run(variant, inputs, out));
}

function childPeak(spec: object, label: string): Promise<number> {
  return childPeakBytes(fileURLToPath(import.meta.url), ['--memory-child', JSON.stringify(spec)], label);
}

const peakAdded = (shape: Shape, variant: Variant) => childPeak({ shape, variant }, `${shapeName(shape)} ${variant}`);

// ---- runner: trainStep through each implementation ---------------------------------------------
interface TrainSize {
  vocabSize: number;
  hidden: number;
  steps: number;
}

interface TrainRow extends TrainSize {
  batch: number;
  logits: Timing;
  fused: Timing;
  /** fused median / logits median (> 1: the logits kernel is faster). */
  speedup: number;
  /** Peak RSS one trainStep adds (child processes), when measured. */
  peakAddedBytes?: { logits: number; fused: number };
}

/** A 2-layer tiny-vl, a 4 prompts × 4 completions rollout without EOS, and a trainStep on it (learning rate 0). */
async function trainingSetup({ vocabSize, hidden, steps }: TrainSize) {
  const policyConfig = { vocabSize, hidden, layers: 2, heads: 4, kvHeads: 2, intermediate: 2 * hidden, maxContext: 512 };
  const policy = await Policy.create(policyConfig, { device: 'cpu', seed: 1 });
  const random = mulberry32(5);
  const images = Float32Array.from({ length: 4 * 16 * 16 * 3 }, () => random());
  const prompts = Array.from({ length: 4 }, () => Int32Array.from([3, 1, 5, 6, 7, 8]));
  const rollout = await policy.generate({ images, prompts, groupSize: 4, maxNewTokens: steps, eosId: -1 });
  const refLogp = await policy.logprobs(rollout, { model: 'reference' });
  const advantages = Float32Array.from({ length: rollout.batch }, (_, b) => (b % 2 ? 1 : -1));
  const options = { advantages, oldLogp: rollout.logprobs, refLogp, learningRate: 0 };
  const step = (implementation: 'logits' | 'fused') => policy.trainStep(rollout, { ...options, implementation });
  return { policy, batch: rollout.batch, step };
}

async function trainSteps(budget: TimingOptions): Promise<TrainRow[]> {
  const sizes: TrainSize[] = args.quick
    ? [{ vocabSize: 64, hidden: 64, steps: 16 }]
    : [
        { vocabSize: 64, hidden: 64, steps: 32 },
        { vocabSize: 512, hidden: 128, steps: 128 },
        { vocabSize: 32768, hidden: 128, steps: 64 },
      ];
  const rows: TrainRow[] = [];
  for (const size of sizes) {
    const { policy, batch, step } = await trainingSetup(size);
    const [logits, fused] = await timeAsyncInterleaved([() => step('logits'), () => step('fused')], [budget, budget]);
    rows.push({ ...size, batch, logits: logits!, fused: fused!, speedup: fused!.medianMs / logits!.medianMs });
    await policy.dispose();
  }
  if (process.platform === 'linux') {
    const largest = sizes[sizes.length - 1]!;
    rows[rows.length - 1]!.peakAddedBytes = {
      logits: await childPeak({ train: largest, implementation: 'logits' }, 'trainStep logits'),
      fused: await childPeak({ train: largest, implementation: 'fused' }, 'trainStep fused'),
    };
  }
  return rows;
}

// ---- parent -----------------------------------------------------------------------------------
async function main(): Promise<void> {
  const caps = capabilities();
  if (!caps.torch.available) {
    console.error(`bench:logits needs the LibTorch runner for its baseline: ${caps.torch.reason}`);
    process.exit(1);
  }
  const torchThreads = runnerAddon().torchInfo().threads;
  const hardware = `${cpuModel}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; SIMD ${caps.simd}; kernel threads ${caps.threads}; LibTorch ${caps.torch.version} with ${torchThreads} threads`;
  const loadAtStart = loadavg();
  console.log(`dyco-rl logits-level policy loss (CPU) — ${hardware}`);
  console.log(`load average at the start: ${loadAtStart.map((l) => l.toFixed(2)).join(', ')} (other processes share these cores)`);
  console.log(`loss: ${JSON.stringify(config)}, temperature ${TEMPERATURE}, every token unmasked, ℓ_old unset (no clipped token)\n`);
  const budget: TimingOptions = { budgetMs: args.quick ? 1500 : 10_000, minReps: args.quick ? 3 : 7, maxReps: 100, warmupMs: 200 };

  const results = [];
  for (const shape of shapes) {
    process.stderr.write(`timing ${shapeName(shape)} …\n`);
    const inputs = makeInputs(shape);
    const work = { ...inputs, logits: inputs.logits.slice() };
    const entries = shape.batch * shape.steps * shape.vocab;
    const elementBytes = shape.dtype === 'float32' ? 4 : 2;
    // Compulsory traffic: the logits read once, the gradient written once (float32, or the logits'
    // dtype in place); the O(B·T) terms are negligible.
    const movedFused = entries * (elementBytes + 4);
    const movedInPlace = entries * 2 * elementBytes;
    const copyFloats = (bytes: number) => Math.ceil(bytes / 2 / 4);
    const copySrc = new Float32Array(copyFloats(movedFused));
    const copyDst = new Float32Array(copySrc.length);
    const reused = new Float32Array(entries);
    // The in-place call overwrites `work` with its gradient, which the next call reads as logits
    // (with ℓ_old unset and β = 0 the gradient stays small: nothing drifts). The kernel's time does
    // not depend on the values: no token is clipped and there is no −∞.
    const [fused, fusedReused, fusedInPlace, torchComposite, copy] = await timeAsyncInterleaved(
      [
        () => logitsPolicyLoss(inputs, config),
        () => logitsPolicyLoss(inputs, config, { gradLogits: reused }),
        () => logitsPolicyLoss(work, config, { inPlace: true }),
        () => composite(inputs),
        async () => addon.copyMemory(copySrc, copyDst),
      ],
      [budget, budget, budget, budget, { ...budget, budgetMs: budget.budgetMs / 4 }],
    );
    const copyInPlace = (copy!.medianMs * movedInPlace) / movedFused;
    const gbps = (bytes: number, t: Timing) => bytes / (t.medianMs / 1000) / 1e9;
    results.push({
      shape,
      name: shapeName(shape),
      logitsBytes: entries * elementBytes,
      timings: { fused: fused!, fusedReused: fusedReused!, fusedInPlace: fusedInPlace!, composite: torchComposite!, copy: copy! },
      copyBytes: copySrc.byteLength,
      speedup: {
        fused: torchComposite!.medianMs / fused!.medianMs,
        fusedReused: torchComposite!.medianMs / fusedReused!.medianMs,
        fusedInPlace: torchComposite!.medianMs / fusedInPlace!.medianMs,
      },
      bandwidth: {
        fusedGBps: gbps(movedFused, fused!),
        fusedReusedGBps: gbps(movedFused, fusedReused!),
        fusedInPlaceGBps: gbps(movedInPlace, fusedInPlace!),
        copyGBps: gbps(2 * copySrc.byteLength, copy!),
        fusedCopyFraction: copy!.medianMs / fused!.medianMs,
        fusedReusedCopyFraction: copy!.medianMs / fusedReused!.medianMs,
        fusedInPlaceCopyFraction: copyInPlace / fusedInPlace!.medianMs,
      },
      peakAddedBytes: { fused: 0, fusedReused: 0, fusedInPlace: 0, composite: 0 },
    });
  }
  const linux = process.platform === 'linux';
  if (linux) {
    for (const r of results) {
      process.stderr.write(`memory ${r.name} …\n`);
      for (const variant of ['fused', 'fusedReused', 'fusedInPlace', 'composite'] as const) r.peakAddedBytes[variant] = await peakAdded(r.shape, variant);
    }
  }

  const ms = (t: Timing) => `${t.medianMs.toFixed(1)} ms`;
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const size = (b: number) => (Math.abs(b) < 2 ** 20 ? `${(b / 1024).toFixed(0)} KiB` : mib(b));
  console.log('time of one call (median) and speed-up over the composite:');
  console.log('| shape | logits | composite (LibTorch) | fused → new float32 | fused → reused float32 | fused in place |');
  console.log('|---|---|---|---|---|---|');
  const cell = (t: Timing, speedup: number) => `${ms(t)} (${speedup.toFixed(1)}×)`;
  for (const r of results) {
    const t = r.timings;
    console.log(
      `| ${r.name} | ${mib(r.logitsBytes)} | ${ms(t.composite)} | ${cell(t.fused, r.speedup.fused)} | ` +
        `${cell(t.fusedReused, r.speedup.fusedReused)} | ${cell(t.fusedInPlace, r.speedup.fusedInPlace)} |`,
    );
  }
  console.log('\nbandwidth (compulsory bytes / time) and share of the measured copy bandwidth:');
  console.log('| shape | copy | fused → new float32 | fused → reused float32 | fused in place |\n|---|---|---|---|---|');
  const bw = (gb: number, fraction: number) => `${gb.toFixed(1)} GB/s, ${(100 * fraction).toFixed(0)}%`;
  for (const r of results) {
    const b = r.bandwidth;
    console.log(
      `| ${r.name} | ${b.copyGBps.toFixed(1)} GB/s | ${bw(b.fusedGBps, b.fusedCopyFraction)} | ` +
        `${bw(b.fusedReusedGBps, b.fusedReusedCopyFraction)} | ${bw(b.fusedInPlaceGBps, b.fusedInPlaceCopyFraction)} |`,
    );
  }
  if (linux) {
    console.log('\npeak RSS one call adds (child process per cell; a new float32 gradient is part of it, a reused one is not):');
    console.log('| shape | composite | fused → new float32 | fused → reused float32 | fused in place | composite / fused → new |\n|---|---|---|---|---|---|');
    for (const r of results) {
      const p = r.peakAddedBytes;
      console.log(
        `| ${r.name} | ${size(p.composite)} | ${size(p.fused)} | ${size(p.fusedReused)} | ${size(p.fusedInPlace)} | ${(p.composite / p.fused).toFixed(1)}× |`,
      );
    }
    console.log('(VmHWM is a page-granular, lazily updated counter: values within a few hundred KiB of 0, negative ones included, mean "nothing measurable".)');
  }

  let train: TrainRow[] = [];
  if (!args['no-runner']) {
    process.stderr.write('runner trainStep …\n');
    train = await trainSteps({ ...budget, budgetMs: args.quick ? 1500 : 6000, maxReps: 200 });
    console.log("\nrunner trainStep (2-layer tiny-vl, 4 prompts × 4 completions, ℓ_old from the rollout, KL), 'logits' vs 'fused':");
    console.log('| vocab | hidden | tokens | logits | fused | fused / logits |\n|---|---|---|---|---|---|');
    for (const t of train) console.log(`| ${t.vocabSize} | ${t.hidden} | ${t.batch}×${t.steps} | ${ms(t.logits)} | ${ms(t.fused)} | ${t.speedup.toFixed(2)} |`);
    const measured = train.find((t) => t.peakAddedBytes);
    if (measured?.peakAddedBytes)
      console.log(
        `peak RSS one trainStep adds at vocab ${measured.vocabSize} (${measured.batch}×${measured.steps} tokens): ` +
          `'logits' ${mib(measured.peakAddedBytes.logits)}, 'fused' ${mib(measured.peakAddedBytes.fused)}`,
      );
  }

  const now = new Date();
  const out = args.out ?? defaultResultPath(`logits-loss-cpu-${machineSlug}`, now, args.quick);
  writeResultFile(out, {
    hardware,
    cpu: cpuModel,
    cores: cpus().length,
    node: process.version,
    capabilities: caps,
    kernelThreads: caps.threads,
    torchThreads,
    loadAverage: { start: loadAtStart, end: loadavg() },
    commit: gitCommit(),
    date: now.toISOString(),
    quick: args.quick,
    loss: config,
    temperature: TEMPERATURE,
    method:
      'medians of interleaved samples (bench/timing.ts); fused = logitsPolicyLoss with a new float32 gradient array per call, fusedReused = into one options.gradLogits array, ' +
      'fusedInPlace = inPlace (each call reads the previous gradient as logits); composite = logitsPolicyLossTorch implementation composite, returnGradient false; ' +
      'copy = addon.copyMemory over half the fused call’s compulsory bytes (it reads and writes them); peak RSS = VmHWM after one call minus VmRSS before, child process, MALLOC_MMAP_THRESHOLD_=65536',
    goalsForTheGpu: { speedupAtLeast: 5, peakMemoryRatioAtLeast: 10, copyFractionAtLeast: 0.7, note: 'issue 7 states these for the GPU benchmark; shown for reference' },
    shapes: results,
    trainStep: train,
  });
  console.log(`\nwrote ${out}`);
}

if (args.help) {
  console.log('usage: npm run bench:logits -- [--quick] [--no-runner] [--out <file.json>]');
} else if (args['memory-child']) {
  await memoryChild(args['memory-child']);
} else {
  await main();
}
