/**
 * Loads the kernel addon: an operator's override, else a local build in `build/Release/`, else the
 * best prebuilt variant in `prebuilds/` for this machine (see `loader/select-binary.ts` for the
 * decision table). Every public function goes through {@link addon}.
 * @packageDocumentation
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { probeNvidiaDriver } from './loader/driver.js';
import { findPrebuiltVariants } from './loader/prebuilt-variants.js';
import { buildCommandFor, planBinary, type Candidate } from './loader/select-binary.js';
import type { Capabilities } from './capabilities.js';
import type { DeviceArrayConstructor } from './device-array.js';

/** The shape of the native module; the bindings validate every argument themselves. */
export interface NativeAddon {
  /** Everything but `torch`, which lib/capabilities.ts adds from the runner. */
  capabilities(): Omit<Capabilities, 'torch' | 'binary'>;
  fisherRao(...args: unknown[]): unknown;
  fisherRaoAsync(...args: unknown[]): Promise<unknown>;
  fisherRaoAdjacent(...args: unknown[]): unknown;
  fisherRaoAdjacentAsync(...args: unknown[]): Promise<unknown>;
  attentionStats(...args: unknown[]): unknown;
  attentionStatsAsync(...args: unknown[]): Promise<unknown>;
  coordinationScores(...args: unknown[]): unknown;
  coordinationScoresAsync(...args: unknown[]): Promise<unknown>;
  normalizeScores(...args: unknown[]): Float32Array;
  reweightAdvantages(...args: unknown[]): Float32Array;
  groupAdvantages(...args: unknown[]): Float32Array;
  policyLoss(...args: unknown[]): unknown;
  policyLossAsync(...args: unknown[]): Promise<unknown>;
  logitsPolicyLoss(...args: unknown[]): unknown;
  logitsPolicyLossAsync(...args: unknown[]): Promise<unknown>;
  copyMemory(src: Float32Array, dst: Float32Array): void;
  DeviceArray: DeviceArrayConstructor;
  /**
   * Benchmark hook: `fn` makes one synchronous kernel call on CUDA; that call stages its inputs
   * once, launches its kernels `warmup` + `reps` times back to back, and the milliseconds of each
   * rep between CUDA events are returned.
   */
  timeCudaCalls(fn: () => void, options?: { warmup?: number; reps?: number }): number[];
  /** Bytes in use in the device's stream-ordered pool and its high-water mark (reset: restart the mark from the current use). */
  cudaPoolMemory(reset?: boolean): { used: number; high: number };
  /** Benchmark yardstick: device-to-device copies of `bytes`, each timed with CUDA events (ms). */
  timeCudaCopy(bytes: number, options?: { warmup?: number; reps?: number }): number[];
}

// lib/native.ts and dist/native.js both sit one level below the package root.
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Which binary was loaded and why (reported by `capabilities().binary`). */
export interface LoadedBinary {
  /** `'local'` (build/Release), `'cpu'`, `'cuda13'`, … or `'DYCO_RL_BINARY'`. */
  variant: string;
  path: string;
  origin: Candidate['origin'];
  /** Why CUDA variants were passed over, if any were. */
  skipped: string[];
}

function load(): { addon: NativeAddon; binary: LoadedBinary } {
  const require = createRequire(import.meta.url);
  // build/Release holds dyco_runner.node too: the kernel addon is taken by name.
  const localBuild = join(packageRoot, 'build', 'Release', 'dyco_rl.node');
  const plan = planBinary({
    platform: process.platform,
    arch: process.arch,
    variantOverride: process.env.DYCO_RL_VARIANT || undefined,
    binaryOverride: process.env.DYCO_RL_BINARY || undefined,
    localBuild: existsSync(localBuild) ? localBuild : undefined,
    variants: findPrebuiltVariants(packageRoot, process.platform, process.arch),
    driver: probeNvidiaDriver(),
    buildCommand: buildCommandFor(packageRoot),
  });
  const skipped = [...plan.skipped];
  const failures: string[] = [];
  for (const candidate of plan.candidates) {
    try {
      const addon = require(candidate.path) as NativeAddon;
      if (candidate.variant === 'cpu' && skipped.length > 0) console.warn(`dyco-rl: using the CPU binary (${skipped.join('; ')}); set DYCO_RL_VARIANT=cpu to silence this`);
      return { addon, binary: { variant: candidate.variant, path: candidate.path, origin: candidate.origin, skipped } };
    } catch (error) {
      const reason = `${candidate.variant} (${candidate.path}) did not load: ${(error as Error).message.split('\n')[0]}`;
      failures.push(reason);
      skipped.push(reason);
    }
  }
  throw new Error(
    `dyco-rl: no native binary loads on ${process.platform}-${process.arch} (Node ${process.versions.node}): ${failures.join('; ')}. ` +
      `Build it from source (needs cmake and a C++17 compiler): ${buildCommandFor(packageRoot)}`,
  );
}

const loaded = load();

/** The loaded native module. */
export const addon: NativeAddon = loaded.addon;

/** Which binary {@link addon} is, and why. */
export const loadedBinary: LoadedBinary = loaded.binary;
