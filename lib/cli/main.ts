#!/usr/bin/env node
/**
 * The `dyco-rl` command: `train` (presets, a config file and flags; progress, metrics, chart,
 * Ctrl-C checkpoint, `--resume`), `eval` (held-out accuracy of a run's checkpoint), `chart`
 * (redraw a run's chart), `info` (build and devices) and `bench` (the kernel benchmark).
 * @packageDocumentation
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { capabilities } from '../capabilities.js';
import { Policy } from '../policy.js';
import { loadJsonlDataset, ByteTokenizer } from '../data/index.js';
import { writeMetricsChart } from '../chart.js';
import type { TrainerConfig } from '../trainer/config.js';
import { evaluate } from '../trainer/evaluate.js';
import { presets, presetNames, type PresetName } from '../trainer/presets.js';
import { readRunState, checkpointDir } from '../trainer/run-state.js';
import { builtInTask, exampleTask } from '../trainer/tasks.js';
import { train } from '../trainer/trainer.js';
import type { TrainingTask } from '../trainer/training-task.js';
import { QUESTION_FAMILIES, checkFamily, type QuestionFamily } from '../task/questions.js';
import { createReporter } from './progress.js';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const integer = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
};
const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
};

const families = (value: string): QuestionFamily[] => {
  try {
    return value.split(',').map((f) => checkFamily(f.trim(), `'${f.trim()}'`));
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
};

interface TrainFlags {
  preset: PresetName;
  config?: string;
  out?: string;
  resume?: string | boolean;
  algorithm?: TrainerConfig['algorithm'];
  dyco?: TrainerConfig['dyco'];
  steps?: number;
  sftSteps?: number;
  seed?: number;
  device?: TrainerConfig['device'];
  learningRate?: number;
  data?: string;
  families?: QuestionFamily[];
  progress: boolean;
  chart: boolean;
}

/** The most recently modified run directory under `runs/` that holds a checkpoint. */
function latestRun(root: string): string | undefined {
  if (!existsSync(root)) return undefined;
  const runs = readdirSync(root)
    .map((name) => join(root, name))
    .filter((dir) => existsSync(join(checkpointDir(dir), 'state.json')))
    .sort((a, b) => statSync(join(checkpointDir(b), 'state.json')).mtimeMs - statSync(join(checkpointDir(a), 'state.json')).mtimeMs);
  return runs[0];
}

async function loadTask(flags: { data?: string; seed?: number }, config: TrainerConfig): Promise<TrainingTask> {
  if (!flags.data) return builtInTask({ ...config.builtInTask, seed: config.seed ?? 0 });
  const tokenizer = new ByteTokenizer();
  const imageShape = {
    height: config.model?.imageHeight ?? 16,
    width: config.model?.imageWidth ?? 16,
    channels: config.model?.imageChannels ?? 3,
  };
  const examples = await loadJsonlDataset(resolve(flags.data), { tokenizer, imageShape });
  return exampleTask(examples, { name: `jsonl:${resolve(flags.data)}`, tokenizer, imageShape, seed: config.seed ?? 0 });
}

async function trainCommand(flags: TrainFlags): Promise<void> {
  const runsRoot = resolve('runs');
  let outDir: string;
  let resume = false;
  let config: TrainerConfig = { ...presets[flags.preset] };
  if (flags.resume) {
    const dir = typeof flags.resume === 'string' ? resolve(flags.resume) : flags.out ? resolve(flags.out) : latestRun(runsRoot);
    if (!dir) throw new Error(`--resume: no run with a checkpoint under ${runsRoot}; name the run directory`);
    const state = await readRunState(dir);
    if (!state) throw new Error(`--resume: ${dir} holds no checkpoint`);
    outDir = dir;
    resume = true;
    config = state.config;
  } else {
    if (flags.config) {
      const text = await readFile(resolve(flags.config), 'utf8');
      let fromFile: TrainerConfig;
      try {
        fromFile = JSON.parse(text) as TrainerConfig;
      } catch (error) {
        throw new Error(`--config ${flags.config}: not valid JSON (${(error as Error).message})`);
      }
      config = { ...config, ...fromFile, model: { ...config.model, ...fromFile.model }, builtInTask: { ...config.builtInTask, ...fromFile.builtInTask } };
    }
    const overrides: TrainerConfig = {};
    if (flags.algorithm) overrides.algorithm = flags.algorithm;
    if (flags.dyco) overrides.dyco = flags.dyco;
    if (flags.steps !== undefined) overrides.steps = flags.steps;
    if (flags.sftSteps !== undefined) overrides.sftSteps = flags.sftSteps;
    if (flags.seed !== undefined) overrides.seed = flags.seed;
    if (flags.device) overrides.device = flags.device;
    if (flags.learningRate !== undefined) overrides.learningRate = flags.learningRate;
    if (flags.families) overrides.builtInTask = { ...config.builtInTask, families: flags.families };
    config = { ...config, ...overrides };
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
    outDir = resolve(flags.out ?? join(runsRoot, `${flags.preset}-${config.algorithm ?? 'grpo'}-${config.dyco ?? 'sequence'}-${stamp}`));
  }
  const task = await loadTask(flags, config);
  const reporter = createReporter(flags.progress && !!process.stdout.isTTY);
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    reporter.stop();
    console.log('\ninterrupted: finishing the current step and writing a checkpoint (Ctrl-C again to quit at once)');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  console.log(`run directory: ${outDir}`);
  try {
    const summary = await train(task, config, { outDir, resume, signal: controller.signal, onEvent: (e) => reporter.onEvent(e) });
    reporter.stop();
    const pct = (v: number) => (Number.isNaN(v) ? 'n/a' : `${(v * 100).toFixed(1)}%`);
    console.log(`\nheld-out accuracy: initial ${pct(summary.accuracyInitial)}, after warm start (before RL) ${pct(summary.accuracyBeforeRl)}, ` +
      `${summary.interrupted ? `at the stop (RL step ${summary.rlSteps})` : 'after RL'} ${pct(summary.accuracyAfterRl)} ` +
      `(${summary.accuracyAfterRl >= summary.accuracyBeforeRl ? '+' : ''}${((summary.accuracyAfterRl - summary.accuracyBeforeRl) * 100).toFixed(1)} points)`);
    console.log(`metrics: ${summary.metricsPath}`);
    if (flags.chart) console.log(`chart: ${await writeMetricsChart(summary.metricsPath, join(outDir, 'chart.svg'), { title: `dyco-rl: ${config.algorithm ?? 'grpo'}, DyCo ${config.dyco ?? 'sequence'}` })}`);
    console.log(`time: ${(summary.seconds / 60).toFixed(1)} min`);
    if (summary.interrupted) process.exitCode = 130;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function evalCommand(runDir: string, flags: { size?: number; device?: TrainerConfig['device'] }): Promise<void> {
  const dir = resolve(runDir);
  const state = await readRunState(dir);
  if (!state) throw new Error(`${dir} holds no checkpoint`);
  if (!state.task.startsWith('visual-reasoning')) throw new Error(`eval supports the built-in task; ${dir} trained '${state.task}'`);
  const task = builtInTask({ ...state.config.builtInTask, seed: state.config.seed });
  const policy = await Policy.load(join(checkpointDir(dir), state.policyFile), { device: flags.device ?? state.config.device });
  const result = await evaluate(policy, task, task.heldOut(flags.size ?? state.config.evalSize), state.config.maxNewTokens);
  await policy.dispose();
  console.log(JSON.stringify({ run: dir, sftSteps: state.sftStep, rlSteps: state.rlStep, examples: result.examples, accuracy: result.accuracy, rewards: result.rewards }, null, 2));
}

export function program(): Command {
  const cli = new Command('dyco-rl').description('DyCo-RL: RL with verifiable rewards for a vision-language policy, with dynamic cross-modal coordination');
  cli
    .command('train', { isDefault: false })
    .description('warm-start then RL-train a policy (default: the built-in visual-reasoning task, preset "default")')
    .addOption(new Option('--preset <name>', 'starting configuration').choices(presetNames).default('default'))
    .option('--config <file>', 'JSON TrainerConfig merged over the preset')
    .option('--out <dir>', 'run directory (default: runs/<preset>-<algorithm>-<dyco>-<time>)')
    .option('--resume [dir]', 'continue a stopped run (default: the latest under runs/)')
    .addOption(new Option('--algorithm <name>', 'RL objective').choices(['grpo', 'bnpo', 'dr_grpo', 'dapo', 'gspo', 'sapo']))
    .addOption(new Option('--dyco <mode>', 'DyCo advantage reweighting').choices(['off', 'sequence', 'token']))
    .option('--steps <n>', 'RL steps', integer)
    .option('--sft-steps <n>', 'warm-start steps', integer)
    .option('--seed <n>', 'seed of the policy and the task', integer)
    .addOption(new Option('--device <device>', 'where the policy runs').choices(['auto', 'cpu', 'cuda']))
    .option('--learning-rate <lr>', 'RL learning rate', positive)
    .option('--families <list>', `built-in task: comma-separated question families (${QUESTION_FAMILIES.join(', ')})`, families)
    .option('--data <file.jsonl>', 'train on JSONL data (reference format) instead of the built-in task')
    .option('--no-progress', 'plain log lines instead of a progress bar')
    .option('--no-chart', 'do not write chart.svg at the end')
    .action((flags: TrainFlags) => trainCommand(flags));
  cli
    .command('eval <run>')
    .description("held-out accuracy of a run's checkpoint (built-in task)")
    .option('--size <n>', 'held-out examples', integer)
    .addOption(new Option('--device <device>').choices(['auto', 'cpu', 'cuda']))
    .action((run: string, flags: { size?: number; device?: TrainerConfig['device'] }) => evalCommand(run, flags));
  cli
    .command('chart <run>')
    .description("draw (or redraw) a run's chart.svg from its metrics.jsonl")
    .action(async (run: string) => console.log(await writeMetricsChart(join(resolve(run), 'metrics.jsonl'), join(resolve(run), 'chart.svg'))));
  cli
    .command('info')
    .description('version, CPU threads and SIMD level, CUDA, LibTorch runner')
    .action(() => console.log(JSON.stringify(capabilities(), null, 2)));
  cli
    .command('bench')
    .description('the kernel benchmark (npm run bench); arguments after -- are passed on')
    .allowUnknownOption()
    .argument('[args...]')
    .action((args: string[]) => {
      const script = join(packageRoot, 'bench', 'run.ts');
      if (!existsSync(script)) throw new Error(`the benchmark sources (bench/) are not part of this install; run it from a clone of dyco-rl`);
      const result = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { stdio: 'inherit', cwd: packageRoot });
      process.exitCode = result.status ?? 1;
    });
  return cli;
}

const invokedDirectly = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly || process.argv[1]?.endsWith('dyco-rl')) {
  program()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      console.error(`dyco-rl: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    });
}
