/**
 * Loads the LibTorch model runner, `dyco_runner.node`: a separate addon from the kernels, built
 * only where LibTorch was found, so that `dyco_rl.node` never needs LibTorch to load.
 * @packageDocumentation
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { buildCommandFor } from './loader/select-binary.js';

/** Whether the LibTorch runner can be used here, and if not, why. */
export type TorchCapability =
  | {
      available: true;
      /** LibTorch version the runner was built against, e.g. `'1.13.0'`. */
      version: string;
      /** Whether LibTorch sees a CUDA device. */
      cuda: boolean;
      cudaDevices: number;
    }
  | {
      available: false;
      /** What is missing, and the command that enables the runner. */
      reason: string;
    };

/** The shape of the native runner module (arguments are validated natively). */
export interface NativeRunner {
  torchInfo(): { version: string; cuda: boolean; cudaDevices: number; threads: number };
  createPolicy(config: object, options: object): Promise<NativePolicy>;
  /**
   * Tests and benchmarks only: the logits-level policy loss on host arrays (the inputs of
   * `logitsPolicyLoss`) through LibTorch, either the ATen composite (`log_softmax(logits.float()/T)`
   * → gather → reference loss → autograd backward; `implementation: 'composite'`) or the runner's
   * autograd node around the logits kernel (`'node'`). Returns `loss`, `logp` (composite only) and
   * the float32 `gradLogits` (unless `returnGradient: false`).
   */
  logitsPolicyLossTorch(inputs: object, config: object, options?: object): unknown;
  logitsPolicyLossTorchAsync(inputs: object, config: object, options?: object): Promise<unknown>;
}

/** The native policy handle behind {@link Policy}. Every method but `info`/`dispose` returns a Promise. */
export interface NativePolicy {
  info(): { config: Record<string, number>; device: string; parameters: number; optimizer: Record<string, number> };
  dispose(): void;
  generate(request: object): Promise<unknown>;
  logprobs(batch: object, options?: object): Promise<unknown>;
  trainStep(batch: object, options: object): Promise<unknown>;
  sftStep(batch: object, options?: object): Promise<unknown>;
  gradients(batch: object, options: object): Promise<unknown>;
  syncReference(): Promise<void>;
  exportState(): Promise<{ tensors: { name: string; shape: number[]; data: Float32Array }[]; samplerState: string; optimizerStep: number }>;
  importState(state: object): Promise<void>;
}

// lib/runner.ts and dist/runner.js both sit one level below the package root.
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const enableCommand =
  'install LibTorch (Debian/Ubuntu: `apt-get install -y libtorch-dev`; or `pip install torch`) and build it with ' +
  `\`${buildCommandFor(packageRoot)}\``;

type LoadResult = { runner: NativeRunner } | { reason: string };
let loaded: LoadResult | undefined;

function load(): LoadResult {
  const path = join(packageRoot, 'build', 'Release', 'dyco_runner.node');
  if (!existsSync(path)) {
    let why = 'the LibTorch runner was not built';
    try {
      const record = JSON.parse(readFileSync(join(packageRoot, 'build', 'runner-build.json'), 'utf8')) as { reason?: string };
      if (record.reason) why += ` (${record.reason})`;
    } catch {
      why += ' (no local build in build/)';
    }
    return { reason: `${why}: ${enableCommand}` };
  }
  try {
    const require = createRequire(import.meta.url);
    return { runner: require(path) as NativeRunner };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { reason: `the LibTorch runner at ${path} failed to load (${message}); ${enableCommand}` };
  }
}

function loadOnce(): LoadResult {
  loaded ??= load();
  return loaded;
}

/** Whether the LibTorch runner is usable, its LibTorch version and CUDA devices, or why not. */
export function torchCapability(): TorchCapability {
  const result = loadOnce();
  if ('reason' in result) return { available: false, reason: result.reason };
  const info = result.runner.torchInfo();
  return { available: true, version: info.version, cuda: info.cuda, cudaDevices: info.cudaDevices };
}

/** The runner module; throws an Error saying why it is unavailable and how to enable it. */
export function runnerAddon(): NativeRunner {
  const result = loadOnce();
  if ('reason' in result) throw new Error(`dyco-rl: ${result.reason}`);
  return result.runner;
}
