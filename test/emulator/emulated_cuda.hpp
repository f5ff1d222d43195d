// A CPU stand-in for the part of CUDA that native/cuda/ uses, so that the kernels' own source runs
// in tests on machines without a GPU (CI, and every machine of this project without a device).
//
// What it is for: executing the kernels' logic (indexing, team reductions, run walking, vector and
// scalar paths, validation and failure keys, the phases of the logits loss) exactly as written, and
// catching what a GPU would do wrong silently or what compute-sanitizer would report:
// - every thread of a block runs as a fiber (test/emulator/scheduler.cpp); a warp shuffle waits for
//   all 32 lanes of its warp and __syncthreads for every live thread of the block, so a shuffle or
//   barrier in divergent code, or barriers at different places, is reported as a launch failure;
// - device memory sits right before an inaccessible page, its padding and fresh contents filled
//   with all-ones bytes (NaN), and freed memory is unmapped: reads past the end or after free fault
//   (the fault handler names the block and thread), unwritten memory reads as NaN;
// - copies and fills must stay inside one device allocation.
// What it is not: a timing model or a test of memory coherence. Arithmetic is the host's (glibc's
// expf, no fused multiply-add contraction), so results agree with the GPU's to rounding, not bits;
// the PTX approximations of native/cuda/approx_math.cuh are modelled pessimistically instead
// (include/approx_math.cuh: up to 2 ulp off, where the hardware promises 1).
//
// The .cu files are compiled as C++ after one textual rewrite (rewrite_launches.cmake): a launch
// `kernel<<<grid, block, shared, stream>>>(args)` becomes
// `kernel * ::dyco::emulator::Launch(grid, block, shared, stream) | ::dyco::emulator::Args(args)`.
// Built with DYCO_CUDA=EMULATE (CMakeLists.txt); scripts/test-cuda-emulated.sh runs test/cuda on it.
#pragma once
#include <math.h>

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <tuple>
#include <type_traits>

#include "half_float.hpp"

// ---------------------------------------------------------------------------------------------
// Keywords
// ---------------------------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
// Blocks run one at a time, so a function-local static is exactly one block's shared variable.
#define __shared__ static
#define __syncthreads() ::dyco::emulator::SyncThreads(__FILE__, __LINE__)
#define __syncthreads_or(predicate) ::dyco::emulator::SyncThreadsOr((predicate), __FILE__, __LINE__)
#define threadIdx (::dyco::emulator::ThreadIndex())
#define blockIdx (::dyco::emulator::BlockIndex())
#define blockDim (::dyco::emulator::BlockDim())
#define gridDim (::dyco::emulator::GridDim())

// ---------------------------------------------------------------------------------------------
// Vector and half-precision types
// ---------------------------------------------------------------------------------------------
struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct alignas(16) uint4 {
  unsigned x, y, z, w;
};
struct alignas(16) float4 {
  float x, y, z, w;
};
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }

struct __half {
  unsigned short bits;
};
struct __nv_bfloat16 {
  unsigned short bits;
};
static_assert(sizeof(__half) == 2 && sizeof(__nv_bfloat16) == 2, "16-bit storage types");

inline __half __ushort_as_half(unsigned short bits) { return {bits}; }
inline unsigned short __half_as_ushort(__half h) { return h.bits; }
inline float __half2float(__half h) { return dyco::Float16ToFloat(h.bits); }
inline __half __float2half_rn(float f) { return {dyco::FloatToFloat16(f)}; }
inline float __bfloat162float(__nv_bfloat16 h) { return dyco::BFloat16ToFloat(h.bits); }
inline __nv_bfloat16 __float2bfloat16_rn(float f) { return {dyco::FloatToBFloat16(f)}; }
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 h) { return h.bits; }

// ---------------------------------------------------------------------------------------------
// Intrinsics
// ---------------------------------------------------------------------------------------------
using std::isfinite;
using std::isinf;

inline float __uint_as_float(unsigned bits) { return __builtin_bit_cast(float, bits); }
inline float __int_as_float(int bits) { return __builtin_bit_cast(float, bits); }
inline unsigned __float_as_uint(float v) { return __builtin_bit_cast(unsigned, v); }
inline int __popc(unsigned v) { return __builtin_popcount(v); }
inline double __longlong_as_double(long long bits) { return __builtin_bit_cast(double, bits); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }

template <typename T>
inline T __ldg(const T* p) {
  return *p;
}

// One OS thread runs every fiber of a launch, and launches are serialised: plain read-modify-write.
template <typename T>
inline T atomicMin(T* p, T v) {
  const T old = *p;
  if (v < old) *p = v;
  return old;
}
template <typename T>
inline T atomicAdd(T* p, T v) {
  const T old = *p;
  *p = old + v;
  return old;
}

// ---------------------------------------------------------------------------------------------
// Runtime types (the subset native/cuda/runtime.cu uses; error codes have CUDA's values)
// ---------------------------------------------------------------------------------------------
enum cudaError_t : int {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInsufficientDriver = 35,
  cudaErrorInvalidDeviceFunction = 98,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorNoKernelImageForDevice = 209,
  cudaErrorECCUncorrectable = 214,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchTimeout = 702,
  cudaErrorContextIsDestroyed = 709,
  cudaErrorAssert = 710,
  cudaErrorHardwareStackError = 714,
  cudaErrorIllegalInstruction = 715,
  cudaErrorMisalignedAddress = 716,
  cudaErrorInvalidAddressSpace = 717,
  cudaErrorInvalidPc = 718,
  cudaErrorLaunchFailure = 719,
};

enum cudaMemcpyKind { cudaMemcpyHostToHost, cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice };
enum cudaDeviceAttr { cudaDevAttrMultiProcessorCount = 16, cudaDevAttrMemoryPoolsSupported = 115 };
enum cudaMemPoolAttr {
  cudaMemPoolAttrReleaseThreshold = 4,
  cudaMemPoolAttrUsedMemCurrent = 7,
  cudaMemPoolAttrUsedMemHigh = 8,
};

using cudaStream_t = struct EmulatedStream*;
using cudaEvent_t = struct EmulatedEvent*;
using cudaMemPool_t = struct EmulatedMemPool*;
#define cudaStreamPerThread (reinterpret_cast<cudaStream_t>(0x2))

struct cudaDeviceProp {
  char name[256];
  int major, minor;
  std::size_t totalGlobalMem;
  int multiProcessorCount;
};
struct cudaFuncAttributes {
  int maxThreadsPerBlock;
};

cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
const char* cudaGetErrorString(cudaError_t e);
const char* cudaGetErrorName(cudaError_t e);
cudaError_t cudaRuntimeGetVersion(int* version);
cudaError_t cudaDriverGetVersion(int* version);
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* props, int device);
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaMalloc(void** p, std::size_t bytes);
cudaError_t cudaFree(void* p);
cudaError_t cudaMallocAsync(void** p, std::size_t bytes, cudaStream_t stream);
cudaError_t cudaFreeAsync(void* p, cudaStream_t stream);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind, cudaStream_t stream);
cudaError_t cudaMemsetAsync(void* dst, int value, std::size_t bytes, cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaEventCreate(cudaEvent_t* event);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end);
cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t* pool, int device);
cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t pool, cudaMemPoolAttr attr, void* value);
cudaError_t cudaMemPoolGetAttribute(cudaMemPool_t pool, cudaMemPoolAttr attr, void* value);

// Every emulated kernel can be loaded.
template <typename F>
cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attributes, F) {
  attributes->maxThreadsPerBlock = 1024;
  return cudaSuccess;
}

// ---------------------------------------------------------------------------------------------
// Threads, synchronisation and launches (scheduler.cpp)
// ---------------------------------------------------------------------------------------------
namespace dyco::emulator {

const uint3& ThreadIndex();
const uint3& BlockIndex();
const dim3& BlockDim();
const dim3& GridDim();

void SyncThreads(const char* file, int line);
// __syncthreads_or: a barrier that returns non-zero when any thread of the block brought a non-zero predicate.
int SyncThreadsOr(int predicate, const char* file, int line);
// Exchanges `bytes` bytes of *value with lane (own lane ^ laneMask) of the warp.
void ShuffleXor(unsigned mask, void* value, std::size_t bytes, int laneMask);

struct LaunchConfig {
  dim3 grid, block;
  std::size_t sharedBytes;
  cudaStream_t stream;
};
inline LaunchConfig Launch(dim3 grid, dim3 block, std::size_t sharedBytes = 0, cudaStream_t stream = nullptr) {
  return {grid, block, sharedBytes, stream};
}

// Runs body once per thread of every block of the grid (blocks in order, each block's threads as
// fibers); records a launch failure (cudaGetLastError, and sticky like a kernel fault) on a bad
// configuration or a synchronisation error.
void RunGrid(const LaunchConfig& config, const std::function<void()>& body);

template <typename F>
struct PendingLaunch {
  F kernel;
  LaunchConfig config;
};
template <typename F>
PendingLaunch<F> operator*(F kernel, LaunchConfig config) {
  return {kernel, config};
}
template <typename... A>
std::tuple<A...> Args(A... args) {
  return std::tuple<A...>(args...);
}
template <typename F, typename... A>
void operator|(const PendingLaunch<F>& launch, const std::tuple<A...>& args) {
  RunGrid(launch.config, [&] { std::apply(launch.kernel, args); });
}

}  // namespace dyco::emulator

template <typename T>
inline T __shfl_xor_sync(unsigned mask, T value, int laneMask) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "a shuffle moves one register or a pair");
  dyco::emulator::ShuffleXor(mask, &value, sizeof(T), laneMask);
  return value;
}

// A warp vote, as a butterfly of shuffles: every lane of the warp must take part, as on a GPU.
inline int __any_sync(unsigned mask, int predicate) {
  int any = predicate != 0;
  for (int offset = 16; offset > 0; offset /= 2) any |= __shfl_xor_sync(mask, any, offset);
  return any;
}
