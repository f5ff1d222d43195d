// Device-side building blocks of the kernels: element loads of float32/float16/bfloat16 (one
// 16-byte vector or one scalar at a time, widened to float32), teams (a warp or the whole block)
// with fixed-order reductions, input checks and failure recording, and the dtype dispatch.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "cuda_kernels.hpp"

namespace dyco::cuda::detail {

inline constexpr int kWarpSize = 32;
inline constexpr int kBlockThreads = 256;  // every kernel runs 256-thread blocks

// ---------------------------------------------------------------------------------------------
// Elements
// ---------------------------------------------------------------------------------------------

// Elements per 16-byte vector of an element type: 4 floats or 8 halves.
template <typename T>
inline constexpr int kVectorWidth = static_cast<int>(16 / sizeof(T));

__device__ __forceinline__ float BitsToFloat(float v) { return v; }
__device__ __forceinline__ float HalfBitsToFloat(unsigned bits) { return __half2float(__ushort_as_half(static_cast<unsigned short>(bits))); }
__device__ __forceinline__ float BFloat16BitsToFloat(unsigned bits) { return __uint_as_float(bits << 16); }

// One element at p, widened to float32.
template <typename T>
__device__ __forceinline__ float LoadElement(const T* p) {
  if constexpr (std::is_same_v<T, float>) {
    return __ldg(p);
  } else {
    const unsigned bits = __ldg(reinterpret_cast<const unsigned short*>(p));
    if constexpr (std::is_same_v<T, __half>) return HalfBitsToFloat(bits);
    else return BFloat16BitsToFloat(bits);
  }
}

// A chunk of N consecutive elements as it sits in memory: one 16-byte vector (N = kVectorWidth<T>,
// 16-byte aligned) or one element (N = 1). Rows are cached in registers in this raw form (4
// registers per vector) and widened when used, so half-precision rows cost half the registers.
template <typename T, int N>
struct Chunk {
  static_assert(N == 1 || N == kVectorWidth<T>, "a chunk is one element or one 16-byte vector");
  using Raw = std::conditional_t<N == 1, T, uint4>;

  // kReadOnly: the memory is not written while the kernel runs, so the non-coherent read-only path
  // (__ldg, ld.global.nc) is allowed. A kernel that overwrites what it reads (an in-place gradient)
  // passes false: PTX leaves ld.global.nc undefined on memory the same kernel writes.
  template <bool kReadOnly = true>
  __device__ __forceinline__ static Raw Load(const T* p) {
    if constexpr (N == 1) {
      if constexpr (kReadOnly && std::is_same_v<T, float>) return __ldg(p);
      else return *p;  // (16-bit types: __ldg has no overload for every one of them)
    } else if constexpr (kReadOnly) {
      return __ldg(reinterpret_cast<const uint4*>(p));
    } else {
      return *reinterpret_cast<const uint4*>(p);
    }
  }

  __device__ __forceinline__ static void Widen(const Raw& raw, float (&out)[N]) {
    if constexpr (N == 1) {
      if constexpr (std::is_same_v<T, float>) out[0] = raw;
      else if constexpr (std::is_same_v<T, __half>) out[0] = __half2float(raw);
      else out[0] = __bfloat162float(raw);
    } else if constexpr (std::is_same_v<T, float>) {
      out[0] = __uint_as_float(raw.x);
      out[1] = __uint_as_float(raw.y);
      out[2] = __uint_as_float(raw.z);
      out[3] = __uint_as_float(raw.w);
    } else {
      const unsigned words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
      for (int w = 0; w < 4; ++w) {
        if constexpr (std::is_same_v<T, __half>) {
          out[2 * w] = HalfBitsToFloat(words[w] & 0xffffu);
          out[2 * w + 1] = HalfBitsToFloat(words[w] >> 16);
        } else {
          out[2 * w] = BFloat16BitsToFloat(words[w] & 0xffffu);
          out[2 * w + 1] = __uint_as_float(words[w] & 0xffff0000u);
        }
      }
    }
  }
};

// Whether rows of `width` elements starting at `base` can be read in 16-byte vectors.
template <typename T>
inline bool VectorRows(const void* base, std::size_t width) {
  return width % kVectorWidth<T> == 0 && reinterpret_cast<std::uintptr_t>(base) % 16 == 0;
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

// A probability entry must be finite and non-negative (−0 is fine): NaN fails the comparison.
__device__ __forceinline__ bool BadProbability(float v) { return !(v >= 0.0f) || v == __int_as_float(0x7f800000); }

// The OR of the bit patterns of a chunk's values, for a cheap screen of probability entries: a
// negative entry (or −0, or a NaN with its sign bit set) leaves the sign bit set, and a NaN or an
// infinity makes any sum of the entries non-finite. Entries that pass both are finite and ≥ 0; the
// rest are checked one by one with BadProbability (the screen also flags −0, which is fine).
template <int N>
__device__ __forceinline__ unsigned SignScreen(const float (&v)[N]) {
  unsigned bits = 0;
#pragma unroll
  for (int e = 0; e < N; ++e) bits |= __float_as_uint(v[e]);
  return bits;
}
__device__ __forceinline__ bool ScreenFlagsEntry(unsigned signBits, double sum) {
  return (signBits & 0x80000000u) != 0 || !isfinite(sum);
}
__device__ __forceinline__ bool Finite(float v) { return isfinite(v); }

// Leaves the smallest key in failures[slot]; integer atomicMin, so the result never depends on
// which thread gets there first. `failures` may be null (the caller does not want reports).
__device__ __forceinline__ void RecordFailure(FailureKey* failures, int slot, FailureKey key) {
  if (failures) atomicMin(failures + slot, key);
}

// Σ of a chunk's (selected) values: float32 within the chunk, then float64. A chunk of finite
// values near FLT_MAX can overflow the float32 sum; it is summed again in float64.
template <int N>
__device__ __forceinline__ double SumChunk(const float (&w)[N]) {
  float s = 0.0f;
#pragma unroll
  for (int e = 0; e < N; ++e) s += w[e];
  if (isinf(s)) {
    double d = 0.0;
#pragma unroll
    for (int e = 0; e < N; ++e) d += w[e];
    return d;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Teams
// ---------------------------------------------------------------------------------------------

// A team works on one row (or one run of rows) together: one warp (kTeamWarps = 1, eight teams
// per block) for rows that fit in a warp's registers, or the whole 256-thread block.
template <int kTeamWarps>
struct Team {
  static_assert(kTeamWarps == 1 || kTeamWarps == kBlockThreads / kWarpSize, "a team is a warp or the block");
  static constexpr int kSize = kTeamWarps * kWarpSize;
  static constexpr int kPerBlock = kBlockThreads / kSize;

  __device__ __forceinline__ static int Lane() { return static_cast<int>(threadIdx.x) % kSize; }
  __device__ __forceinline__ static int IndexInBlock() { return static_cast<int>(threadIdx.x) / kSize; }
  // The team's number in the grid and the number of teams in the grid.
  __device__ __forceinline__ static std::size_t Global() {
    return static_cast<std::size_t>(blockIdx.x) * kPerBlock + IndexInBlock();
  }
  __device__ __forceinline__ static std::size_t Count() { return static_cast<std::size_t>(gridDim.x) * kPerBlock; }

  // Whether `p` holds on any thread of the team (a warp vote, or a block barrier that ORs). Every
  // thread of the team must call it.
  __device__ __forceinline__ static bool Any(bool p) {
    if constexpr (kTeamWarps == 1) return __any_sync(0xffffffffu, p) != 0;
    else return __syncthreads_or(p) != 0;
  }

  // Sums v[0..K) over the team. Every thread ends with the same, bit-identical totals: the warp
  // stage is an xor butterfly (each step adds the same two values on both partners), the block
  // stage adds the warps' totals in warp order. `scratch` is shared memory for K·kTeamWarps
  // values (unused by warp teams). Every thread of the team must call it.
  template <typename V, int K>
  __device__ __forceinline__ static void Sum(V (&v)[K], V* scratch) {
#pragma unroll
    for (int k = 0; k < K; ++k) {
#pragma unroll
      for (int offset = kWarpSize / 2; offset > 0; offset /= 2) v[k] += __shfl_xor_sync(0xffffffffu, v[k], offset);
    }
    if constexpr (kTeamWarps > 1) {
      const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
      if (threadIdx.x % kWarpSize == 0) {
#pragma unroll
        for (int k = 0; k < K; ++k) scratch[k * kTeamWarps + warp] = v[k];
      }
      __syncthreads();
#pragma unroll
      for (int k = 0; k < K; ++k) {
        V total = scratch[k * kTeamWarps];
        for (int w = 1; w < kTeamWarps; ++w) total += scratch[k * kTeamWarps + w];
        v[k] = total;
      }
      __syncthreads();  // the scratch may be written again right after
    }
  }
};

// Registers per thread for each cached row: a warp team holds 1024 elements of a row (8 vectors of
// floats, 4 of halves, or 8 scalars: 256), a block team 4 vectors (4096 floats, 8192 halves). Longer
// rows read the rest from memory (L2) when they need it again.
template <int N>
inline constexpr int kWarpCache = N == 8 ? 4 : 8;
inline constexpr int kBlockCache = 4;

// Whether rows of `width` elements fit a warp team's registers.
template <int N>
inline bool WarpRows(std::size_t width) {
  return width <= static_cast<std::size_t>(kWarpSize) * kWarpCache<N> * N;
}

// Steps per run for kernels whose teams walk runs of consecutive steps: short enough to give every
// multiprocessor ~32 warp teams (4 block teams), long enough that re-reading the row before each run
// costs little.
inline std::size_t RunLength(std::size_t batch, std::size_t steps, bool warpTeams, int multiprocessors) {
  const std::size_t teams = static_cast<std::size_t>(multiprocessors > 0 ? multiprocessors : 1) * (warpTeams ? 32 : 4);
  std::size_t length = (batch * steps + teams - 1) / teams;
  if (length > steps) length = steps;
  return length > 0 ? length : 1;
}

// lengths[i] when it lies in [0, width] (else 0, after recording index i in failures[slot] when
// `record`), or width without lengths.
__device__ __forceinline__ std::size_t RowLength(const std::int32_t* lengths, std::size_t i, std::size_t width, bool record,
                                                 FailureKey* failures, int slot) {
  if (!lengths) return width;
  const std::int32_t length = __ldg(lengths + i);
  if (length < 0 || static_cast<std::size_t>(length) > width) {
    if (record) RecordFailure(failures, slot, i);
    return 0;
  }
  return static_cast<std::size_t>(length);
}

// Blocks for `teams` teams of kPerBlock per block, capped (the kernels loop over the rest).
inline unsigned GridFor(std::size_t teams, int perBlock, int multiprocessors) {
  const std::size_t cap = static_cast<std::size_t>(multiprocessors > 0 ? multiprocessors : 1) * 64;
  std::size_t blocks = (teams + perBlock - 1) / perBlock;
  if (blocks > cap) blocks = cap;
  return static_cast<unsigned>(blocks > 0 ? blocks : 1);
}

// Multiprocessors of the current device (for grid sizes).
int Multiprocessors();

// The steps [t0, t1) of sequence b that a run-walking team's run number covers.
struct StepRun {
  std::size_t b, t0, t1;
};
__device__ __forceinline__ StepRun RunAt(std::size_t run, std::size_t steps, std::size_t runLength) {
  const std::size_t runsPerSequence = (steps + runLength - 1) / runLength;
  const std::size_t t0 = (run % runsPerSequence) * runLength;
  return {run / runsPerSequence, t0, t0 + runLength < steps ? t0 + runLength : steps};
}

// Loads the chunks of a row below `length` into a team's registers: register j of a lane holds chunk
// lane + j·kTeamSize. Chunks past the length are not read (N divides the row width, so the last chunk
// read ends inside the row).
template <typename T, int N, int kCache, int kTeamSize>
__device__ __forceinline__ void LoadRow(typename Chunk<T, N>::Raw (&regs)[kCache], const T* row, std::size_t length, int lane) {
  const std::size_t chunks = (length + N - 1) / N;
#pragma unroll
  for (int j = 0; j < kCache; ++j) {
    const std::size_t c = lane + static_cast<std::size_t>(j) * kTeamSize;
    if (c < chunks) regs[j] = Chunk<T, N>::Load(row + c * N);
  }
}

// Calls f(k0, raw chunk, whole) for the chunks of a row below `limit`: cached ones from registers,
// the rest from memory. `whole`: the chunk lies wholly below the limit.
template <typename T, int N, int kCache, int kTeamSize, typename F>
__device__ __forceinline__ void VisitRow(const typename Chunk<T, N>::Raw (&regs)[kCache], const T* row, std::size_t limit,
                                         int lane, F&& f) {
  const std::size_t chunks = (limit + N - 1) / N;
#pragma unroll
  for (int j = 0; j < kCache; ++j) {
    const std::size_t c = lane + static_cast<std::size_t>(j) * kTeamSize;
    if (c < chunks) f(c * N, regs[j], (c + 1) * N <= limit);
  }
  for (std::size_t c = lane + static_cast<std::size_t>(kCache) * kTeamSize; c < chunks; c += kTeamSize)
    f(c * N, Chunk<T, N>::Load(row + c * N), (c + 1) * N <= limit);
}

// The same over a pair of rows: f(k0, raw previous chunk, raw current chunk, whole).
template <typename T, int N, int kCache, int kTeamSize, typename F>
__device__ __forceinline__ void VisitPair(const typename Chunk<T, N>::Raw (&prev)[kCache], const typename Chunk<T, N>::Raw (&cur)[kCache],
                                          const T* prevRow, const T* row, std::size_t limit, int lane, F&& f) {
  const std::size_t chunks = (limit + N - 1) / N;
#pragma unroll
  for (int j = 0; j < kCache; ++j) {
    const std::size_t c = lane + static_cast<std::size_t>(j) * kTeamSize;
    if (c < chunks) f(c * N, prev[j], cur[j], (c + 1) * N <= limit);
  }
  for (std::size_t c = lane + static_cast<std::size_t>(kCache) * kTeamSize; c < chunks; c += kTeamSize)
    f(c * N, Chunk<T, N>::Load(prevRow + c * N), Chunk<T, N>::Load(row + c * N), (c + 1) * N <= limit);
}

// Launches a kernel whose teams walk runs of consecutive steps of rows `width` long: the warp-team
// instantiation when a row fits a warp's registers, else the block-team one. Both take `args`
// followed by the run length.
template <int N, typename WarpKernel, typename BlockKernel, typename... Args>
void LaunchRuns(WarpKernel warpKernel, BlockKernel blockKernel, std::size_t batch, std::size_t steps, std::size_t width,
                cudaStream_t stream, Args... args) {
  const int sms = Multiprocessors();
  const bool warpTeams = WarpRows<N>(width);
  const std::size_t runLength = RunLength(batch, steps, warpTeams, sms);
  const std::size_t runs = batch * ((steps + runLength - 1) / runLength);
  if (warpTeams)
    warpKernel<<<GridFor(runs, Team<1>::kPerBlock, sms), kBlockThreads, 0, stream>>>(args..., runLength);
  else
    blockKernel<<<GridFor(runs, 1, sms), kBlockThreads, 0, stream>>>(args..., runLength);
}

// Calls f with a value of the storage type of `dtype` (float, __half or __nv_bfloat16).
template <typename F>
int DispatchFloat(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kFloat16: return f(__half{});
    case DType::kBFloat16: return f(__nv_bfloat16{});
    default: return f(0.0f);
  }
}

// Starts an entry point's work: clears the thread's last CUDA error (the launches are checked with
// cudaGetLastError at the end) and resets the failure slots, when the caller wants reports.
int BeginCall(FailureKey* failures, cudaStream_t stream);

// PolicyLoss (cuda_kernels.hpp) without resetting the failure slots first, for kernels that run it
// as one phase of their own work (logits_policy_loss.cu: on the ℓ it computed) and keep the
// reports of their earlier phases. policy_loss.cu.
int EnqueuePolicyLoss(const PolicyLossDeviceInputs& in, const PolicyLossConfig& config, float* grad, double* metrics,
                      FailureKey* failures, cudaStream_t stream);

}  // namespace dyco::cuda::detail
