/**
 * Where a kernel runs, and what that means for the types of its arguments and results.
 * @packageDocumentation
 */
import type { DeviceArray, HalfHostArray } from './device-array.js';

/**
 * `'cpu'`, `'cuda'` (error if CUDA cannot be used; the message says why) or `'auto'`: CUDA when
 * a GPU can be used (see `capabilities().cuda`), else the CPU. The default is the environment
 * variable `DYCO_RL_DEVICE` when set, else `'auto'`. DeviceArray arguments always run on CUDA
 * (with `'cpu'` they are a TypeError).
 */
export type Device = 'cpu' | 'cuda' | 'auto';

/** The device option every kernel function takes. */
export interface ExecutionOptions {
  /** Where to run (default: `DYCO_RL_DEVICE`, else `'auto'`). */
  device?: Device;
}

/** A floating-point input from a model: float32, half-precision bits, or either on the GPU. */
export type FloatInput = Float32Array | HalfHostArray | DeviceArray;
/** A float32 input on the host or the GPU. */
export type Float32Input = Float32Array | DeviceArray;
/** An int32 input (lengths) on the host or the GPU. */
export type Int32Input = Int32Array | DeviceArray;
/** A uint8 input (masks, modality labels) on the host or the GPU. */
export type Uint8Input = Uint8Array | DeviceArray;

/**
 * Where a call's outputs go, from the types of its inputs: `'device'` when any of them is a
 * DeviceArray (outputs are then DeviceArrays), else `'host'` (TypedArrays).
 */
export type Placement<T> = [Extract<T, DeviceArray>] extends [never] ? 'host' : 'device';

/** The type of field K of S, or never when S has no such field (an omitted optional array). */
export type FieldOf<S, K extends PropertyKey> = K extends keyof S ? S[K] : never;

/** A float32 output: Float32Array on the host, DeviceArray on the device. */
export type Float32Output<P extends 'host' | 'device'> = P extends 'device' ? DeviceArray<'float32'> : Float32Array;
/** An int8 output: Int8Array on the host, DeviceArray on the device. */
export type Int8Output<P extends 'host' | 'device'> = P extends 'device' ? DeviceArray<'int8'> : Int8Array;
