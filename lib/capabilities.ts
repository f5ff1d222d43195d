import { addon, loadedBinary, type LoadedBinary } from './native.js';
import { torchCapability, type TorchCapability } from './runner.js';

export type { TorchCapability, LoadedBinary };

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

/** What this build of dyco-rl can do on this machine. */
export interface Capabilities {
  /** Package version the addon was built from. */
  version: string;
  /** Worker threads the CPU kernels split large inputs over (set `DYCO_RL_NUM_THREADS` to change). */
  threads: number;
  /** Whether CUDA kernels are compiled in and a device is usable (then `device: 'auto'` runs on it). */
  cuda: boolean;
  /**
   * Number of CUDA devices the kernels can run on (0 without CUDA). Calls run on device 0 (see
   * `CUDA_VISIBLE_DEVICES`). Still counted after a kernel fault has made CUDA unusable (`cuda` false).
   */
  cudaDevices: number;
  /** Whether this build contains the CUDA kernels (built wherever nvcc was found, even without a GPU). */
  cudaKernels: boolean;
  /**
   * Why CUDA cannot be used, when `cuda` is false: kernels not built, no driver, no device, ... or a
   * kernel fault earlier in this process (an illegal address, say), after which CUDA's context is
   * unusable until the process restarts; `device: 'auto'` then runs on the CPU.
   */
  cudaReason?: string;
  /** Device 0, when `cudaDevices` > 0. */
  cudaDevice?: CudaDeviceInfo;
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
 * Reports the build and the machine: version, CPU threads, CUDA and LibTorch availability. Never
 * throws for a missing GPU or driver: `cuda` is then false and `cudaReason` says why.
 * @example
 * ```ts
 * import { capabilities } from 'dyco-rl';
 * console.log(capabilities());
 * // { version: '0.1.0', threads: 2, cuda: false, cudaDevices: 0, cudaKernels: true,
 * //   cudaReason: 'no NVIDIA driver was found (libcuda.so.1 could not be loaded), so no GPU can be used',
 * //   simd: 'avx512', torch: { available: true, version: '1.13.0', cuda: false, cudaDevices: 0 } }
 * ```
 */
export function capabilities(): Capabilities {
  return { ...addon.capabilities(), torch: torchCapability(), binary: loadedBinary };
}
