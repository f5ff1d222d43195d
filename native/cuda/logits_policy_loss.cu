// logitsPolicyLoss on the device (cuda_kernels.hpp: LogitsPolicyLoss), the three phases of the CPU
// kernel (logits_policy_loss.hpp) as three steps on one stream:
//  1. RowStatsKernel: one 256-thread block per (b, t) row (grid-stride over rows). Each thread
//     streams its 16-byte vectors of the row (4 loads in flight), keeping an online log-sum-exp:
//     a running max m and Σ exp((x − m)/T) — float32 exp of a float32 argument, as the CPU's
//     VecExpF, summed in float32 within a vector and in float64 across vectors, rescaled in
//     float64 when m grows. The block combines the threads' (m, Σ) in a fixed order (block max,
//     then Team::Sum of the rescaled float64 sums), so ℓ = (x_target − m)/T − log Σ (float64) is
//     bit-identical from run to run. It validates the row in the same pass (NaN/+∞ entries, no
//     finite entry, −∞ target) and the mask and target id, and keeps m and log Σ for phase 3.
//  2. detail::EnqueuePolicyLoss (policy_loss.cu) on the ℓ buffer: loss, metrics and g = ∂loss/∂ℓ.
//  3. GradientKernel: one block per row writes g·(1[v = target] − softmax_v)/T: each entry as the
//     CPU's LogitsRowGradientLoop, scale·exp((x − m)/T − log Σ) in float32, then the target entry
//     g·(−expm1(ℓ))/T in float64 after a barrier. It first reads the failure slots and writes
//     nothing if any check of phases 1–2 failed (so in place, the logits survive an error).
// Extra device memory: m, log Σ and g (3 floats per row) and PolicyLoss's per-sequence slots.
#include <cfloat>
#include <cmath>

#include "common.cuh"

namespace dyco::cuda {
namespace {

using namespace detail;

constexpr int kWarps = kBlockThreads / kWarpSize;
constexpr int kUnroll = 4;  // 16-byte loads each thread keeps in flight
using BlockTeam = Team<kWarps>;

// The maximum of v over the block; every thread gets it.
__device__ __forceinline__ float BlockMax(float v, float* scratch) {
#pragma unroll
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  if (threadIdx.x % kWarpSize == 0) scratch[warp] = v;
  __syncthreads();
  float m = scratch[0];
#pragma unroll
  for (int w = 1; w < kWarps; ++w) m = fmaxf(m, scratch[w]);
  __syncthreads();
  return m;
}

// Calls f(first element, widened values) for every chunk of a row of `vocab` elements: chunk c of
// N elements goes to thread c mod kBlockThreads (N divides vocab: vectors, or N = 1). kReadOnly:
// see Chunk::Load (false where f may write the row it reads).
template <typename T, int N, bool kReadOnly = true, typename F>
__device__ __forceinline__ void ForEachChunk(const T* row, std::size_t vocab, F&& f) {
  using C = Chunk<T, N>;
  const std::size_t chunks = vocab / N;
  std::size_t c = threadIdx.x;
  for (; c + (kUnroll - 1) * kBlockThreads < chunks; c += kUnroll * kBlockThreads) {
    typename C::Raw raw[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) raw[u] = C::template Load<kReadOnly>(row + (c + u * kBlockThreads) * N);
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      float x[N];
      C::Widen(raw[u], x);
      f((c + u * kBlockThreads) * N, x);
    }
  }
  for (; c < chunks; c += kBlockThreads) {
    float x[N];
    C::Widen(C::template Load<kReadOnly>(row + c * N), x);
    f(c * N, x);
  }
}

// One thread's online log-sum-exp state: Σ exp((x − max)·invT) over the entries it has seen.
struct OnlineSum {
  float max = -INFINITY;
  double sum = 0.0;
  bool bad = false;  // some entry is NaN or +∞

  template <int N>
  __device__ __forceinline__ void Add(const float (&x)[N], float invT) {
    float chunkMax = -INFINITY;
#pragma unroll
    for (int e = 0; e < N; ++e) {
      bad |= !(x[e] <= FLT_MAX);
      chunkMax = fmaxf(chunkMax, x[e]);
    }
    if (!(chunkMax > -INFINITY)) return;  // every entry −∞ (or NaN: the row is bad anyway)
    if (chunkMax > max) {
      sum *= exp((static_cast<double>(max) - chunkMax) * static_cast<double>(invT));  // exp(−∞) = 0 at first
      max = chunkMax;
    }
    float s = 0.0f;  // every term ≤ 1
#pragma unroll
    for (int e = 0; e < N; ++e) s += expf((x[e] - max) * invT);
    sum += s;
  }
};

template <typename T, int N>
__global__ void __launch_bounds__(kBlockThreads)
    RowStatsKernel(const T* __restrict__ logits, const std::int32_t* __restrict__ targets,
                   const std::uint8_t* __restrict__ mask, std::size_t rows, std::size_t vocab, float invTf, double invT,
                   float* __restrict__ logp, float* __restrict__ rowMax, float* __restrict__ rowLogSum,
                   FailureKey* failures) {
  __shared__ float maxScratch[kWarps];
  __shared__ double sumScratch[2 * kWarps];
  for (std::size_t i = blockIdx.x; i < rows; i += gridDim.x) {
    const unsigned m = __ldg(mask + i);
    if (m == 0) {
      if (threadIdx.x == 0) logp[i] = 0.0f;
      continue;
    }
    const std::int32_t target = __ldg(targets + i);
    if (target < 0 || static_cast<std::size_t>(target) >= vocab) {  // never read out of the row
      if (threadIdx.x == 0) {
        if (m > 1) RecordFailure(failures, 0, i);
        RecordFailure(failures, 2, i);
        logp[i] = 0.0f;
      }
      continue;
    }
    const T* row = logits + i * vocab;
    OnlineSum state;
    ForEachChunk<T, N>(row, vocab, [&](std::size_t, const float (&x)[N]) { state.Add(x, invTf); });
    const float rowMaxValue = BlockMax(state.max, maxScratch);
    double totals[2] = {state.max > -INFINITY
                            ? state.sum * exp((static_cast<double>(state.max) - rowMaxValue) * static_cast<double>(invTf))
                            : 0.0,
                        state.bad ? 1.0 : 0.0};
    BlockTeam::Sum(totals, sumScratch);
    if (threadIdx.x == 0) {
      if (m > 1) RecordFailure(failures, 0, i);
      const float x = LoadElement(row + target);
      if (totals[1] != 0.0 || !(rowMaxValue > -INFINITY) || !(x > -INFINITY)) {
        RecordFailure(failures, 3, i);
        logp[i] = 0.0f;
        rowMax[i] = 0.0f;
        rowLogSum[i] = 0.0f;
      } else {
        const double logSum = log(totals[0]);
        rowMax[i] = rowMaxValue;
        rowLogSum[i] = static_cast<float>(logSum);
        logp[i] = static_cast<float>((static_cast<double>(x) - rowMaxValue) * invT - logSum);
      }
    }
  }
}

template <typename Out>
__device__ __forceinline__ unsigned short NarrowBits(float v) {
  if constexpr (std::is_same_v<Out, __half>) return __half_as_ushort(__float2half_rn(v));
  else return __bfloat16_as_ushort(__float2bfloat16_rn(v));
}

// Stores N float32 values at p as Out (float32, or the logits' half type in place): 16-byte stores
// when N > 1 (p is then 16-byte aligned).
template <typename Out, int N>
__device__ __forceinline__ void StoreChunk(Out* p, const float (&v)[N]) {
  if constexpr (std::is_same_v<Out, float>) {
    if constexpr (N == 1) {
      *p = v[0];
    } else {
#pragma unroll
      for (int k = 0; k < N; k += 4) *reinterpret_cast<float4*>(p + k) = make_float4(v[k], v[k + 1], v[k + 2], v[k + 3]);
    }
  } else if constexpr (N == 1) {
    *reinterpret_cast<unsigned short*>(p) = NarrowBits<Out>(v[0]);
  } else {
    static_assert(N == 8, "a vector of halves holds 8");
    uint4 w;
    w.x = NarrowBits<Out>(v[0]) | (static_cast<unsigned>(NarrowBits<Out>(v[1])) << 16);
    w.y = NarrowBits<Out>(v[2]) | (static_cast<unsigned>(NarrowBits<Out>(v[3])) << 16);
    w.z = NarrowBits<Out>(v[4]) | (static_cast<unsigned>(NarrowBits<Out>(v[5])) << 16);
    w.w = NarrowBits<Out>(v[6]) | (static_cast<unsigned>(NarrowBits<Out>(v[7])) << 16);
    *reinterpret_cast<uint4*>(p) = w;
  }
}

// Out: float (a separate float32 buffer) or T (in place over the logits).
template <typename T, typename Out, int N>
__global__ void __launch_bounds__(kBlockThreads)
    GradientKernel(const T* logits, Out* out, const std::int32_t* __restrict__ targets,
                   const std::uint8_t* __restrict__ mask, const float* __restrict__ logp,
                   const float* __restrict__ gradLogp, const float* __restrict__ rowMax,
                   const float* __restrict__ rowLogSum, std::size_t rows, std::size_t vocab, float invTf, double invT,
                   const FailureKey* failures) {
  __shared__ int failed;
  if (threadIdx.x == 0) {
    int any = 0;
    for (int k = 0; k < kFailureSlots; ++k) any |= failures[k] != kNoFailure;
    failed = any;
  }
  __syncthreads();
  if (failed) return;  // a check failed: the gradient (and an in-place buffer) is left alone
  for (std::size_t i = blockIdx.x; i < rows; i += gridDim.x) {
    Out* o = out + i * vocab;
    const double g = gradLogp[i];
    if (__ldg(mask + i) == 0 || g == 0.0) {  // masked, or a clipped token: the whole row's gradient is 0
      const float zeros[N] = {};
      for (std::size_t c = threadIdx.x; c < vocab / N; c += kBlockThreads) StoreChunk<Out, N>(o + c * N, zeros);
      continue;
    }
    const float scale = static_cast<float>(-g * invT), max = rowMax[i], logSum = rowLogSum[i];
    // Coherent loads: `out` may be these very logits (in place), which this loop overwrites.
    ForEachChunk<T, N, false>(logits + i * vocab, vocab, [&](std::size_t v0, const float (&x)[N]) {
      float y[N];
#pragma unroll
      for (int e = 0; e < N; ++e) y[e] = scale * expf((x[e] - max) * invTf - logSum);
      StoreChunk<Out, N>(o + v0, y);
    });
    __syncthreads();  // the target entry's softmax term is written; overwrite it
    if (threadIdx.x == 0) {
      const float target[1] = {static_cast<float>(g * invT * -expm1(static_cast<double>(logp[i])))};
      StoreChunk<Out, 1>(o + __ldg(targets + i), target);
    }
  }
}

template <typename T>
cudaError_t LaunchPhases1(const LogitsPolicyLossDeviceInputs& in, bool vectors, unsigned blocks, cudaStream_t s,
                          float invTf, double invT, float* logp, float* rowMax, float* rowLogSum, FailureKey* failures) {
  const auto* logits = static_cast<const T*>(in.logits.data);
  const std::size_t rows = in.batch * in.steps;
  if (vectors)
    RowStatsKernel<T, kVectorWidth<T>><<<blocks, kBlockThreads, 0, s>>>(logits, in.targets, in.mask, rows, in.vocab, invTf,
                                                                          invT, logp, rowMax, rowLogSum, failures);
  else
    RowStatsKernel<T, 1><<<blocks, kBlockThreads, 0, s>>>(logits, in.targets, in.mask, rows, in.vocab, invTf, invT, logp,
                                                           rowMax, rowLogSum, failures);
  return cudaGetLastError();
}

template <typename T, typename Out>
cudaError_t LaunchGradient(const LogitsPolicyLossDeviceInputs& in, void* out, bool vectors, unsigned blocks,
                           cudaStream_t s, float invTf, double invT, const float* logp, const float* gradLogp,
                           const float* rowMax, const float* rowLogSum, const FailureKey* failures) {
  const auto* logits = static_cast<const T*>(in.logits.data);
  auto* o = static_cast<Out*>(out);
  const std::size_t rows = in.batch * in.steps;
  if (vectors)
    GradientKernel<T, Out, kVectorWidth<T>><<<blocks, kBlockThreads, 0, s>>>(
        logits, o, in.targets, in.mask, logp, gradLogp, rowMax, rowLogSum, rows, in.vocab, invTf, invT, failures);
  else
    GradientKernel<T, Out, 1><<<blocks, kBlockThreads, 0, s>>>(logits, o, in.targets, in.mask, logp, gradLogp, rowMax,
                                                                rowLogSum, rows, in.vocab, invTf, invT, failures);
  return cudaGetLastError();
}

}  // namespace

int LogitsPolicyLoss(const LogitsPolicyLossDeviceInputs& in, const PolicyLossConfig& config,
                     const LogitsPolicyLossDeviceOutputs& out, FailureKey* failures, void* stream) {
  if (!(in.temperature > 0.0) || !std::isfinite(in.temperature) || in.vocab == 0 || (!out.logp && in.batch * in.steps > 0) || !out.metrics ||
      (out.gradLogits && out.inPlace && out.gradLogits != in.logits.data))
    return cudaErrorInvalidValue;
  auto s = static_cast<cudaStream_t>(stream);
  const std::size_t rows = in.batch * in.steps;
  // Workspace from the stream-ordered pool: the failure slots when the caller keeps none (phase 3
  // reads them), then m, log Σ and g per row.
  const std::size_t slotBytes = failures ? 0 : kFailureSlots * sizeof(FailureKey);
  const std::size_t rowBytes = (rows > 0 ? rows : 1) * sizeof(float);
  void* workspace = nullptr;
  if (cudaError_t e = cudaMallocAsync(&workspace, slotBytes + 3 * rowBytes, s)) return e;
  char* base = static_cast<char*>(workspace);
  FailureKey* slots = failures ? failures : reinterpret_cast<FailureKey*>(base);
  auto* rowMax = reinterpret_cast<float*>(base + slotBytes);
  auto* rowLogSum = reinterpret_cast<float*>(base + slotBytes + rowBytes);
  auto* gradLogp = reinterpret_cast<float*>(base + slotBytes + 2 * rowBytes);

  const double invT = 1.0 / in.temperature;
  const float invTf = static_cast<float>(invT);
  const unsigned blocks = detail::GridFor(rows, 1, detail::Multiprocessors());
  cudaError_t error = static_cast<cudaError_t>(detail::BeginCall(slots, s));
  if (!error && rows > 0) {
    error = static_cast<cudaError_t>(detail::DispatchFloat(in.logits.dtype, [&](auto zero) -> int {
      using T = decltype(zero);
      return LaunchPhases1<T>(in, detail::VectorRows<T>(in.logits.data, in.vocab), blocks, s, invTf, invT, out.logp, rowMax,
                              rowLogSum, slots);
    }));
  }
  if (!error) {
    const PolicyLossDeviceInputs loss{{out.logp, DType::kFloat32}, in.oldLogp, in.refLogp, in.advantages,
                                      in.perTokenAdvantages,       in.mask,    in.batch,   in.steps};
    error = static_cast<cudaError_t>(detail::EnqueuePolicyLoss(loss, config, gradLogp, out.metrics, slots, s));
  }
  if (!error && out.gradLogits && rows > 0) {
    error = static_cast<cudaError_t>(detail::DispatchFloat(in.logits.dtype, [&](auto zero) -> int {
      using T = decltype(zero);
      // Vectors need both rows 16-byte aligned: the logits' (VectorRows) and the output's (a float32
      // row of a multiple of 4 entries, or the logits themselves in place).
      const bool vectors = detail::VectorRows<T>(in.logits.data, in.vocab) &&
                           reinterpret_cast<std::uintptr_t>(out.gradLogits) % 16 == 0;
      if (out.inPlace)
        return LaunchGradient<T, T>(in, out.gradLogits, vectors, blocks, s, invTf, invT, out.logp, gradLogp, rowMax,
                                    rowLogSum, slots);
      return LaunchGradient<T, float>(in, out.gradLogits, vectors, blocks, s, invTf, invT, out.logp, gradLogp, rowMax,
                                      rowLogSum, slots);
    }));
  }
  const cudaError_t freed = cudaFreeAsync(workspace, s);
  return error ? error : freed;
}

}  // namespace dyco::cuda
