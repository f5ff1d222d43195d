/**
 * The RLVR loop of method §7 over the LibTorch policy: a supervised warm start, then per RL step:
 * sample prompts → `Policy.generate` (G completions each, DyCo statistics streamed) → rewards →
 * (DAPO: refill groups without reward variance) → group advantages → DyCo reweighting → μ inner
 * `trainStep`s against the rollout's log-probs → metrics; held-out evaluation every `evalEvery`
 * steps; checkpoints every `checkpointEvery` steps, at the end, and when stopped (AbortSignal, e.g.
 * Ctrl-C). A run resumed from its checkpoint continues exactly as the uninterrupted run on the CPU.
 * @packageDocumentation
 */
import { appendFile, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Policy, type CompletionBatch, type TinyVLConfig } from '../policy.js';
import type { Example } from '../task/types.js';
import { resolveTrainerConfig, type ResolvedTrainerConfig, type TrainerConfig } from './config.js';
import { stepAdvantages } from './dyco-advantages.js';
import { decodeRow, evaluate } from './evaluate.js';
import { assembleGroups, hasRewardVariance, splitRollout, type CompletionGroup } from './rollout-groups.js';
import { checkpointDir, readRunState, truncateMetrics, writeRunState, type RunState } from './run-state.js';
import type { TrainingTask } from './training-task.js';

/** Example indices: the warm start reads from 0, RL prompts and refills from separate ranges. */
const RL_BASE = 1_000_000_000;
const REFILL_BASE = 1_500_000_000;
/** With β = 0, the KL to the reference is measured (for the metrics) on every this many RL steps. */
const KL_MONITOR_EVERY = 10;

/** One line of `metrics.jsonl`. */
export interface StepMetrics {
  phase: 'sft' | 'rl' | 'eval';
  /** On evaluation lines: before the warm start, after it (before RL), during RL, or at the end. */
  evaluation?: 'initial' | 'beforeRl' | 'during' | 'final';
  step: number;
  seconds: number;
  loss?: number;
  reward?: number;
  accuracy?: number;
  heldOutAccuracy?: number;
  rewards?: Record<string, number>;
  kl?: number;
  clipFraction?: number;
  ratioMean?: number;
  gradNorm?: number;
  visionShare?: number;
  textShare?: number;
  neutralShare?: number;
  dycoWeight?: number;
  completionLength?: number;
  groups?: number;
  generateCalls?: number;
}

export type TrainerEvent =
  | { type: 'start'; resumed: boolean; config: ResolvedTrainerConfig; parameters: number; device: string; totalSteps: number; doneSteps: number }
  | { type: 'sft'; metrics: StepMetrics }
  | { type: 'rl'; metrics: StepMetrics }
  | { type: 'eval'; label: 'initial' | 'beforeRl' | 'during' | 'final'; metrics: StepMetrics }
  | { type: 'checkpoint'; path: string }
  | { type: 'stopped'; interrupted: boolean };

export interface TrainerOptions {
  /** Run directory: `metrics.jsonl`, `checkpoint/`, `chart.svg`. */
  outDir: string;
  /** Continue the run in `outDir` from its checkpoint (its saved config wins). */
  resume?: boolean;
  onEvent?: (event: TrainerEvent) => void;
  /** Aborting stops after the current step with a checkpoint. */
  signal?: AbortSignal;
  /**
   * Start RL from the end of another run's warm start instead of doing it again: a run directory
   * whose checkpoint has finished the same warm start (same model, seed, task and warm-start
   * settings) and no RL steps, e.g. one trained with `steps: 0`. Its policy, metrics and
   * accuracies are taken over, so the new run is the one an uninterrupted run would have been;
   * the experiments use it to share one warm start among algorithms.
   */
  warmStart?: string;
}

/** The settings the warm start depends on: a shared warm start must agree on all of them. */
const WARM_START_FIELDS = ['model', 'seed', 'builtInTask', 'sftSteps', 'sftBatch', 'sftLearningRate', 'maxNewTokens', 'evalSize', 'device'] as const;

/** The run state and policy to continue from `dir`'s finished warm start (see {@link TrainerOptions.warmStart}). */
async function takeOverWarmStart(dir: string, config: ResolvedTrainerConfig, taskName: string, metricsPath: string) {
  const warm = await readRunState(dir);
  if (!warm) throw new Error(`warmStart: ${checkpointDir(dir)} holds no checkpoint`);
  if (warm.task !== taskName) throw new Error(`warmStart: ${dir} trained task '${warm.task}', not '${taskName}'`);
  for (const field of WARM_START_FIELDS) {
    if (JSON.stringify(warm.config[field]) !== JSON.stringify(config[field]))
      throw new Error(`warmStart: ${dir} has config.${field} = ${JSON.stringify(warm.config[field])}, this run ${JSON.stringify(config[field])}; a shared warm start needs the same`);
  }
  if (warm.sftStep !== config.sftSteps || warm.rlStep !== 0 || warm.accuracy.beforeRl === undefined)
    throw new Error(`warmStart: ${dir} is not at the end of its warm start (warm-start step ${warm.sftStep}/${config.sftSteps}, RL step ${warm.rlStep})`);
  const policy = await Policy.load(join(checkpointDir(dir), warm.policyFile), { device: config.device });
  // Its metrics up to that checkpoint: the warm start and the evaluations before RL.
  await copyFile(join(dir, 'metrics.jsonl'), metricsPath);
  await truncateMetrics(metricsPath, warm.metricsBytes);
  const state: RunState = { ...warm, config, refillCursor: 0, policyFile: '' };
  return { policy, state };
}

export interface TrainingSummary {
  /** Held-out accuracy of the freshly initialised policy, after the warm start (before RL), and after RL. */
  accuracyInitial: number;
  accuracyBeforeRl: number;
  accuracyAfterRl: number;
  sftSteps: number;
  rlSteps: number;
  interrupted: boolean;
  outDir: string;
  metricsPath: string;
  seconds: number;
}

function modelConfig(task: TrainingTask, config: ResolvedTrainerConfig): TinyVLConfig {
  return {
    vocabSize: task.tokenizer.vocabSize,
    imageHeight: task.imageShape.height,
    imageWidth: task.imageShape.width,
    imageChannels: task.imageShape.channels,
    imageTokenId: task.tokenizer.imageId,
    ...config.model,
  };
}

/** The warm-start batch: each example's target + EOS, cut to `steps` tokens. */
function supervisedBatch(task: TrainingTask, examples: Example[], steps: number): CompletionBatch {
  const tokens = new Int32Array(examples.length * steps).fill(task.tokenizer.padId);
  const mask = new Uint8Array(examples.length * steps);
  examples.forEach((example, b) => {
    const ids = [...task.tokenizer.encode(example.target), task.tokenizer.eosId].slice(0, steps);
    tokens.set(ids, b * steps);
    mask.fill(1, b * steps, b * steps + ids.length);
  });
  return { images: examples.map((e) => e.image), prompts: examples.map((e) => e.prompt), groupSize: 1, tokens, mask, steps };
}

/**
 * Trains `task` with `config`, writing into `options.outDir`. Resolves with the accuracies before
 * and after RL (also when stopped early: then "after" is the accuracy at the stop).
 */
export async function train(task: TrainingTask, config: TrainerConfig, options: TrainerOptions): Promise<TrainingSummary> {
  const outDir = options.outDir;
  await mkdir(outDir, { recursive: true });
  const metricsPath = join(outDir, 'metrics.jsonl');
  const emit = (event: TrainerEvent) => options.onEvent?.(event);

  let state: RunState;
  let policy: Policy;
  const existing = await readRunState(outDir);
  if (options.resume) {
    if (!existing) throw new Error(`nothing to resume: ${checkpointDir(outDir)} holds no checkpoint (start without --resume)`);
    if (existing.task !== task.name) throw new Error(`the run in ${outDir} trained task '${existing.task}', not '${task.name}'`);
    state = existing;
    policy = await Policy.load(join(checkpointDir(outDir), state.policyFile), { device: state.config.device });
    await truncateMetrics(metricsPath, state.metricsBytes);
  } else {
    if (existing) throw new Error(`${outDir} already holds a run (${checkpointDir(outDir)}); resume it with --resume or choose another output directory`);
    const resolved = resolveTrainerConfig(config);
    if (options.warmStart) {
      ({ policy, state } = await takeOverWarmStart(options.warmStart, resolved, task.name, metricsPath));
    } else {
      policy = await Policy.create(modelConfig(task, resolved), { device: resolved.device, seed: resolved.seed, learningRate: resolved.learningRate });
      await writeFile(metricsPath, '');
      state = { formatVersion: 1, config: resolved, task: task.name, sftStep: 0, rlStep: 0, refillCursor: 0, metricsBytes: 0, accuracy: {}, policyFile: '', elapsedSeconds: 0 };
    }
  }
  const c = state.config;
  const started = performance.now();
  const previousSeconds = state.elapsedSeconds; // training time before this process (resumed runs)
  const seconds = () => previousSeconds + (performance.now() - started) / 1000;
  let metricsBytes = state.metricsBytes;
  const log = async (metrics: StepMetrics) => {
    const line = JSON.stringify(metrics) + '\n';
    await appendFile(metricsPath, line);
    metricsBytes += Buffer.byteLength(line);
  };
  const heldOut = task.heldOut(c.evalSize);
  const info = policy.info();
  emit({ type: 'start', resumed: !!options.resume, config: c, parameters: info.parameters, device: info.device, totalSteps: c.sftSteps + c.steps, doneSteps: state.sftStep + state.rlStep });

  const checkpoint = async () => {
    const previous = state.policyFile ? { ...state } : undefined;
    state = { ...state, metricsBytes, elapsedSeconds: seconds(), policyFile: `policy-${state.sftStep}-${state.rlStep}.safetensors` };
    await writeRunState(outDir, state, (path) => policy.save(path), previous);
    emit({ type: 'checkpoint', path: join(checkpointDir(outDir), state.policyFile) });
  };
  const runEval = async (label: 'initial' | 'beforeRl' | 'during' | 'final') => {
    const result = await evaluate(policy, task, heldOut, c.maxNewTokens);
    const metrics: StepMetrics = { phase: 'eval', evaluation: label, step: state.rlStep, seconds: seconds(), heldOutAccuracy: result.accuracy, rewards: result.rewards };
    await log(metrics);
    emit({ type: 'eval', label, metrics });
    state.accuracy.latest = result.accuracy;
    return result.accuracy;
  };
  const stop = async (interrupted: boolean): Promise<TrainingSummary> => {
    await checkpoint();
    emit({ type: 'stopped', interrupted });
    const summary: TrainingSummary = {
      accuracyInitial: state.accuracy.initial ?? Number.NaN,
      accuracyBeforeRl: state.accuracy.beforeRl ?? Number.NaN,
      accuracyAfterRl: state.accuracy.latest ?? Number.NaN,
      sftSteps: state.sftStep,
      rlSteps: state.rlStep,
      interrupted,
      outDir,
      metricsPath,
      seconds: seconds(),
    };
    await policy.dispose();
    return summary;
  };

  try {
    // ---- supervised warm start ----
    if (state.sftStep === 0 && state.rlStep === 0 && state.accuracy.initial === undefined) state.accuracy.initial = await runEval('initial');
    while (state.sftStep < c.sftSteps) {
      if (options.signal?.aborted) return await stop(true);
      const examples = Array.from({ length: c.sftBatch }, (_, j) => task.trainExample(state.sftStep * c.sftBatch + j));
      const result = await policy.sftStep(supervisedBatch(task, examples, c.maxNewTokens), { learningRate: c.sftLearningRate });
      state.sftStep++;
      const metrics: StepMetrics = { phase: 'sft', step: state.sftStep, seconds: seconds(), loss: result.loss, gradNorm: result.gradNorm };
      await log(metrics);
      emit({ type: 'sft', metrics });
      if (state.sftStep === c.sftSteps) {
        // The KL term anchors RL to the warm-started policy, not to the random initialisation.
        await policy.syncReference();
      }
    }
    if (state.rlStep === 0 && state.accuracy.beforeRl === undefined) {
      state.accuracy.beforeRl = await runEval('beforeRl');
      await checkpoint();
    }

    // ---- RL ----
    const G = c.groupSize;
    const T = c.maxNewTokens;
    const klInLoss = (c.loss.beta ?? (c.algorithm === 'dapo' ? 0 : 1)) > 0;
    // Without a KL term the reference pass only feeds the KL metric: measure it every
    // KL_MONITOR_EVERY steps instead of paying for it on every step.
    const measureKl = (step: number) => klInLoss || step % KL_MONITOR_EVERY === 0;
    const weights = (name: string) => c.rewardWeights[name] ?? 1;
    let generateCalls = 0;
    const sampleGroups = async (examples: Example[]): Promise<CompletionGroup[]> => {
      generateCalls++;
      const rollout = await policy.generate({
        images: examples.map((e) => e.image),
        prompts: examples.map((e) => e.prompt),
        groupSize: G,
        maxNewTokens: T,
        temperature: c.temperature,
        topP: c.topP,
        eosId: task.tokenizer.eosId,
        padId: task.tokenizer.padId,
      });
      const groups = splitRollout(rollout, examples);
      for (const group of groups) {
        for (const name of Object.keys(task.rewards)) group.rewardParts[name] = new Float32Array(G);
        for (let g = 0; g < G; g++) {
          const completion = decodeRow(task, group.tokens, T, g, group.lengths[g]!);
          group.texts.push(completion);
          let total = 0;
          for (const [name, reward] of Object.entries(task.rewards)) {
            const value = await reward({ completion, finished: group.truncated[g] === 0, example: group.example });
            group.rewardParts[name]![g] = value;
            total += weights(name) * value;
          }
          group.rewards[g] = total;
        }
      }
      return groups;
    };

    while (state.rlStep < c.steps) {
      if (options.signal?.aborted) return await stop(true);
      generateCalls = 0;
      const step = state.rlStep;
      const examples = Array.from({ length: c.promptsPerStep }, (_, j) => task.trainExample(RL_BASE + step * c.promptsPerStep + j));
      let groups = await sampleGroups(examples);
      const sampled = [...groups];
      if (c.dynamicSamplingRounds > 0) {
        groups = groups.filter(hasRewardVariance);
        for (let round = 0; round < c.dynamicSamplingRounds && groups.length < c.promptsPerStep; round++) {
          const missing = c.promptsPerStep - groups.length;
          const refill = Array.from({ length: missing }, (_, j) => task.trainExample(REFILL_BASE + state.refillCursor + j));
          state.refillCursor += missing;
          const more = await sampleGroups(refill);
          sampled.push(...more);
          groups.push(...more.filter(hasRewardVariance));
        }
        groups = groups.slice(0, c.promptsPerStep);
      }
      const metrics: StepMetrics = { phase: 'rl', step: step + 1, seconds: 0, groups: groups.length, generateCalls };
      // Rewards and accuracy are of everything sampled, so filtering cannot flatter them.
      const allRewards = sampled.flatMap((g) => Array.from(g.rewards));
      metrics.reward = allRewards.reduce((s, r) => s + r, 0) / allRewards.length;
      metrics.rewards = Object.fromEntries(
        Object.keys(task.rewards).map((name) => {
          const values = sampled.flatMap((g) => Array.from(g.rewardParts[name]!));
          return [name, values.reduce((s, r) => s + r, 0) / values.length];
        }),
      );
      metrics.accuracy = metrics.rewards.accuracy ?? metrics.reward;
      if (groups.length > 0) {
        const batch = assembleGroups(groups, G, T, c.temperature);
        if (c.maskTruncated) {
          for (let b = 0; b < batch.batch; b++) if (batch.truncated[b]) batch.mask.fill(0, b * T, (b + 1) * T);
        }
        const advantage = stepAdvantages(batch, c);
        const refLogp = measureKl(step) ? await policy.logprobs(batch, { model: 'reference' }) : undefined;
        let last;
        for (let k = 0; k < c.innerSteps; k++) {
          last = await policy.trainStep(batch, { advantages: advantage.advantages, oldLogp: batch.logprobs, refLogp, loss: c.loss, learningRate: c.learningRate });
        }
        Object.assign(metrics, {
          loss: last!.loss,
          kl: refLogp ? last!.kl : undefined,
          clipFraction: last!.clipFractionLow + last!.clipFractionHigh,
          ratioMean: last!.ratioMean,
          gradNorm: last!.gradNorm,
          visionShare: advantage.roleShares.vision,
          textShare: advantage.roleShares.text,
          neutralShare: advantage.roleShares.neutral,
          dycoWeight: advantage.meanWeight,
          completionLength: Array.from(batch.lengths).reduce((s, l) => s + l, 0) / batch.batch,
        });
      }
      metrics.generateCalls = generateCalls;
      state.rlStep++;
      metrics.seconds = seconds();
      await log(metrics);
      emit({ type: 'rl', metrics });
      if (state.rlStep % c.evalEvery === 0 && state.rlStep < c.steps) await runEval('during');
      if (state.rlStep % c.checkpointEvery === 0 && state.rlStep < c.steps) await checkpoint();
    }
    // Without RL steps the policy is the one just evaluated before RL (a warm-start-only run).
    if (c.steps === 0) state.accuracy.latest = state.accuracy.beforeRl;
    else await runEval('final');
    return await stop(false);
  } catch (error) {
    await policy.dispose().catch(() => undefined);
    throw error;
  }
}
