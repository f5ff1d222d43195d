/**
 * The trainer's one typed config object: the model, the algorithm and its loss, DyCo, sampling,
 * the schedule (warm start, RL steps, evaluation, checkpoints). `resolveTrainerConfig` fills the
 * defaults (method §6 per algorithm) and checks every field, naming it in errors.
 * @packageDocumentation
 */
import type { PolicyLossConfig } from '../policy-loss.js';
import type { TinyVLConfig } from '../policy.js';
import { VisualTask, type VisualTaskOptions } from '../task/visual-task.js';

/**
 * How the built-in task is drawn when a run builds it from its config (the CLI, `eval`, `--resume`):
 * question families and grid. Its seed is the run's `seed`. A task you pass to `train()` yourself
 * is used as it is; this field is then only recorded.
 */
export type BuiltInTaskOptions = Omit<VisualTaskOptions, 'seed'>;

/** The RL objectives the trainer runs (method §6). */
export type TrainerAlgorithm = 'grpo' | 'bnpo' | 'dr_grpo' | 'dapo' | 'gspo' | 'sapo';

/**
 * DyCo's advantage reweighting (method §4): `'off'`; `'sequence'` (the reference behaviour: one
 * weight per completion from its coordination score); `'token'` (ours, see {@link tokenLevelAdvantages}).
 */
export type DycoMode = 'off' | 'sequence' | 'token';

export interface DycoOptions {
  /** Weight slope α. Default 0.2. */
  alpha?: number;
  /** Weight clamp [min, max]. Default [0.8, 1.2]. */
  min?: number;
  max?: number;
  /** Role thresholds. Defaults 0 and 0.05. */
  tauVis?: number;
  tauTxt?: number;
  /** Completions shorter than this get ĉ = −1 (reference length guard). Default 0 (off). */
  minLength?: number;
  /** Normalise coordination scores over the whole step (`'batch'`, reference) or per group. Default 'batch'. */
  scope?: 'batch' | 'group';
}

export interface TrainerConfig {
  /** Model sizes (defaults: {@link Policy}'s; the task sets vocabulary and image shape). */
  model?: TinyVLConfig;
  device?: 'auto' | 'cpu' | 'cuda';
  /** Seeds the policy (weights, sampler) and the task's example order. Default 0. */
  seed?: number;
  algorithm?: TrainerAlgorithm;
  /** Overrides of the algorithm's loss defaults (clip range, β, δ, ...). */
  loss?: Omit<PolicyLossConfig, 'algorithm'>;
  dyco?: DycoMode;
  dycoOptions?: DycoOptions;
  /** Prompts per RL step. Default 16. */
  promptsPerStep?: number;
  /** Completions per prompt (G). Default 8. */
  groupSize?: number;
  /** Completion length limit. Default 16. */
  maxNewTokens?: number;
  temperature?: number;
  topP?: number;
  /** Inner optimisation steps per rollout (μ); each reuses the rollout's log-probs as ℓ_old. Default 1. */
  innerSteps?: number;
  /** RL steps. Default 200. */
  steps?: number;
  /** RL learning rate. Default 2e-4. */
  learningRate?: number;
  /** Group advantages' scale (method §5). Default 'group'. */
  advantageScale?: 'group' | 'batch' | 'none';
  /** DAPO: refill groups whose rewards have no variance, with up to this many extra generate calls per step. Default 4 for dapo, 0 otherwise. */
  dynamicSamplingRounds?: number;
  /** Mask completions that hit the length limit without EOS (DAPO's overlong filtering). Default true for dapo. */
  maskTruncated?: boolean;
  /** Supervised warm-start steps before RL. Default 60. */
  sftSteps?: number;
  /** Examples per warm-start step. Default 32. */
  sftBatch?: number;
  sftLearningRate?: number;
  /** Evaluate on the held-out split every this many RL steps (and before and after RL). Default 25. */
  evalEvery?: number;
  /** Held-out examples. Default 200. */
  evalSize?: number;
  /** Write a checkpoint every this many RL steps. Default 50. */
  checkpointEvery?: number;
  /** Weight of each reward function in the total reward, by name. Default 1 each. */
  rewardWeights?: Record<string, number>;
  /** The built-in task's families and grid (see {@link BuiltInTaskOptions}). Default: all families, 4 × 4. */
  builtInTask?: BuiltInTaskOptions;
}

/** A config with every default filled in. */
export type ResolvedTrainerConfig = Required<Omit<TrainerConfig, 'model' | 'loss' | 'dycoOptions' | 'rewardWeights' | 'builtInTask'>> & {
  model: TinyVLConfig;
  builtInTask: BuiltInTaskOptions;
  loss: PolicyLossConfig;
  dycoOptions: Required<DycoOptions>;
  rewardWeights: Record<string, number>;
};

const algorithms: readonly TrainerAlgorithm[] = ['grpo', 'bnpo', 'dr_grpo', 'dapo', 'gspo', 'sapo'];

function integer(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number') throw new TypeError(`config.${name} must be a number (got ${typeof value})`);
  if (!Number.isInteger(value) || value < min) throw new RangeError(`config.${name} must be an integer ≥ ${min} (got ${value})`);
  return value;
}

function number(name: string, value: unknown, check: (v: number) => boolean, expected: string): number {
  if (typeof value !== 'number') throw new TypeError(`config.${name} must be a number (got ${typeof value})`);
  if (!Number.isFinite(value) || !check(value)) throw new RangeError(`config.${name} must be ${expected} (got ${value})`);
  return value;
}

function boolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`config.${name} must be a boolean (got ${typeof value})`);
  return value;
}

function choice<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value))
    throw new RangeError(`config.${name} must be one of ${choices.map((c) => `'${c}'`).join(', ')} (got ${JSON.stringify(value)})`);
  return value as T;
}

/** Fills defaults and validates; throws TypeError/RangeError naming `config.<field>`. */
export function resolveTrainerConfig(config: TrainerConfig): ResolvedTrainerConfig {
  if (config === null || typeof config !== 'object') throw new TypeError('config must be an object');
  const known = new Set([
    'model', 'device', 'seed', 'algorithm', 'loss', 'dyco', 'dycoOptions', 'promptsPerStep', 'groupSize', 'maxNewTokens',
    'temperature', 'topP', 'innerSteps', 'steps', 'learningRate', 'advantageScale', 'dynamicSamplingRounds', 'maskTruncated',
    'sftSteps', 'sftBatch', 'sftLearningRate', 'evalEvery', 'evalSize', 'checkpointEvery', 'rewardWeights', 'builtInTask',
  ]);
  for (const key of Object.keys(config)) if (!known.has(key)) throw new RangeError(`config.${key} is not a trainer setting`);
  const algorithm = choice('algorithm', config.algorithm ?? 'grpo', algorithms);
  const dapo = algorithm === 'dapo';
  const dyco = choice('dyco', config.dyco ?? 'sequence', ['off', 'sequence', 'token'] as const);
  if (dyco === 'token' && algorithm === 'gspo')
    throw new RangeError("config.dyco 'token' needs per-token advantages, but gspo weighs whole sequences: use 'sequence'");
  const d = config.dycoOptions ?? {};
  const dycoOptions: Required<DycoOptions> = {
    alpha: number('dycoOptions.alpha', d.alpha ?? 0.2, (v) => v >= 0, '≥ 0'),
    min: number('dycoOptions.min', d.min ?? 0.8, (v) => v >= 0, '≥ 0'),
    max: number('dycoOptions.max', d.max ?? 1.2, (v) => v >= (d.min ?? 0.8), '≥ dycoOptions.min'),
    tauVis: number('dycoOptions.tauVis', d.tauVis ?? 0, () => true, 'finite'),
    tauTxt: number('dycoOptions.tauTxt', d.tauTxt ?? 0.05, () => true, 'finite'),
    minLength: integer('dycoOptions.minLength', d.minLength ?? 0, 0),
    scope: choice('dycoOptions.scope', d.scope ?? 'batch', ['batch', 'group'] as const),
  };
  const rewardWeights = config.rewardWeights ?? {};
  for (const [name, w] of Object.entries(rewardWeights)) number(`rewardWeights.${name}`, w, () => true, 'finite');
  const builtInTask = config.builtInTask ?? {};
  if (builtInTask === null || typeof builtInTask !== 'object') throw new TypeError('config.builtInTask must be an object');
  if ('seed' in builtInTask) throw new RangeError("config.builtInTask.seed is not a setting: the task's seed is config.seed");
  try {
    new VisualTask(builtInTask); // validates families and grid, naming the field
  } catch (error) {
    const e = error as Error;
    throw new (e.constructor as ErrorConstructor)(`config.builtInTask: ${e.message}`);
  }
  return {
    model: config.model ?? {},
    device: choice('device', config.device ?? 'auto', ['auto', 'cpu', 'cuda'] as const),
    seed: integer('seed', config.seed ?? 0, 0),
    algorithm,
    loss: { ...(config.loss ?? {}), algorithm },
    dyco,
    dycoOptions,
    promptsPerStep: integer('promptsPerStep', config.promptsPerStep ?? 16, 1),
    groupSize: integer('groupSize', config.groupSize ?? 8, 2),
    maxNewTokens: integer('maxNewTokens', config.maxNewTokens ?? 16, 1),
    temperature: number('temperature', config.temperature ?? 1, (v) => v > 0, '> 0'),
    topP: number('topP', config.topP ?? 1, (v) => v > 0 && v <= 1, 'in (0, 1]'),
    innerSteps: integer('innerSteps', config.innerSteps ?? 1, 1),
    steps: integer('steps', config.steps ?? 200, 0),
    learningRate: number('learningRate', config.learningRate ?? 2e-4, (v) => v >= 0, '≥ 0'),
    advantageScale: choice('advantageScale', config.advantageScale ?? 'group', ['group', 'batch', 'none'] as const),
    dynamicSamplingRounds: integer('dynamicSamplingRounds', config.dynamicSamplingRounds ?? (dapo ? 4 : 0), 0),
    maskTruncated: boolean('maskTruncated', config.maskTruncated ?? dapo),
    sftSteps: integer('sftSteps', config.sftSteps ?? 60, 0),
    sftBatch: integer('sftBatch', config.sftBatch ?? 32, 1),
    sftLearningRate: number('sftLearningRate', config.sftLearningRate ?? 3e-3, (v) => v >= 0, '≥ 0'),
    evalEvery: integer('evalEvery', config.evalEvery ?? 25, 1),
    evalSize: integer('evalSize', config.evalSize ?? 200, 1),
    checkpointEvery: integer('checkpointEvery', config.checkpointEvery ?? 50, 1),
    rewardWeights,
    builtInTask,
  };
}
