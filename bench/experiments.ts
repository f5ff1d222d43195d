/**
 * The experiment (this project's counterpart of the paper's main table): {GRPO, DAPO, GSPO, SAPO} ×
 * {without, with DyCo} × seeds on the built-in task, starting every run of a seed from one shared
 * warm start (the warm start does not depend on the RL objective, so sharing it changes no result
 * and saves a third of the time). Prints held-out accuracy after RL (mean ± std over seeds) and the
 * DyCo deltas (paired by seed), and writes the JSON with hardware, date and commit.
 *
 *   npm run experiments                      # the default preset's settings, 3 seeds
 *   npm run experiments -- --steps 400 --seeds 3 --parallel 2
 *   npm run experiments -- --quick           # a minute-long check of the script itself
 *
 * Runs execute `--parallel` at a time in this process: the policy's work runs on libuv worker
 * threads, so two runs use two cores.
 */
import { mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { builtInTask, presets, train, type DycoMode, type TrainerAlgorithm, type TrainerConfig } from '../lib/index.js';
import { cpuModel, gitCommit, machineSlug, repoRoot } from './machine.js';
import { defaultResultPath, writeResultFile } from './result-file.js';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    steps: { type: 'string' },
    parallel: { type: 'string', default: String(Math.max(1, cpus().length)) },
    algorithms: { type: 'string', default: 'grpo,dapo,gspo,sapo' },
    dyco: { type: 'string', default: 'sequence' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

function positiveInteger(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`--${name} must be a positive integer (got ${value})`);
  return n;
}

const seeds = positiveInteger('seeds', args.seeds!);
const parallel = positiveInteger('parallel', args.parallel!);
const algorithms = args.algorithms!.split(',') as TrainerAlgorithm[];
const dycoOn = args.dyco as DycoMode;
// --quick checks the script, not the method: the smoke preset's tiny model and schedule.
const base: TrainerConfig = args.quick ? { ...presets.smoke, evalSize: 64 } : { ...presets.default };
if (args.steps !== undefined) base.steps = positiveInteger('steps', args.steps);
base.device = 'cpu';
base.checkpointEvery = 1_000_000; // only the end-of-run checkpoint
base.evalEvery = 1_000_000; // before and after RL only: the table needs nothing in between

const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const runsRoot = join(repoRoot, 'runs', `experiments-${stamp}`);
mkdirSync(runsRoot, { recursive: true });

interface RunResult {
  seed: number;
  algorithm: TrainerAlgorithm;
  dyco: DycoMode;
  accuracyBeforeRl: number;
  accuracyAfterRl: number;
  rlSeconds: number;
}

/** Runs `jobs` with at most `limit` in flight, in order of start. */
async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

const started = performance.now();
const commit = gitCommit(); // at the start: the code that ran, whatever changes during the hour
const log = (line: string) => console.log(`[${((performance.now() - started) / 60000).toFixed(1)} min] ${line}`);
const taskFor = (config: TrainerConfig) => builtInTask({ ...config.builtInTask, seed: config.seed ?? 0 });

// 1. One warm start per seed (steps: 0 stops right after it).
const seedList = Array.from({ length: seeds }, (_, i) => i);
await pool(
  seedList.map((seed) => async () => {
    const config = { ...base, seed, steps: 0 };
    const summary = await train(taskFor(config), config, { outDir: join(runsRoot, `seed${seed}-warm-start`) });
    log(`seed ${seed}: warm start done, held-out accuracy ${(summary.accuracyBeforeRl * 100).toFixed(1)}%`);
  }),
  parallel,
);

// 2. Every algorithm × DyCo setting from its seed's warm start.
const jobs = seedList.flatMap((seed) =>
  algorithms.flatMap((algorithm) =>
    (['off', dycoOn] as DycoMode[]).map((dyco) => async (): Promise<RunResult> => {
      const config: TrainerConfig = { ...base, seed, algorithm, dyco };
      const t0 = performance.now();
      const summary = await train(taskFor(config), config, {
        outDir: join(runsRoot, `seed${seed}-${algorithm}-dyco-${dyco}`),
        warmStart: join(runsRoot, `seed${seed}-warm-start`),
      });
      const result = { seed, algorithm, dyco, accuracyBeforeRl: summary.accuracyBeforeRl, accuracyAfterRl: summary.accuracyAfterRl, rlSeconds: (performance.now() - t0) / 1000 };
      log(`seed ${seed} ${algorithm} DyCo ${dyco}: ${(result.accuracyBeforeRl * 100).toFixed(1)}% → ${(result.accuracyAfterRl * 100).toFixed(1)}%`);
      return result;
    }),
  ),
);
const results = await pool(jobs, parallel);

// 3. The table.
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const std = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
const pct = (xs: number[]) => `${(mean(xs) * 100).toFixed(1)} ± ${(std(xs) * 100).toFixed(1)}`;
const pick = (algorithm: string, dyco: string) =>
  seedList.map((seed) => results.find((r) => r.seed === seed && r.algorithm === algorithm && r.dyco === dyco)!);
const beforeRl = seedList.map((seed) => results.find((r) => r.seed === seed)!.accuracyBeforeRl);
const rows = algorithms.map((algorithm) => {
  const off = pick(algorithm, 'off').map((r) => r.accuracyAfterRl);
  const on = pick(algorithm, dycoOn).map((r) => r.accuracyAfterRl);
  const delta = on.map((v, i) => v - off[i]!);
  return { algorithm, off, on, delta };
});
const table = [
  `| algorithm | before RL | after RL, DyCo off | after RL, DyCo ${dycoOn} | DyCo Δ (paired) |`,
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.algorithm} | ${pct(beforeRl)} | ${pct(r.off)} | ${pct(r.on)} | ${mean(r.delta) >= 0 ? '+' : ''}${pct(r.delta)} |`),
].join('\n');

const record = {
  kind: 'dyco-rl experiments',
  date: new Date().toISOString(),
  commit,
  machine: { cpu: cpuModel, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  settings: { seeds, parallel, algorithms, dyco: dycoOn, quick: args.quick, config: base },
  heldOutAccuracyPercent: 'mean ± sample std over seeds; Δ is DyCo on − off, paired by seed',
  minutes: (performance.now() - started) / 60000,
  table,
  runs: results,
};
console.log(`\nheld-out accuracy (%), ${seeds} seeds, ${cpuModel} × ${cpus().length}, commit ${record.commit}\n\n${table}\n`);
const outPath = args.out ?? defaultResultPath(`experiments-${machineSlug}`, new Date(record.date), args.quick);
writeResultFile(outPath, record);
console.log(`written: ${outPath} (runs in ${runsRoot})`);
