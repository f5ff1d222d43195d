/**
 * GPU memory for the CUDA kernels: upload an array once, run any number of kernels on it (their
 * outputs stay on the GPU too), download what you need.
 * @packageDocumentation
 */
import { addon } from './native.js';

/** Element types a {@link DeviceArray} can hold. */
export type DeviceArrayDType = 'float32' | 'float16' | 'bfloat16' | 'int32' | 'uint8' | 'int8';

/** The host TypedArray of each element type (float16 and bfloat16 travel as their raw bits). */
export interface HostArrayOf {
  float32: Float32Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  int32: Int32Array;
  uint8: Uint8Array;
  int8: Int8Array;
}

/**
 * An array in GPU memory (device 0). Kernels accept it wherever they accept a host array of the
 * same element type, and then return their outputs as DeviceArrays as well, so a pipeline
 * (attention statistics → coordination scores, log-probs → policy loss) never goes through the
 * host. Its memory is freed by {@link DeviceArray.dispose} or, failing that, when the object is
 * garbage-collected; disposing while an async call still reads it frees it when that call ends.
 * Async calls in flight run on separate CUDA streams, unordered with one another, so an array that
 * one call writes (`logitsPolicyLoss`'s gradient, with `inPlace` or as `options.gradLogits`) is
 * refused to every other call, and to `download()`, until that call ends; and such a write is
 * refused while other calls in flight use the array. Await the call first.
 *
 * @example
 * ```ts
 * import { DeviceArray, attentionStats, coordinationScores } from 'dyco-rl';
 * const attn = DeviceArray.upload(rows, { shape: [batch, steps, keys] }); // Float32Array, or { dtype: 'bfloat16' } bits
 * const stats = attentionStats(attn, { batch, steps, keys, modality, lengths }); // four DeviceArrays
 * const scores = coordinationScores({ ...stats, mask, batch, steps });          // still on the GPU
 * const sequenceScore = await scores.sequenceScore.download();                  // Float32Array
 * for (const a of [attn, stats.ratioVis, stats.ratioTxt, stats.frVis, stats.frTxt]) a.dispose();
 * ```
 */
export interface DeviceArray<D extends DeviceArrayDType = DeviceArrayDType> {
  /** Element type. */
  readonly dtype: D;
  /** Number of elements. */
  readonly length: number;
  /** The shape given to `upload` (default `[length]`); kernel outputs are flat. A new array on every read. */
  readonly shape: number[];
  /** Bytes of GPU memory the array holds (its size; `dispose` does not change it). */
  readonly byteLength: number;
  /** Whether {@link DeviceArray.dispose} has been called. */
  readonly disposed: boolean;
  /**
   * Copies the elements to a new host TypedArray (float16/bfloat16 as Uint16Array bits), on a
   * worker thread. Rejects when the array has been disposed, or with CUDA's message on a CUDA error.
   */
  download(): Promise<HostArrayOf[D]>;
  /** Frees the GPU memory now (or when the last call reading it ends). Idempotent. */
  dispose(): void;
}

/** Options of {@link DeviceArray.upload}. */
export interface UploadOptions<D extends DeviceArrayDType = DeviceArrayDType> {
  /** Required for a Uint16Array ('float16' or 'bfloat16': the array only holds the bits); else must match the array. */
  dtype?: D;
  /** Dimensions whose product is the array's length (default `[data.length]`). */
  shape?: number[];
}

/** The DeviceArray class: instances come from {@link DeviceArrayConstructor.upload} or from kernels. */
export interface DeviceArrayConstructor {
  /** Not callable from JavaScript (throws a TypeError): use `upload`. */
  new (internal: never): DeviceArray;
  readonly prototype: DeviceArray;
  /**
   * Copies a host array to new GPU memory (synchronously) and returns it as a DeviceArray.
   * @throws TypeError for an unsupported array type or a missing/mismatched `dtype`; RangeError when
   *   `shape` does not match the length; Error when CUDA cannot be used (the message says why) or
   *   on a CUDA error (CUDA's message).
   */
  upload(data: Float32Array, options?: UploadOptions<'float32'>): DeviceArray<'float32'>;
  upload<D extends 'float16' | 'bfloat16'>(data: Uint16Array, options: UploadOptions<D> & { dtype: D }): DeviceArray<D>;
  upload(data: Int32Array, options?: UploadOptions<'int32'>): DeviceArray<'int32'>;
  upload(data: Uint8Array, options?: UploadOptions<'uint8'>): DeviceArray<'uint8'>;
  upload(data: Int8Array, options?: UploadOptions<'int8'>): DeviceArray<'int8'>;
}

/** See {@link DeviceArray}; `x instanceof DeviceArray` tells device arrays from host ones. */
export const DeviceArray = addon.DeviceArray as DeviceArrayConstructor;

/**
 * Half-precision data on the host: the raw 16-bit patterns of float16 or bfloat16 values (Node 20
 * has no Float16Array). Accepted where a kernel reads model outputs: attention rows (`p`, `q`,
 * `x`, `attn`) and log-probabilities (`logp`, `oldLogp`, `refLogp`).
 * @example
 * ```ts
 * fisherRaoAdjacent({ data: bits, dtype: 'bfloat16' }, { batch, steps, width });
 * ```
 */
export interface HalfHostArray {
  data: Uint16Array;
  dtype: 'float16' | 'bfloat16';
}
