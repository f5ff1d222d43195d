/**
 * Loads the compiled addon (a local build in `build/` or a prebuilt binary in `prebuilds/`)
 * through node-gyp-build. Every public function goes through {@link addon}.
 * @packageDocumentation
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { Capabilities } from './capabilities.js';
import type { DeviceArrayConstructor } from './device-array.js';

/** The shape of the native module; the bindings validate every argument themselves. */
export interface NativeAddon {
  /** Everything but `torch`, which lib/capabilities.ts adds from the runner. */
  capabilities(): Omit<Capabilities, 'torch'>;
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
