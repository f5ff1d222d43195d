import { addon, loadedBinary, type LoadedBinary } from './native.js';
import { torchCapability, type TorchCapability } from './runner.js';

export type { TorchCapability, LoadedBinary };

/** What this build of dyco-rl can do on this machine. */
export interface Capabilities {
  /** Package version the addon was built from. */
  version: string;
  /** Worker threads the CPU kernels split large inputs over (set `DYCO_RL_NUM_THREADS` to change). */
  threads: number;
  /** Whether CUDA kernels are compiled in and a device is usable. */
  cuda: boolean;
  /** Number of usable CUDA devices (0 without CUDA). */
  cudaDevices: number;
  /**
   * The LibTorch model runner ({@link Policy}): `{ available: true, version, cuda, cudaDevices }`,
   * or `{ available: false, reason }` with what is missing and the command that enables it.
   */
  torch: TorchCapability;
  /** Instruction set the CPU kernels dispatched to at load time (e.g. `avx512`, `avx2`, `baseline`). */
  simd: string;
  /** Which native binary was loaded (local build, a prebuilt variant or an override) and why. */
  binary: LoadedBinary;
}

/**
 * Reports the build and the machine: version, CPU threads, CUDA and LibTorch availability.
 * @example
 * ```ts
 * import { capabilities } from 'dyco-rl';
 * console.log(capabilities());
 * // { version: '0.1.0', threads: 2, cuda: false, cudaDevices: 0, simd: 'avx512',
 * //   torch: { available: true, version: '1.13.0', cuda: false, cudaDevices: 0 } }
 * ```
 */
export function capabilities(): Capabilities {
  return { ...addon.capabilities(), torch: torchCapability(), binary: loadedBinary };
}
