/**
 * Loads the compiled addon (a local build in `build/` or a prebuilt binary in `prebuilds/`)
 * through node-gyp-build. Every public function goes through {@link addon}.
 * @packageDocumentation
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { DeviceArrayConstructor } from './device-array.js';

/** What the addon reports about CUDA device 0 when CUDA can be used. */
export interface CudaDeviceInfo {
  /** e.g. `'NVIDIA H100 80GB HBM3'`. */
  name: string;
  /** e.g. `'9.0'`. */
  computeCapability: string;
  memoryBytes: number;
  multiprocessors: number;
  /** The architectures the kernels were compiled for (CMAKE_CUDA_ARCHITECTURES). */
  architectures: string;
  /** CUDA runtime version the addon carries, e.g. `'13.0'`. */
  runtime: string;
  /** Highest CUDA version the driver supports. */
  driver: string;
}

/** The shape of the native module; the bindings validate every argument themselves. */
export interface NativeAddon {
  capabilities(): {
    version: string;
    threads: number;
    cuda: boolean;
    cudaDevices: number;
    cudaKernels: boolean;
    cudaReason?: string;
    cudaDevice?: CudaDeviceInfo;
    simd: string;
  };
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
  copyMemory(src: Float32Array, dst: Float32Array): void;
  DeviceArray: DeviceArrayConstructor;
  /**
   * Benchmark hook: `fn` makes one synchronous kernel call on CUDA; that call stages its inputs
   * once, launches its kernels `warmup` + `reps` times back to back, and the milliseconds of each
   * rep between CUDA events are returned.
   */
  timeCudaCalls(fn: () => void, options?: { warmup?: number; reps?: number }): number[];
  /** Benchmark yardstick: device-to-device copies of `bytes`, each timed with CUDA events (ms). */
  timeCudaCopy(bytes: number, options?: { warmup?: number; reps?: number }): number[];
}

// lib/native.ts and dist/native.js both sit one level below the package root.
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

function load(): NativeAddon {
  const require = createRequire(import.meta.url);
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => NativeAddon;
  // A local build names the addon: build/Release also holds the runner (dyco_runner.node), and
  // node-gyp-build would load whichever .node file the directory lists first.
  const local = join(packageRoot, 'build', 'Release', 'dyco_rl.node');
  try {
    return existsSync(local) ? (require(local) as NativeAddon) : nodeGypBuild(packageRoot);
  } catch (cause) {
    throw new Error(
      `dyco-rl: no native binary fits ${process.platform}-${process.arch} (Node ${process.versions.node}, ` +
        `N-API ${process.versions.napi}). Build it from source with \`npm run build:native\` in ${packageRoot} ` +
        `(needs cmake and a C++17 compiler).`,
      { cause },
    );
  }
}

/** The loaded native module. */
export const addon: NativeAddon = load();
