/**
 * `npm run bench:runner`: throughput of the LibTorch runner (tiny-vl) and what the DyCo statistics
 * cost. In one process: tokens/s of `Policy.generate` with the streamed statistics on and off
 * (interleaved samples, so load hits both), tokens/s of `trainStep` and of teacher-forced
 * `logprobs`; then, in one child process per point, peak RSS against the completion length with
 * the statistics off, streamed, and with every attention row kept (the debug maps), which is what
 * a non-streaming implementation would hold. (Peak RSS added by the call: the process's peak after
 * it minus its peak before it.)
 *
 *   --quick            shorter completions and budgets (CI smoke test)
 *   --device <d>       auto (default) | cpu | cuda
 *   --out <file>       JSON path (default bench/results/runner-<device>-<cpu-slug>-<YYYY-MM-DD>.json)
 */
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { capabilities, Policy, type GenerateRequest, type TinyVLConfig } from '../lib/index.js';
import { cpuModel, gitCommit, machineSlug } from './machine.js';
import { defaultResultPath, writeResultFile } from './result-file.js';
import { timeAsync, timeAsyncInterleaved, type TimingOptions } from './timing.js';
import { childPeakBytes, reportPeakAdded } from './peak-rss.js';
import { mulberry32 } from '../test/helpers/prng.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    device: { type: 'string', default: 'auto' },
    out: { type: 'string' },
    'memory-child': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

/** A small but not toy model: 64 vision tokens, ~1.2M parameters. */
const benchConfig: TinyVLConfig = {
  vocabSize: 512,
  hidden: 128,
  layers: 4,
  heads: 8,
  kvHeads: 2,
  intermediate: 384,
  maxContext: 1024,
  imageHeight: 32,
  imageWidth: 32,
  imageChannels: 3,
  patchSize: 4,
  visionLayers: 1,
};
const PROMPTS = 4;
const GROUP = 4;

function request(maxNewTokens: number): GenerateRequest {
  const random = mulberry32(12345);
  const perImage = 32 * 32 * 3;
  const images = Float32Array.from({ length: PROMPTS * perImage }, () => random());
  const prompts = Array.from({ length: PROMPTS }, (_, p) =>
    Int32Array.from([3, 1, ...Array.from({ length: 8 + 2 * p }, () => 3 + Math.floor(random() * 500))]),
  );
  // No EOS: every sequence generates exactly maxNewTokens, so tokens/s is exact.
  return { images, prompts, groupSize: GROUP, maxNewTokens, temperature: 1, eosId: -1 };
}

type Device = 'auto' | 'cpu' | 'cuda';

// ---- child: peak RSS of one generate --------------------------------------------------------
async function memoryChild(spec: string): Promise<void> {
  const [steps, mode] = spec.split(':') as [string, 'off' | 'stream' | 'maps'];
  const policy = await Policy.create(benchConfig, { device: args.device as Device, seed: 1 });
  const req = request(Number(steps));
  // What generation adds (see bench/peak-rss.ts).
  await reportPeakAdded(() => policy.generate({ ...req, statistics: mode !== 'off', returnAttention: mode === 'maps' }));
  await policy.dispose();
}

function peakRss(steps: number, mode: string): Promise<number> {
  return childPeakBytes(fileURLToPath(import.meta.url), ['--memory-child', `${steps}:${mode}`, '--device', args.device!], `${steps}:${mode}`);
}

// ---- parent ---------------------------------------------------------------------------------
async function main(): Promise<void> {
  const torch = capabilities().torch;
  if (!torch.available) {
    console.error(`bench:runner needs the LibTorch runner: ${torch.reason}`);
    process.exit(1);
  }
  const quick = args.quick;
  const steps = quick ? 32 : 128;
  const budget: TimingOptions = { budgetMs: quick ? 1500 : 8000, minReps: quick ? 3 : 7, maxReps: 200, warmupMs: 200 };
  const policy = await Policy.create(benchConfig, { device: args.device as Device, seed: 1 });
  const info = policy.info();
  const tokens = PROMPTS * GROUP * steps;
  const req = request(steps);
  const hardware = `${cpuModel}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; LibTorch ${torch.version} on ${info.device}`;
  console.log(`dyco-rl runner benchmark — ${hardware}`);
  console.log(`model: ${info.parameters.toLocaleString()} parameters, ${JSON.stringify(benchConfig)}`);
  console.log(`batch: ${PROMPTS} prompts × ${GROUP} completions × ${steps} new tokens = ${tokens} tokens per call\n`);

  const [withStats, withoutStats] = await timeAsyncInterleaved(
    [() => policy.generate({ ...req, statistics: true }), () => policy.generate({ ...req, statistics: false })],
    [budget, budget],
  );
  const overhead = withStats.medianMs / withoutStats.medianMs - 1;

  const rollout = await policy.generate(req);
  const ref = await policy.logprobs(rollout, { model: 'reference' });
  const advantages = Float32Array.from({ length: rollout.batch }, (_, b) => (b % 2 ? 1 : -1));
  const train = await timeAsync(
    () => policy.trainStep(rollout, { advantages, oldLogp: rollout.logprobs, refLogp: ref, loss: { algorithm: 'grpo' }, learningRate: 0 }),
    budget,
  );
  const score = await timeAsync(() => policy.logprobs(rollout), budget);

  const rate = (ms: number) => (tokens / (ms / 1000)).toFixed(0);
  const rows = [
    ['generate, statistics on', withStats.medianMs, rate(withStats.medianMs)],
    ['generate, statistics off', withoutStats.medianMs, rate(withoutStats.medianMs)],
    ['trainStep (grpo, KL)', train.medianMs, rate(train.medianMs)],
    ['logprobs (teacher-forced)', score.medianMs, rate(score.medianMs)],
  ] as const;
  console.log('| call | median | tokens/s |\n|---|---|---|');
  for (const [name, ms, r] of rows) console.log(`| ${name} | ${ms.toFixed(1)} ms | ${r} |`);
  const overheadGoal = 0.05;
  console.log(
    `\nDyCo statistics cost ${(overhead * 100).toFixed(1)}% of generation time (goal ≤ ${overheadGoal * 100}%): ${overhead <= overheadGoal ? 'met' : 'MISSED'}`,
  );
  await policy.dispose();

  // Peak memory against the completion length, one fresh process per point.
  // Peak RSS per call needs Linux's /proc (clear_refs); elsewhere the table is skipped.
  const lengths = process.platform !== 'linux' ? [] : quick ? [32, 128] : [64, 128, 256, 512];
  const memory: { steps: number; off: number; stream: number; maps: number }[] = [];
  for (const n of lengths) {
    memory.push({ steps: n, off: await peakRss(n, 'off'), stream: await peakRss(n, 'stream'), maps: await peakRss(n, 'maps') });
  }
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  console.log('\npeak RSS added by one generate call, by completion length (MiB; Δ against statistics off):');
  console.log('| new tokens | statistics off | streamed (Δ) | every row kept (Δ) |\n|---|---|---|---|');
  for (const m of memory)
    console.log(`| ${m.steps} | ${mib(m.off)} | ${mib(m.stream)} (${mib(m.stream - m.off)}) | ${mib(m.maps)} (${mib(m.maps - m.off)}) |`);

  const now = new Date();
  const out = args.out ?? defaultResultPath(`runner-${info.device.replace(/:.*/, '')}-${machineSlug}`, now, quick);
  writeResultFile(out, {
    hardware,
    cpu: cpuModel,
    cores: cpus().length,
    node: process.version,
    torch,
    device: info.device,
    commit: gitCommit(),
    date: now.toISOString(),
    quick,
    config: info.config,
    parameters: info.parameters,
    batch: { prompts: PROMPTS, groupSize: GROUP, steps, tokens },
    timings: { generateWithStatistics: withStats, generateWithoutStatistics: withoutStats, trainStep: train, logprobs: score },
    statisticsOverhead: overhead,
    goals: { statisticsOverheadAtMost: overheadGoal, met: overhead <= overheadGoal },
    peakRssAddedByGenerateBytes: memory,
  });
  console.log(`\nwrote ${out}`);
}

if (args.help) {
  console.log('usage: npm run bench:runner -- [--quick] [--device auto|cpu|cuda] [--out <file.json>]');
} else if (args['memory-child']) {
  await memoryChild(args['memory-child']);
} else {
  await main();
}
