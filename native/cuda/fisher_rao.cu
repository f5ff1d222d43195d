// fisherRao on the device: one team per pair of rows (p row i, q row i). The team reads both rows
// once into registers while summing their masses, reduces, and takes the distance from the
// registers; only rows longer than the registers hold (the block's 4 vectors per thread) read
// their remainder a second time, from L2.
#include "common.cuh"
#include "row_math.cuh"

namespace dyco::cuda {
namespace {

using namespace detail;

template <typename T, int N, int kTeamWarps, int kCache>
// Two blocks per multiprocessor (≤ 128 registers a thread): twice the loads in flight of one.
__global__ void __launch_bounds__(kBlockThreads, 2)
    FisherRaoKernel(const T* __restrict__ p, const T* __restrict__ q, std::size_t rows, std::size_t cols,
                    float* __restrict__ out, FailureKey* failures) {
  using TeamT = Team<kTeamWarps>;
  using C = Chunk<T, N>;
  __shared__ double scratch[3 * kTeamWarps];
  const int lane = TeamT::Lane();
  const std::size_t chunks = cols / N;  // N divides cols (the host picks N so)

  for (std::size_t row = TeamT::Global(); row < rows; row += TeamT::Count()) {
    const T* a = p + row * cols;
    const T* b = q + row * cols;
    typename C::Raw ra[kCache], rb[kCache];
    // sums[0], sums[1]: masses of the p and q rows; sums[2] > 0: a bad entry was seen.
    double sums[3] = {0.0, 0.0, 0.0};
    auto mass = [&](const typename C::Raw& rawA, const typename C::Raw& rawB) {
      float va[N], vb[N];
      C::Widen(rawA, va);
      C::Widen(rawB, vb);
      bool bad = false;
#pragma unroll
      for (int e = 0; e < N; ++e) bad |= BadProbability(va[e]) | BadProbability(vb[e]);
      sums[0] += SumChunk(va);
      sums[1] += SumChunk(vb);
      sums[2] += bad ? 1.0 : 0.0;
    };
#pragma unroll
    for (int j = 0; j < kCache; ++j) {
      const std::size_t c = lane + static_cast<std::size_t>(j) * TeamT::kSize;
      if (c < chunks) {
        ra[j] = C::Load(a + c * N);
        rb[j] = C::Load(b + c * N);
        mass(ra[j], rb[j]);
      }
    }
    for (std::size_t c = lane + static_cast<std::size_t>(kCache) * TeamT::kSize; c < chunks; c += TeamT::kSize)
      mass(C::Load(a + c * N), C::Load(b + c * N));
    TeamT::Sum(sums, scratch);

    if (sums[2] > 0.0) {
      // Rare path: name every bad entry; the smallest key (row, p before q, column) wins.
      const FailureKey base = static_cast<FailureKey>(row) * 2 * cols;
      for (std::size_t k = lane; k < cols; k += TeamT::kSize) {
        if (BadProbability(LoadElement(a + k))) RecordFailure(failures, 0, base + k);
        if (BadProbability(LoadElement(b + k))) RecordFailure(failures, 0, base + cols + k);
      }
      if (lane == 0) out[row] = 0.0f;
      continue;
    }

    const Normaliser na = MakeNormaliser(sums[0], static_cast<double>(cols));
    const Normaliser nb = MakeNormaliser(sums[1], static_cast<double>(cols));
    double d2[1] = {0.0};
    auto distance = [&](auto fast) {
      constexpr bool kFast = decltype(fast)::value;
      auto term = [&](const typename C::Raw& rawA, const typename C::Raw& rawB) {
        float va[N], vb[N];
        C::Widen(rawA, va);
        C::Widen(rawB, vb);
        float s = 0.0f;
#pragma unroll
        for (int e = 0; e < N; ++e) {
          const float d = SqrtDifference<kFast>(va[e], na, vb[e], nb);
          s += d * d;
        }
        d2[0] += s;
      };
#pragma unroll
      for (int j = 0; j < kCache; ++j) {
        const std::size_t c = lane + static_cast<std::size_t>(j) * TeamT::kSize;
        if (c < chunks) term(ra[j], rb[j]);
      }
      for (std::size_t c = lane + static_cast<std::size_t>(kCache) * TeamT::kSize; c < chunks; c += TeamT::kSize)
        term(C::Load(a + c * N), C::Load(b + c * N));
    };
    if (na.fast && nb.fast) distance(std::true_type{});
    else distance(std::false_type{});
    TeamT::Sum(d2, scratch);
    if (lane == 0) out[row] = cols == 0 ? 0.0f : FisherRaoFromDistanceSquared(d2[0]);
  }
}


template <typename T, int N>
void Launch(const void* p, const void* q, std::size_t rows, std::size_t cols, float* out, FailureKey* failures,
            cudaStream_t stream) {
  const auto* a = static_cast<const T*>(p);
  const auto* b = static_cast<const T*>(q);
  const int sms = Multiprocessors();
  if (WarpRows<N>(cols)) {
    FisherRaoKernel<T, N, 1, kWarpCache<N>>
        <<<GridFor(rows, Team<1>::kPerBlock, sms), kBlockThreads, 0, stream>>>(a, b, rows, cols, out, failures);
  } else {
    FisherRaoKernel<T, N, kBlockThreads / kWarpSize, kBlockCache>
        <<<GridFor(rows, 1, sms), kBlockThreads, 0, stream>>>(a, b, rows, cols, out, failures);
  }
}

}  // namespace

int FisherRao(Input p, Input q, std::size_t rows, std::size_t cols, float* out, FailureKey* failures, void* stream) {
  auto s = static_cast<cudaStream_t>(stream);
  if (int e = detail::ResetFailures(failures, s)) return e;
  if (p.dtype != q.dtype) return cudaErrorInvalidValue;
  if (rows == 0) return cudaSuccess;
  return detail::DispatchFloat(p.dtype, [&](auto tag) -> int {
    using T = decltype(tag);
    if (detail::VectorRows<T>(p.data, cols) && detail::VectorRows<T>(q.data, cols))
      Launch<T, detail::kVectorWidth<T>>(p.data, q.data, rows, cols, out, failures, s);
    else
      Launch<T, 1>(p.data, q.data, rows, cols, out, failures, s);
    return cudaGetLastError();
  });
}

}  // namespace dyco::cuda
