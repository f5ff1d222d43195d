/**
 * `Policy`: the tiny-vl vision-language policy of the LibTorch runner. It samples groups of
 * completions with streamed DyCo attention statistics, scores completions (teacher-forced
 * log-probs, also from a frozen reference copy), and trains with the kernel core's fused policy
 * loss or with supervised cross-entropy. Every method runs off the JavaScript thread.
 * @packageDocumentation
 */
import { readSafetensorsFile, writeSafetensorsFile, type TensorRecord } from './safetensors.js';
import { runnerAddon, type NativePolicy } from './runner.js';
import type { PolicyLossConfig } from './policy-loss.js';

/**
 * Sizes of the tiny-vl model. Every field is optional; the defaults give a 124k-parameter model
 * that trains in seconds on a CPU.
 */
export interface TinyVLConfig {
  /** Vocabulary size (token ids are `0 … vocabSize−1`). Default 64. */
  vocabSize?: number;
  /** Model width. Default 64. */
  hidden?: number;
  /** Decoder layers. Default 2. */
  layers?: number;
  /** Attention heads; must divide `hidden`, with an even head width. Default 4. */
  heads?: number;
  /** Key/value heads (grouped-query attention); must divide `heads`. Default 2. */
  kvHeads?: number;
  /** SwiGLU MLP width. Default 128. */
  intermediate?: number;
  /** Longest sequence: prompt (with vision tokens) plus completion. Default 256. */
  maxContext?: number;
  /** Rotary base. Default 10000. */
  ropeTheta?: number;
  /** RMSNorm epsilon. Default 1e-6. */
  rmsEps?: number;
  /** Image height in pixels; a multiple of `patchSize`. Default 16. */
  imageHeight?: number;
  /** Image width in pixels; a multiple of `patchSize`. Default 16. */
  imageWidth?: number;
  /** Channels per pixel. Default 3. */
  imageChannels?: number;
  /** Side of the square patches; each patch becomes one vision token. Default 4 (16 tokens for 16×16). */
  patchSize?: number;
  /** Bidirectional transformer blocks of the vision encoder. Default 1. */
  visionLayers?: number;
  /** Prompt token that stands for the image (replaced by its vision tokens). Default 1. */
  imageTokenId?: number;
  /** Decoder layer whose head-averaged attention feeds the DyCo statistics; negative counts from the end. Default −1. */
  attentionLayer?: number;
}

/** Where a policy lives, how it is initialised, and its optimizer (AdamW). */
export interface PolicyOptions {
  /** `'auto'` (default): CUDA when LibTorch sees a GPU, else the CPU. `'cuda'` without a GPU is an error. */
  device?: 'auto' | 'cpu' | 'cuda';
  /** Seeds the weights and the sampler: same seed, same rollouts on the CPU. Default 0. */
  seed?: number;
  /** AdamW learning rate. Default 1e-4. */
  learningRate?: number;
  /** AdamW β₁. Default 0.9. */
  beta1?: number;
  /** AdamW β₂. Default 0.999. */
  beta2?: number;
  /** AdamW ε. Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay. Default 0. */
  weightDecay?: number;
  /** Global gradient-norm clip before each step; 0 disables. Default 1. */
  maxGradNorm?: number;
}

/** An image: `Float32Array` (used as given, e.g. in [0, 1]) or `Uint8Array` (scaled by 1/255), H×W×C row-major. */
export type ImageData = Float32Array | Uint8Array;

/**
 * Prompts and their images. Sequences are the prompts repeated `groupSize` times, consecutively
 * (sequence `b` belongs to prompt `⌊b / groupSize⌋`).
 */
export interface PromptBatch {
  /** One image per prompt: a single array of `prompts.length × H × W × C` values, or one array per prompt. */
  images: ImageData | ImageData[];
  /** Token ids per prompt, each containing the image token (`config.imageTokenId`) exactly once. */
  prompts: Int32Array[] | number[][];
  /** Completions per prompt. Default 1. */
  groupSize?: number;
}

/** What {@link Policy.generate} samples. */
export interface GenerateRequest extends PromptBatch {
  /** Completion length limit (columns of the outputs). */
  maxNewTokens: number;
  /** Sampling temperature; 0 is greedy. Default 1. */
  temperature?: number;
  /** Nucleus sampling: keep the most likely tokens up to this much probability. Default 1 (off). */
  topP?: number;
  /** End-of-sequence token: a sequence ends after emitting it (it is part of the completion). Default: none. */
  eosId?: number;
  /** Written after a sequence has ended. Default 0. */
  padId?: number;
  /** Stream the DyCo attention statistics. Default true. */
  statistics?: boolean;
  /** Debug: also return every head-averaged attention row of the statistics layer (memory grows with length). */
  returnAttention?: boolean;
}

/**
 * Head-averaged attention rows of the statistics layer, laid out for {@link attentionStats}: row
 * (b, t) is the attention of the query that emits completion token t of sequence b.
 */
export interface AttentionMaps {
  /** Row stride: longest prompt (with vision tokens) + steps. */
  keys: number;
  /** `Float32Array(batch × steps × keys)`; zero beyond each row's length and on masked tokens. */
  rows: Float32Array;
  /** `Int32Array(batch × steps)`: valid keys per row (0 on masked tokens). */
  lengths: Int32Array;
  /** `Uint8Array(batch × keys)`: key modality per sequence (0 other/padding, 1 vision, 2 text). */
  modality: Uint8Array;
}

/** Completions with their prompts: the input of scoring and training. A {@link Rollout} is one. */
export interface CompletionBatch extends PromptBatch {
  /** `Int32Array(batch × steps)` token ids (every entry must be a valid id, masked ones included). */
  tokens: Int32Array;
  /** `Uint8Array(batch × steps)`: 1 for completion tokens that count. */
  mask: Uint8Array;
  /** Columns of `tokens` and `mask`. */
  steps: number;
  /** Log-probs are of `softmax(logits / temperature)`. Default 1. */
  temperature?: number;
}

/** A sampled group of completions with their DyCo statistics; every per-token array is `batch × steps`, 0 where masked. */
export interface Rollout extends CompletionBatch {
  /** Sequences: `prompts.length × groupSize`. */
  batch: number;
  groupSize: number;
  /** The request's images, as one array. */
  images: ImageData;
  /** The request's prompts, as Int32Arrays. */
  prompts: Int32Array[];
  /** Unmasked tokens per sequence (EOS included). */
  lengths: Int32Array;
  /** 1 where a sequence reached `maxNewTokens` without EOS (DAPO masks these). */
  truncated: Uint8Array;
  /**
   * Sampling log-probs: of `softmax(logits / temperature)` over the whole vocabulary (before top-p
   * truncation), which is what {@link Policy.logprobs} gives at the same temperature; greedy
   * decoding reports temperature-1 log-probs.
   */
  logprobs: Float32Array;
  /** Method §2/§4: relative attention mass on the image, `r_vis / (r_vis + r_txt)`. */
  ratioVis: Float32Array;
  /** Relative attention mass on the text. */
  ratioTxt: Float32Array;
  /** Fisher–Rao shift of the vision attention from the previous token (0 at t = 0). */
  frVis: Float32Array;
  /** Fisher–Rao shift of the text attention over the common prefix (0 at t = 0). */
  frTxt: Float32Array;
  /** Present with `returnAttention`. */
  attention?: AttentionMaps;
}

/** Options of {@link Policy.trainStep}. */
export interface TrainStepOptions {
  /** `Float32Array(batch)` per sequence, or `Float32Array(batch × steps)` per token (e.g. DyCo-reweighted). */
  advantages: Float32Array;
  /** ℓ_old: the rollout's log-probs (for μ > 1 inner steps). Default: the current ℓ detached (ratio 1). */
  oldLogp?: Float32Array;
  /** ℓ_ref from {@link Policy.logprobs} with `model: 'reference'`, for the KL term. Default: no KL. */
  refLogp?: Float32Array;
  /** The loss, as for {@link policyLoss}. Default `{ algorithm: 'grpo' }`. */
  loss?: PolicyLossConfig;
  /** Overrides the configured learning rate for this step (schedules). */
  learningRate?: number;
  /**
   * How the loss is computed and differentiated (the results agree to float32 rounding):
   * `'logits'` (default): the logits-level kernel ({@link logitsPolicyLoss}) as the autograd node
   * on the output projection, so no log-softmax over the vocabulary is materialised (on CUDA
   * tensors, the kernel's CUDA version, when the runner was built against a CUDA LibTorch);
   * `'fused'`: LibTorch's log_softmax and gather, then {@link policyLoss} as the autograd node.
   */
  implementation?: 'logits' | 'fused';
}

/** Metrics of one policy-gradient step. */
export interface TrainStepResult {
  loss: number;
  clipFractionLow: number;
  clipFractionHigh: number;
  kl: number;
  ratioMean: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  learningRate: number;
  /** Optimizer steps taken so far (SFT and RL together). */
  step: number;
}

/** Metrics of one supervised step. */
export interface SftStepResult {
  /** Mean cross-entropy of the unmasked completion tokens. */
  loss: number;
  gradNorm: number;
  learningRate: number;
  step: number;
}

/** Parameter gradients of one loss evaluation, by parameter name (see {@link Policy.gradients}). */
export interface GradientsResult {
  loss: number;
  gradients: Record<string, Float32Array>;
}

/** What {@link Policy.info} describes. */
export interface PolicyInfo {
  config: Required<TinyVLConfig>;
  /** LibTorch's device name, e.g. `'cpu'` or `'cuda:0'`. */
  device: string;
  /** Trainable parameters. */
  parameters: number;
  optimizer: Required<Omit<PolicyOptions, 'device' | 'seed'>>;
}

const checkpointFormat = 'dyco-rl.policy';
const checkpointVersion = '1';

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'Array';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return value === null ? 'null' : typeof value;
}

// One array for all images (zero-copy when already one), Int32Array prompts.
function normalisePrompts<T extends PromptBatch>(batch: T, fn: string): T & { images: ImageData; prompts: Int32Array[] } {
  if (batch === null || typeof batch !== 'object') throw new TypeError(`${fn}: the batch must be an object (got ${describe(batch)})`);
  let images = batch.images as unknown;
  if (Array.isArray(images)) {
    const parts = images as unknown[];
    const allFloat = parts.every((p) => p instanceof Float32Array);
    const allBytes = parts.every((p) => p instanceof Uint8Array);
    if (!allFloat && !allBytes)
      throw new TypeError(`${fn}: images must be one Float32Array/Uint8Array or an array of them, all of one type`);
    const total = (parts as ImageData[]).reduce((n, p) => n + p.length, 0);
    const joined = allFloat ? new Float32Array(total) : new Uint8Array(total);
    let offset = 0;
    for (const p of parts as ImageData[]) {
      joined.set(p, offset);
      offset += p.length;
    }
    images = joined;
  }
  let prompts = batch.prompts as unknown;
  if (Array.isArray(prompts)) {
    prompts = (prompts as unknown[]).map((p, i) => {
      if (p instanceof Int32Array) return p;
      if (Array.isArray(p)) return Int32Array.from(p as number[]);
      throw new TypeError(`${fn}: prompts[${i}] must be an Int32Array or an array of token ids (got ${describe(p)})`);
    });
  }
  return { ...batch, images: images as ImageData, prompts: prompts as Int32Array[] };
}

/**
 * A tiny-vl policy on the CPU or a CUDA device. Calls on one policy run one at a time, in the order
 * they were made (they are queued); arrays passed in are read in place on a worker thread and must
 * not be modified until the returned promise settles.
 *
 * @example
 * ```ts
 * const policy = await Policy.create({ vocabSize: 64 }, { seed: 1 });
 * const rollout = await policy.generate({ images, prompts, groupSize: 4, maxNewTokens: 16, eosId: 2 });
 * rollout.frVis; // Fisher–Rao shift of the image attention per generated token
 * const ref = await policy.logprobs(rollout, { model: 'reference' });
 * await policy.trainStep(rollout, { advantages, oldLogp: rollout.logprobs, refLogp: ref, loss: { algorithm: 'grpo' } });
 * await policy.save('policy.safetensors');
 * ```
 */
export class Policy {
  readonly #native: NativePolicy;
  #queue: Promise<unknown> = Promise.resolve();
  #disposed = false;

  private constructor(native: NativePolicy) {
    this.#native = native;
  }

  /**
   * Builds a freshly initialised policy (deterministic in `options.seed`) with AdamW state and a
   * frozen reference copy equal to the initial weights.
   * @throws (rejects) TypeError / RangeError for a bad config or option, naming the field; Error when
   *   the runner is not built (the message says how to enable it) or `device: 'cuda'` has no GPU.
   */
  static async create(config: TinyVLConfig = {}, options: PolicyOptions = {}): Promise<Policy> {
    const native = await runnerAddon().createPolicy(config, options);
    return new Policy(native);
  }

  /**
   * Loads a policy written by {@link Policy.save}: weights, reference copy, optimizer state and
   * sampler state, so training and sampling continue exactly where they stopped.
   * @param options.device - where to put it (default `'auto'`); the optimizer settings come from the file.
   */
  static async load(path: string, options: Pick<PolicyOptions, 'device'> = {}): Promise<Policy> {
    const { tensors, metadata } = await readSafetensorsFile(path);
    if (metadata.format !== checkpointFormat)
      throw new Error(`Policy.load: ${path} is not a dyco-rl policy checkpoint (metadata.format is ${JSON.stringify(metadata.format)})`);
    if (metadata.formatVersion !== checkpointVersion)
      throw new Error(`Policy.load: ${path} has checkpoint format version ${metadata.formatVersion}; this dyco-rl reads version ${checkpointVersion}`);
    const parse = (key: string): Record<string, number> => {
      try {
        return JSON.parse(metadata[key] ?? '') as Record<string, number>;
      } catch {
        throw new Error(`Policy.load: ${path} has no readable metadata.${key}`);
      }
    };
    const config = parse('config');
    const optimizer = parse('optimizer');
    const { step, ...optimizerOptions } = optimizer;
    const list = [...tensors].map(([name, record]) => {
      if (!(record.data instanceof Float32Array)) throw new Error(`Policy.load: ${path}: tensor '${name}' is ${record.dtype}, expected F32`);
      return { name, data: record.data };
    });
    const policy = await Policy.create(config, { ...optimizerOptions, device: options.device });
    await policy.#enqueue(() =>
      policy.#native.importState({ tensors: list, samplerState: metadata.samplerState ?? '', optimizerStep: step ?? 0 }),
    ).catch((error: unknown) => {
      policy.#native.dispose();
      throw new Error(`Policy.load: ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    });
    return policy;
  }

  /** Config, device, parameter count and optimizer settings. */
  info(): PolicyInfo {
    this.#check('info');
    return this.#native.info() as unknown as PolicyInfo;
  }

  /**
   * Samples `groupSize` completions per prompt with a KV cache. At every step the statistics
   * layer's head-averaged attention row of the emitting query (the last prompt position for token
   * 0, token t−1's position after that) goes through the kernel core's attention statistics
   * against the sequence's previous row, the only row kept: DyCo's memory does not grow with the
   * completion. Statistics stop at EOS.
   */
  async generate(request: GenerateRequest): Promise<Rollout> {
    const normalised = normalisePrompts(request, 'Policy.generate');
    return this.#enqueue(async () => {
      const out = (await this.#native.generate(normalised)) as Omit<Rollout, 'groupSize' | 'images' | 'prompts' | 'temperature'>;
      const temperature = request.temperature === undefined || request.temperature <= 0 ? 1 : request.temperature;
      return { ...out, groupSize: normalised.groupSize ?? 1, images: normalised.images, prompts: normalised.prompts, temperature };
    });
  }

  /**
   * Teacher-forced log-probs of the completion tokens, `Float32Array(batch × steps)`, 0 where masked.
   * @param options.model - `'policy'` (default) or `'reference'`: the frozen copy, for the KL term.
   */
  async logprobs(batch: CompletionBatch, options: { model?: 'policy' | 'reference' } = {}): Promise<Float32Array> {
    const normalised = normalisePrompts(batch, 'Policy.logprobs');
    return this.#enqueue(() => this.#native.logprobs(normalised, { model: options.model }) as Promise<Float32Array>);
  }

  /**
   * Debug: {@link Policy.logprobs} plus the statistics layer's attention rows of the teacher-forced
   * pass (the same layout as a rollout's `attention`), to check the streamed statistics against.
   */
  async logprobsWithAttention(batch: CompletionBatch, options: { model?: 'policy' | 'reference' } = {}): Promise<{ logprobs: Float32Array; attention: AttentionMaps }> {
    const normalised = normalisePrompts(batch, 'Policy.logprobs');
    return this.#enqueue(
      () => this.#native.logprobs(normalised, { model: options.model, returnAttention: true }) as Promise<{ logprobs: Float32Array; attention: AttentionMaps }>,
    );
  }

  /**
   * One policy-gradient step: the teacher-forced forward pass, the policy loss through a fused
   * kernel as a custom autograd node (by default the logits-level one: its ∂loss/∂logits, written
   * over the output projection's logits, is the node's backward), gradient clipping, AdamW.
   */
  async trainStep(batch: CompletionBatch, options: TrainStepOptions): Promise<TrainStepResult> {
    const normalised = normalisePrompts(batch, 'Policy.trainStep');
    return this.#enqueue(() => this.#native.trainStep(normalised, options) as Promise<TrainStepResult>);
  }

  /** One supervised step on the completions (mean token cross-entropy), e.g. to warm-start before RL. */
  async sftStep(batch: CompletionBatch, options: { learningRate?: number } = {}): Promise<SftStepResult> {
    const normalised = normalisePrompts(batch, 'Policy.sftStep');
    return this.#enqueue(() => this.#native.sftStep(normalised, options) as Promise<SftStepResult>);
  }

  /**
   * ∂loss/∂parameters of the policy loss without updating anything, through either of
   * {@link Policy.trainStep}'s implementations (`'logits'`, the default, or `'fused'`) or through the
   * loss composed of LibTorch operations as the reference code writes it (`'reference'`:
   * log_softmax, gather, the loss in float64, autograd). For tests and debugging.
   */
  async gradients(
    batch: CompletionBatch,
    options: Omit<TrainStepOptions, 'learningRate' | 'implementation'> & { implementation?: 'logits' | 'fused' | 'reference' },
  ): Promise<GradientsResult> {
    const normalised = normalisePrompts(batch, 'Policy.gradients');
    return this.#enqueue(() => this.#native.gradients(normalised, options) as Promise<GradientsResult>);
  }

  /** Copies the current weights into the frozen reference (e.g. after a supervised warm start). */
  syncReference(): Promise<void> {
    return this.#enqueue(() => this.#native.syncReference());
  }

  /**
   * Writes weights, reference copy, AdamW moments, config, optimizer settings and sampler state to
   * one safetensors file, atomically (a temporary file in the same directory, then a rename): a
   * crash never leaves a partial checkpoint at `path`.
   */
  save(path: string): Promise<void> {
    if (typeof path !== 'string' || path.length === 0) return Promise.reject(new TypeError(`Policy.save: path must be a non-empty string (got ${describe(path)})`));
    return this.#enqueue(async () => {
      const info = this.#native.info();
      const state = await this.#native.exportState();
      const tensors = new Map<string, TensorRecord>();
      for (const t of state.tensors) tensors.set(t.name, { dtype: 'F32', shape: t.shape, data: t.data });
      await writeSafetensorsFile(path, tensors, {
        format: checkpointFormat,
        formatVersion: checkpointVersion,
        config: JSON.stringify(info.config),
        optimizer: JSON.stringify({ ...info.optimizer, step: state.optimizerStep }),
        samplerState: state.samplerState,
      });
    });
  }

  /** Frees the model once queued calls have finished; later calls reject. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    await this.#queue.catch(() => undefined);
    this.#native.dispose();
  }

  #check(fn: string): void {
    if (this.#disposed) throw new Error(`Policy.${fn}: the policy was disposed`);
  }

  // Calls run one after another: a LibTorch model is not safe to use from two threads at once.
  #enqueue<T>(work: () => Promise<T>): Promise<T> {
    if (this.#disposed) return Promise.reject(new Error('Policy: the policy was disposed'));
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
