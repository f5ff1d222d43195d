/**
 * Loads the compiled addon (a local build in `build/` or a prebuilt binary in `prebuilds/`)
 * through node-gyp-build. Every public function goes through {@link addon}.
 * @packageDocumentation
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** The shape of the native module; the bindings validate every argument themselves. */
export interface NativeAddon {
  capabilities(): { version: string; threads: number; cuda: boolean; cudaDevices: number; simd: string };
  fisherRao(...args: unknown[]): Float32Array;
  fisherRaoAsync(...args: unknown[]): Promise<Float32Array>;
  fisherRaoAdjacent(...args: unknown[]): Float32Array;
  fisherRaoAdjacentAsync(...args: unknown[]): Promise<Float32Array>;
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
}

// lib/native.ts and dist/native.js both sit one level below the package root.
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

function load(): NativeAddon {
  const require = createRequire(import.meta.url);
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => NativeAddon;
  try {
    return nodeGypBuild(packageRoot);
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
