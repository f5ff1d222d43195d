/**
 * `npm run bench:cuda` (or `npm run bench -- --device cuda`): the GPU benchmark. For each case,
 * in one process: the CUDA kernel on DeviceArray inputs, timed with CUDA events after warm-up
 * (inputs staged once, launches back to back); a device-to-device copy of the bytes the kernel
 * reads, timed the same way, as the bandwidth yardstick; and, where dyco_bench_torch.node was built
 * and LibTorch sees the GPU, the same computation composed from LibTorch (ATen) CUDA operations
 * (the loss with autograd backward). Before timing, one call is compared with the CPU kernel on the
 * same inputs, so a fast but wrong kernel cannot pass unnoticed.
 *
 *   --quick            small sizes only, few reps (smoke test)
 *   --filter <text>    only cases whose "kernel size dtype" contains <text> (case-insensitive)
 *   --out <file>       JSON path (default bench/results/<gpu-slug>-<YYYY-MM-DD>.json)
 *   --reps <n>         timed reps per measurement (default 20; quick: 5)
 *   --require          exit 1 when no GPU can be used (default: say why and exit 0)
 *   --report <file>    measure nothing: print a saved result again (no GPU needed); with
 *                      --markdown, as the Markdown table the README quotes, headed by the hardware
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  attentionStats,
  capabilities,
  coordinationScores,
  DeviceArray,
  fisherRao,
  fisherRaoAdjacent,
  policyLoss,
  type PolicyAlgorithm,
} from '../lib/index.js';
import { addon } from '../lib/native.js';
import { halfBits } from '../test/helpers/half.js';
import {
  attentionStatsWorkload,
  coordinationWorkload,
  fisherRaoAdjacentWorkload,
  fisherRaoWorkload,
  OTHER_KEYS,
  policyLossWorkload,
  PROMPT_KEYS,
  relDiff,
  sizeLabel,
  VISION_KEYS,
  type NumArray,
  type Tier,
} from './cases.js';
import { cpuModel, gitCommit, repoRoot } from './machine.js';
import { defaultResultPath, writeResultFile } from './result-file.js';
import { formatBytes, formatTime } from './report.js';
import { describeRun, formatGpuMarkdown, parseGpuResult, formatGpuTable, type Dtype, type FailedCase, type GpuResult, type GpuRow as Row, type Stats } from './cuda-report.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    filter: { type: 'string' },
    out: { type: 'string' },
    reps: { type: 'string' },
    require: { type: 'boolean', default: false },
    report: { type: 'string' },
    markdown: { type: 'boolean', default: false },
    device: { type: 'string', default: 'cuda' }, // accepted so that `npm run bench -- --device cuda` lands here
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (args.help) {
  console.log('usage: npm run bench:cuda -- [--quick] [--filter <text>] [--out <file.json>] [--reps <n>] [--require]');
  console.log('       npm run bench:cuda -- --report <file.json> [--markdown]');
  process.exit(0);
}
if (args.markdown && args.report === undefined) {
  console.error('--markdown formats a saved result: give it with --report <file.json>');
  process.exit(2);
}
if (args.report !== undefined) {
  let result: GpuResult;
  try {
    result = parseGpuResult(readFileSync(args.report, 'utf8'), args.report);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
  console.log(args.markdown ? formatGpuMarkdown(result) : `${describeRun(result)}\n\n${formatGpuTable(result)}`);
  process.exit(0);
}

interface Goals {
  /** copy time / kernel time must reach this (the kernel's share of measured copy bandwidth). */
  minCopyFraction?: number;
  /** LibTorch composite time / kernel time must reach this. */
  minTorchSpeedup?: number;
  /** LibTorch composite's peak extra device memory / the kernel's must reach this. */
  minMemoryRatio?: number;
}

interface Prepared {
  /** One synchronous kernel call on DeviceArrays; returns its outputs (DeviceArrays, disposed after). */
  run: () => unknown;
  /** Largest relative difference between the CUDA and CPU kernels over the main outputs, one call each. */
  check: () => Promise<number>;
  bytesRead: number;
  bytesWritten: number;
  /** The LibTorch composite of the same computation, if there is one. */
  torch?: { kernel: string; params: Record<string, unknown> };
  /** Peak extra device memory of one kernel call (the stream-ordered pool's high-water mark over it). */
  peakExtraBytes?: () => number;
  dispose: () => void;
}

interface GpuCase {
  kernel: string;
  size: string;
  dtype: Dtype;
  tier: Tier;
  goals: Goals;
  params: Record<string, unknown>;
  prepare: () => Prepared;
}

const cuda = { device: 'cuda' } as const;
const cpu = { device: 'cpu' } as const;
const STREAM_GOALS: Goals = { minCopyFraction: 0.8, minTorchSpeedup: 5 };
const LOSS_GOALS: Goals = { minTorchSpeedup: 5 };
const LOGITS_GOALS: Goals = { minTorchSpeedup: 5, minCopyFraction: 0.7, minMemoryRatio: 10 };

/** Disposes every DeviceArray found in a kernel's result. */
function disposeAll(value: unknown): void {
  if (value instanceof DeviceArray) value.dispose();
  else if (value && typeof value === 'object') for (const v of Object.values(value)) if (v instanceof DeviceArray) v.dispose();
}

async function download(value: unknown): Promise<Float32Array> {
  return (await (value as DeviceArray<'float32'>).download()) as Float32Array;
}

/** A float input in the case's type (half precision: its rounded bits), on the host and on the device. */
function floatInput(x: Float32Array, dtype: Dtype) {
  if (dtype === 'float32') return { host: x, device: DeviceArray.upload(x) };
  const data = halfBits(x, dtype);
  return { host: { data, dtype }, device: DeviceArray.upload(data, { dtype }) };
}

function fisherRaoCase(rows: number, cols: number, tier: Tier): GpuCase {
  return {
    kernel: 'fisherRao',
    size: sizeLabel(rows, cols),
    dtype: 'float32',
    tier,
    goals: {},
    params: { rows, cols, elementsPerInput: rows * cols },
    prepare() {
      const { inputs: { p, q, shape }, bytesRead, bytesWritten } = fisherRaoWorkload(rows, cols);
      const dp = DeviceArray.upload(p);
      const dq = DeviceArray.upload(q);
      return {
        run: () => fisherRao(dp, dq, shape),
        check: async () => {
          const out = fisherRao(dp, dq, shape);
          const got = await download(out);
          out.dispose();
          return relDiff(got, fisherRao(p, q, shape, cpu));
        },
        bytesRead,
        bytesWritten,
        torch: { kernel: 'fisherRao', params: { rows, cols } },
        dispose: () => [dp, dq].forEach((a) => a.dispose()),
      };
    },
  };
}

function adjacentCase(batch: number, steps: number, width: number, tier: Tier, dtype: Dtype = 'float32'): GpuCase {
  const scale = dtype === 'float32' ? 1 : 0.5;
  return {
    kernel: 'fisherRaoAdjacent',
    size: sizeLabel(batch, steps, width),
    dtype,
    tier,
    goals: tier === 'large' ? STREAM_GOALS : {},
    params: { batch, steps, width, lengths: 'none (full rows)' },
    prepare() {
      const w = fisherRaoAdjacentWorkload(batch, steps, width);
      const { shape } = w.inputs;
      const { host: x, device: dx } = floatInput(w.inputs.x, dtype);
      return {
        run: () => fisherRaoAdjacent(dx, shape),
        check: async () => {
          const out = fisherRaoAdjacent(dx, shape);
          const got = await download(out);
          out.dispose();
          return relDiff(got, fisherRaoAdjacent(x, shape, cpu));
        },
        bytesRead: w.bytesRead * scale,
        bytesWritten: w.bytesWritten,
        torch: { kernel: 'fisherRaoAdjacent', params: { batch, steps, width } },
        dispose: () => dx.dispose(),
      };
    },
  };
}

function attentionCase(batch: number, steps: number, keys: number, tier: Tier, dtype: Dtype = 'float32'): GpuCase {
  return {
    kernel: 'attentionStats',
    size: sizeLabel(batch, steps, keys),
    dtype,
    tier,
    goals: tier === 'large' ? STREAM_GOALS : {},
    params: { batch, steps, keys, layout: `${OTHER_KEYS} other, ${VISION_KEYS} vision, rest text`, lengths: `min(keys, ${PROMPT_KEYS} + t)` },
    prepare() {
      const w = attentionStatsWorkload(batch, steps, keys);
      const { shape } = w.inputs;
      const elementBytes = dtype === 'float32' ? 4 : 2;
      const { host: attn, device: dAttn } = floatInput(w.inputs.attn, dtype);
      const dModality = DeviceArray.upload(shape.modality);
      const dLengths = DeviceArray.upload(shape.lengths!);
      const onDevice = { ...shape, modality: dModality, lengths: dLengths };
      const fields = ['ratioVis', 'ratioTxt', 'frVis', 'frTxt'] as const;
      return {
        run: () => attentionStats(dAttn, onDevice),
        check: async () => {
          const out = attentionStats(dAttn, onDevice);
          const host = attentionStats(attn, shape, cpu);
          let worst = 0;
          for (const k of fields) worst = Math.max(worst, relDiff(await download(out[k]), host[k]));
          disposeAll(out);
          return worst;
        },
        bytesRead: w.readKeys * elementBytes + keys + batch * steps * 4,
        bytesWritten: w.bytesWritten,
        torch: { kernel: 'attentionStats', params: { batch, steps, keys, other: OTHER_KEYS, vision: VISION_KEYS, prompt: PROMPT_KEYS } },
        dispose: () => [dAttn, dModality, dLengths].forEach((a) => a.dispose()),
      };
    },
  };
}

function coordinationCase(batch: number, steps: number, tier: Tier): GpuCase {
  return {
    kernel: 'coordinationScores',
    size: sizeLabel(batch, steps),
    dtype: 'float32',
    tier,
    goals: {},
    params: { batch, steps, mask: 'trailing padding, lengths in [steps/2, steps]' },
    prepare() {
      const { inputs, bytesRead, bytesWritten } = coordinationWorkload(batch, steps);
      const device = {
        frVis: DeviceArray.upload(inputs.frVis),
        frTxt: DeviceArray.upload(inputs.frTxt),
        ratioVis: DeviceArray.upload(inputs.ratioVis),
        ratioTxt: DeviceArray.upload(inputs.ratioTxt),
        mask: DeviceArray.upload(inputs.mask!),
      };
      const onDevice = { ...device, batch, steps };
      return {
        run: () => coordinationScores(onDevice),
        check: async () => {
          const out = coordinationScores(onDevice);
          const host = coordinationScores(inputs, cpu);
          const worst = Math.max(relDiff(await download(out.sequenceScore), host.sequenceScore), relDiff(await download(out.alignment), host.alignment));
          disposeAll(out);
          return worst;
        },
        bytesRead,
        bytesWritten,
        dispose: () => Object.values(device).forEach((a) => a.dispose()),
      };
    },
  };
}

function policyLossCase(algorithm: PolicyAlgorithm, batch: number, steps: number, tier: Tier): GpuCase {
  return {
    kernel: `policyLoss/${algorithm}`,
    size: sizeLabel(batch, steps),
    dtype: 'float32',
    tier,
    goals: tier === 'large' ? LOSS_GOALS : {},
    params: { algorithm, batch, steps, mask: 'trailing padding, lengths in [steps/4, steps]', advantages: 'per sequence', pass: 'forward + backward' },
    prepare() {
      const { inputs, bytesRead, bytesWritten } = policyLossWorkload(algorithm, batch, steps);
      const up = (a?: Float32Array) => (a ? DeviceArray.upload(a) : undefined);
      const device = { logp: up(inputs.logp)!, oldLogp: up(inputs.oldLogp), refLogp: up(inputs.refLogp), advantages: up(inputs.advantages)!, mask: DeviceArray.upload(inputs.mask) };
      const onDevice = { ...device, batch, steps };
      const config = { algorithm };
      return {
        run: () => policyLoss(onDevice, config),
        check: async () => {
          const out = policyLoss(onDevice, config);
          const host = policyLoss(inputs, config, cpu);
          const worst = Math.max(relDiff([out.loss], [host.loss]), relDiff(await download(out.grad), host.grad as NumArray));
          out.grad.dispose();
          return worst;
        },
        bytesRead,
        bytesWritten,
        torch: { kernel: 'policyLoss', params: { config, batch, steps } },
        dispose: () => Object.values(device).forEach((a) => a?.dispose()),
      };
    },
  };
}

/**
 * logitsPolicyLoss (grpo, β 0.04, per-sequence advantages, every token unmasked), forward and
 * backward with the gradient written in place over DeviceArray logits: what a trainer does. It reads
 * the logits of unmasked tokens twice (log-sum-exp, then the gradient) and writes every row once;
 * with every token unmasked (the most work the kernel ever does, and what makes the byte count
 * exact: a masked row is never read) the copy it is compared with moves the same bytes (reads and
 * writes 1.5× the logits). Peak extra memory: the pool's
 * high-water mark over one call (logp and the O(batch·steps) workspace) vs LibTorch's
 * reservation for log_softmax(logits.float()/T) → gather → loss → backward. Here (not in
 * bench/logits-loss.ts) because this file already has the GPU timing, copy and LibTorch machinery.
 */
function logitsLossCase(batch: number, steps: number, vocab: number, dtype: Dtype, tier: Tier): GpuCase {
  const algorithm = 'grpo' as const;
  return {
    kernel: `logitsPolicyLoss/${algorithm}`,
    size: `${batch}×${steps}×${vocab}`,
    dtype,
    tier,
    goals: tier === 'large' ? LOGITS_GOALS : {},
    params: { algorithm, batch, steps, vocab, temperature: 1, pass: 'forward + backward, gradient in place', copy: 'same bytes moved (1.5× logits read + written)' },
    prepare() {
      const n = batch * steps, entries = n * vocab;
      // Random logits: one block of rows repeated (the kernel's time does not depend on the values).
      const blockRows = Math.min(n, 16);
      const block = new Float64Array(blockRows * vocab);
      let seed = 12345;
      const uniform = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
      for (let i = 0; i < block.length; i++) block[i] = 6 * (uniform() + uniform() + uniform() - 1.5);
      const elementBytes = dtype === 'float32' ? 4 : 2;
      const host = dtype === 'float32' ? new Float32Array(entries) : new Uint16Array(entries);
      const blockData = dtype === 'float32' ? Float32Array.from(block) : halfBits(Float32Array.from(block), dtype);
      for (let at = 0; at < entries; at += blockData.length) (host as Uint16Array).set((blockData as Uint16Array).subarray(0, Math.min(blockData.length, entries - at)), at);
      const targets = Int32Array.from({ length: n }, (_, i) => (i * 7919) % vocab);
      const mask = new Uint8Array(n).fill(1);
      const logV = -Math.log(vocab);
      const oldLogp = Float32Array.from({ length: n }, () => logV + 0.3 * (uniform() - 0.5));
      const refLogp = Float32Array.from({ length: n }, () => logV + 0.3 * (uniform() - 0.5));
      const advantages = Float32Array.from({ length: batch }, () => 3 * uniform() - 1.5);
      const upload = () =>
        host instanceof Float32Array ? DeviceArray.upload(host) : DeviceArray.upload(host, { dtype: dtype as 'float16' | 'bfloat16' });
      const rest = {
        targets: DeviceArray.upload(targets),
        oldLogp: DeviceArray.upload(oldLogp),
        refLogp: DeviceArray.upload(refLogp),
        advantages: DeviceArray.upload(advantages),
        mask: DeviceArray.upload(mask),
      };
      const logits = upload();
      const onDevice = { logits, ...rest, batch, steps, vocab };
      const config = { algorithm };
      const call = (inputs: object) => addon.logitsPolicyLoss(inputs, config, { inPlace: true }) as { loss: number; logp: DeviceArray };
      return {
        run: () => call(onDevice).logp,
        check: async () => {
          const scratch = upload();
          const out = call({ ...onDevice, logits: scratch });
          const logp = await download(out.logp);
          out.logp.dispose();
          scratch.dispose();
          const hostInputs = { logits: host, ...(dtype === 'float32' ? {} : { dtype }), targets, oldLogp, refLogp, advantages, mask, batch, steps, vocab };
          const cpuResult = addon.logitsPolicyLoss(hostInputs, config, { device: 'cpu', inPlace: true }) as { loss: number; logp: Float32Array };
          return Math.max(relDiff([out.loss], [cpuResult.loss]), relDiff(logp, cpuResult.logp as NumArray));
        },
        bytesRead: 1.5 * entries * elementBytes,
        bytesWritten: 1.5 * entries * elementBytes,
        torch: { kernel: 'logitsPolicyLoss', params: { config, batch, steps, vocab, dtype, temperature: 1 } },
        peakExtraBytes: () => {
          const before = addon.cudaPoolMemory(true).used;
          const out = call(onDevice);
          const { high } = addon.cudaPoolMemory(false);
          out.logp.dispose();
          return high - before;
        },
        dispose: () => [logits, ...Object.values(rest)].forEach((a) => a.dispose()),
      };
    },
  };
}

/**
 * Small sizes for --quick; large ones where the goals apply: FR up to 2^28 elements per input
 * (262144 rows × 1024), FR adjacent and attention statistics at 64×512×1024 (2^25; the CPU
 * benchmark's large size) and 64×4096×1024 (2^28), policy losses at 64 × 4096 tokens.
 */
function allCases(): GpuCase[] {
  const cases: GpuCase[] = [
    fisherRaoCase(64, 1024, 'small'),
    fisherRaoCase(1024, 1024, 'mid'),
    fisherRaoCase(16384, 1024, 'large'),
    fisherRaoCase(65536, 1024, 'large'),
    fisherRaoCase(262144, 1024, 'large'),
    adjacentCase(8, 64, 256, 'small'),
    adjacentCase(64, 512, 1024, 'large'),
    adjacentCase(64, 4096, 1024, 'large'),
    adjacentCase(64, 512, 1024, 'large', 'bfloat16'),
    adjacentCase(64, 4096, 1024, 'large', 'bfloat16'),
    attentionCase(8, 64, 1024, 'small'),
    attentionCase(64, 512, 1024, 'large'),
    attentionCase(64, 4096, 1024, 'large'),
    attentionCase(64, 512, 1024, 'large', 'bfloat16'),
    coordinationCase(8, 256, 'small'),
    coordinationCase(256, 4096, 'large'),
  ];
  for (const algorithm of ['grpo', 'dapo', 'gspo', 'sapo'] as const) {
    cases.push(policyLossCase(algorithm, 8, 1024, 'small'), policyLossCase(algorithm, 64, 4096, 'large'));
  }
  cases.push(logitsLossCase(4, 256, 32768, 'bfloat16', 'small'), logitsLossCase(8, 2048, 151936, 'bfloat16', 'large'));
  return cases;
}

function stats(ms: number[]): Stats {
  const sorted = [...ms].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 ? sorted[(n - 1) >> 1]! : 0.5 * (sorted[n / 2 - 1]! + sorted[n / 2]!);
  return { medianMs: median, minMs: sorted[0]!, samples: n };
}

interface TorchBench {
  info(): { version: string; cuda: boolean; device?: string };
  time(kernel: string, params: object, options: { warmup: number; reps: number }): number[];
  /** Peak extra device bytes of one run of the composite (−1: not measurable with this LibTorch). */
  peakMemory(kernel: string, params: object): number;
}

/** The LibTorch baseline addon, or why it is not there. */
function loadTorchBench(): { bench: TorchBench; version: string } | { reason: string } {
  const path = join(repoRoot, 'build', 'bench', 'dyco_bench_torch.node');
  if (!existsSync(path)) return { reason: `${path} was not built (needs LibTorch and the CUDA toolkit at build time)` };
  try {
    const bench = createRequire(import.meta.url)(path) as TorchBench;
    const info = bench.info();
    if (!info.cuda) return { reason: `LibTorch ${info.version} sees no CUDA device (a CPU-only LibTorch?)` };
    return { bench, version: info.version };
  } catch (error) {
    return { reason: `${path} failed to load: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function gpuSlug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

async function main(): Promise<void> {
  const caps = capabilities();
  if (!caps.cuda) {
    console.log(`GPU benchmark skipped: ${caps.cudaReason}`);
    process.exit(args.require ? 1 : 0);
  }
  const device = caps.cudaDevice!;
  const torch = loadTorchBench();
  const reps = Number(args.reps ?? (args.quick ? 5 : 20));
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps must be a positive integer (got ${args.reps})`);
  const timing = { warmup: 3, reps };
  const now = new Date();
  const outFile =
    args.out ?? defaultResultPath(gpuSlug(device.name), now, args.quick);
  const header = {
    gpu: device,
    cpu: `${cpuModel} × ${cpus().length}`,
    node: process.version,
    capabilities: caps,
    libtorch: 'bench' in torch ? { version: torch.version } : { unavailable: torch.reason },
    commit: gitCommit(),
    date: now.toISOString(),
    quick: args.quick,
    filter: args.filter ?? null,
    timing: { ...timing, clock: 'CUDA events around each rep; launches back to back after warm-up' },
  };
  console.log(`dyco-rl GPU benchmark — ${header.date}`);
  console.log(`gpu:      ${device.name} (compute ${device.computeCapability}, ${formatBytes(device.memoryBytes)}, ${device.multiprocessors} SMs; driver CUDA ${device.driver}, runtime ${device.runtime}; kernels built for ${device.architectures})`);
  console.log(`host:     ${header.cpu}, Node ${header.node}`);
  console.log(`libtorch: ${'bench' in torch ? torch.version : `unavailable: ${torch.reason}`}`);
  console.log(`commit:   ${header.commit}\n`);

  const filter = args.filter?.toLowerCase();
  const cases = allCases().filter((c) => (!args.quick || c.tier === 'small') && (!filter || `${c.kernel} ${c.size} ${c.dtype}`.toLowerCase().includes(filter)));
  const rows: Row[] = [];
  const failures: FailedCase[] = [];
  // The JSON is rewritten after every case (atomically, bench/result-file.ts), so a run
  // cut short (the GPU machine's time limit, a crash) still leaves every case measured so far, with
  // `complete: false`.
  const save = (complete: boolean): void => {
    const json: GpuResult & Record<string, unknown> = { ...header, complete, casesPlanned: cases.length, units: { time: 'ms (median of the reps)', bandwidth: 'GB/s = 1e9 bytes/s' }, rows, failures };
    writeResultFile(outFile, json);
  };
  for (const [i, c] of cases.entries()) {
    process.stderr.write(`[${i + 1}/${cases.length}] ${c.kernel} ${c.size} ${c.dtype} … `);
    let p: ReturnType<typeof c.prepare> | undefined;
    try {
      const prepared = c.prepare();
      p = prepared;
      const maxRelDiffVsCpu = await p.check();
      const kernel = stats(addon.timeCudaCalls(() => disposeAll(prepared.run()), timing));
      const copy = stats(addon.timeCudaCopy(p.bytesRead, timing));
      let torchStats: Stats | null = null;
      let note: string | undefined;
      if (p.torch && 'bench' in torch) {
        try {
          torchStats = stats(torch.bench.time(p.torch.kernel, p.torch.params, timing));
        } catch (error) {
          note = `LibTorch composite failed: ${error instanceof Error ? error.message : String(error)}`;
        }
      }
      let memory: Row['memory'];
      if (p.peakExtraBytes) {
        const kernelBytes = p.peakExtraBytes();
        let torchBytes: number | null = null;
        if (p.torch && 'bench' in torch) {
          try {
            const measured = torch.bench.peakMemory(p.torch.kernel, p.torch.params);
            torchBytes = measured >= 0 ? measured : null;
          } catch (error) {
            note = `${note ? `${note}; ` : ''}LibTorch peak memory failed: ${error instanceof Error ? error.message : String(error)}`;
          }
        }
        memory = { kernel: kernelBytes, torch: torchBytes, ratio: torchBytes !== null ? torchBytes / Math.max(kernelBytes, 1) : null };
      }
      const copyFraction = copy.medianMs / kernel.medianMs;
      const torchSpeedup = torchStats ? torchStats.medianMs / kernel.medianMs : null;
      const goals: Row['goals'] = {};
      if (c.goals.minCopyFraction !== undefined)
        goals.copyFraction = { target: c.goals.minCopyFraction, value: copyFraction, met: copyFraction >= c.goals.minCopyFraction };
      if (c.goals.minTorchSpeedup !== undefined)
        goals.torchSpeedup = { target: c.goals.minTorchSpeedup, value: torchSpeedup, met: torchSpeedup !== null && torchSpeedup >= c.goals.minTorchSpeedup };
      if (c.goals.minMemoryRatio !== undefined) {
        const ratio = memory?.ratio ?? null;
        goals.memoryRatio = { target: c.goals.minMemoryRatio, value: ratio, met: ratio !== null && ratio >= c.goals.minMemoryRatio };
      }
      if (!(maxRelDiffVsCpu <= 1e-3)) note = `${note ? `${note}; ` : ''}CUDA and CPU outputs differ by up to ${maxRelDiffVsCpu.toExponential(1)} of their scale`;
      if (c.dtype !== 'float32' && torchStats && !c.kernel.startsWith('logitsPolicyLoss')) note = `${note ? `${note}; ` : ''}the LibTorch composite runs on float32 inputs`;
      rows.push({
        kernel: c.kernel,
        size: c.size,
        dtype: c.dtype,
        tier: c.tier,
        params: c.params,
        bytesRead: p.bytesRead,
        bytesWritten: p.bytesWritten,
        cuda: kernel,
        gbps: (p.bytesRead + p.bytesWritten) / (kernel.medianMs * 1e6),
        copy,
        copyFraction,
        torch: torchStats,
        torchSpeedup,
        goals,
        maxRelDiffVsCpu,
        note,
        memory,
      });
      process.stderr.write(`${formatTime(kernel.medianMs)} (${(100 * copyFraction).toFixed(0)}% copy${torchSpeedup ? `, ${torchSpeedup.toFixed(1)}× LibTorch` : ''})\n`);
    } catch (error) {
      // One case's failure (a CUDA error, a wrong result) is recorded and the others still run.
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ kernel: c.kernel, size: c.size, dtype: c.dtype, error: message });
      process.stderr.write(`FAILED: ${message}\n`);
    }
    try {
      p?.dispose();
    } catch (error) {
      failures.push({ kernel: c.kernel, size: c.size, dtype: c.dtype, error: `dispose: ${error instanceof Error ? error.message : String(error)}` });
    }
    save(false);
  }

  console.log(formatGpuTable({ rows, failures, complete: true, casesPlanned: cases.length }));
  save(true);
  console.log(`\nJSON: ${outFile}`);
  if (failures.length) process.exitCode = 1;
}

await main();
