// fisherRaoAdjacent on the device. A team walks a run of consecutive steps of one sequence and keeps
// the previous row in registers, so each row is read from memory once: as the current row of its
// pair, then reused from registers as the previous row of the next one. Only the first pair of a
// run reads its previous row again (from L2: the team that ended on it ran at the same time). The
// masses are taken over the common prefix of each pair, from registers, so growing, shrinking and
// empty prefixes all cost one read.
#include "common.cuh"
#include "row_math.cuh"

namespace dyco::cuda {
namespace {

using namespace detail;

template <typename T, int N, int kTeamWarps, int kCache>
// Two blocks per multiprocessor (≤ 128 registers a thread): twice the loads in flight of one.
__global__ void __launch_bounds__(kBlockThreads, 2)
    FisherRaoAdjacentKernel(const T* __restrict__ x, std::size_t batch, std::size_t steps, std::size_t width,
                            const std::int32_t* __restrict__ lengths, std::size_t runLength, float* __restrict__ out,
                            FailureKey* failures) {
  using TeamT = Team<kTeamWarps>;
  using C = Chunk<T, N>;
  __shared__ double scratch[3 * kTeamWarps];
  const int lane = TeamT::Lane();
  const std::size_t runsPerSequence = (steps + runLength - 1) / runLength;
  const std::size_t runs = batch * runsPerSequence;

  for (std::size_t run = TeamT::Global(); run < runs; run += TeamT::Count()) {
    const std::size_t b = run / runsPerSequence;
    const std::size_t t0 = (run % runsPerSequence) * runLength;
    const std::size_t t1 = t0 + runLength < steps ? t0 + runLength : steps;
    typename C::Raw prev[kCache], cur[kCache];
    std::size_t prevLength = 0;
    const T* prevRow = nullptr;
    auto load = [&](typename C::Raw (&regs)[kCache], const T* row, std::size_t length) {
      const std::size_t chunks = (length + N - 1) / N;  // never past the row's length (N divides width)
#pragma unroll
      for (int j = 0; j < kCache; ++j) {
        const std::size_t c = lane + static_cast<std::size_t>(j) * TeamT::kSize;
        if (c < chunks) regs[j] = C::Load(row + c * N);
      }
    };
    if (t0 > 0) {
      const std::size_t i = b * steps + t0 - 1;
      prevLength = RowLength(lengths, i, width, false, failures, 0);  // its own team reports it
      prevRow = x + i * width;
      load(prev, prevRow, prevLength);
    }
    for (std::size_t t = t0; t < t1; ++t) {
      const std::size_t i = b * steps + t;
      const std::size_t length = RowLength(lengths, i, width, lane == 0, failures, 0);
      const T* row = x + i * width;
      load(cur, row, length);
      if (t == 0) {
        if (lane == 0) out[i] = 0.0f;
      } else {
        const std::size_t m = prevLength < length ? prevLength : length;
        const std::size_t chunks = (m + N - 1) / N;
        // Visits the pair's chunks below the prefix: cached ones from registers, the rest from memory.
        auto visit = [&](auto&& f) {
#pragma unroll
          for (int j = 0; j < kCache; ++j) {
            const std::size_t c = lane + static_cast<std::size_t>(j) * TeamT::kSize;
            if (c < chunks) f(c * N, prev[j], cur[j]);
          }
          for (std::size_t c = lane + static_cast<std::size_t>(kCache) * TeamT::kSize; c < chunks; c += TeamT::kSize)
            f(c * N, C::Load(prevRow + c * N), C::Load(row + c * N));
        };
        // sums[0], sums[1]: masses of the previous and current row below m; sums[2] > 0: bad entry.
        double sums[3] = {0.0, 0.0, 0.0};
        visit([&](std::size_t k0, const typename C::Raw& rawP, const typename C::Raw& rawC) {
          float vp[N], vc[N];
          C::Widen(rawP, vp);
          C::Widen(rawC, vc);
          bool bad = false;
#pragma unroll
          for (int e = 0; e < N; ++e) {
            const bool in = k0 + e < m;  // entries past the prefix are never used (they may be NaN)
            bad |= in & (BadProbability(vp[e]) | BadProbability(vc[e]));
            vp[e] = in ? vp[e] : 0.0f;
            vc[e] = in ? vc[e] : 0.0f;
          }
          sums[0] += SumChunk(vp);
          sums[1] += SumChunk(vc);
          sums[2] += bad ? 1.0 : 0.0;
        });
        TeamT::Sum(sums, scratch);
        if (sums[2] > 0.0) {
          // Rare path: name every bad entry of the pair; the smallest key (pair, previous before
          // current, column) wins.
          const FailureKey base = static_cast<FailureKey>(i) * 2 * width;
          for (std::size_t k = lane; k < m; k += TeamT::kSize) {
            if (BadProbability(LoadElement(prevRow + k))) RecordFailure(failures, 1, base + k);
            if (BadProbability(LoadElement(row + k))) RecordFailure(failures, 1, base + width + k);
          }
          if (lane == 0) out[i] = 0.0f;
        } else {
          const Normaliser np = MakeNormaliser(sums[0], static_cast<double>(m));
          const Normaliser nc = MakeNormaliser(sums[1], static_cast<double>(m));
          double d2[1] = {0.0};
          auto distance = [&](auto fast) {
            constexpr bool kFast = decltype(fast)::value;
            visit([&](std::size_t k0, const typename C::Raw& rawP, const typename C::Raw& rawC) {
              float vp[N], vc[N];
              C::Widen(rawP, vp);
              C::Widen(rawC, vc);
              float s = 0.0f;
#pragma unroll
              for (int e = 0; e < N; ++e) {
                const float d = SqrtDifference<kFast>(vp[e], np, vc[e], nc);
                s += k0 + e < m ? d * d : 0.0f;
              }
              d2[0] += s;
            });
          };
          if (np.fast && nc.fast) distance(std::true_type{});
          else distance(std::false_type{});
          TeamT::Sum(d2, scratch);
          if (lane == 0) out[i] = m == 0 ? 0.0f : FisherRaoFromDistanceSquared(d2[0]);
        }
      }
#pragma unroll
      for (int j = 0; j < kCache; ++j) prev[j] = cur[j];
      prevLength = length;
      prevRow = row;
    }
  }
}


template <typename T, int N>
void Launch(const T* x, std::size_t batch, std::size_t steps, std::size_t width, const std::int32_t* lengths,
            float* out, FailureKey* failures, cudaStream_t stream) {
  const int sms = Multiprocessors();
  const bool warpTeams = WarpRows<N>(width);
  const std::size_t runLength = RunLength(batch, steps, warpTeams, sms);
  const std::size_t runs = batch * ((steps + runLength - 1) / runLength);
  if (warpTeams) {
    FisherRaoAdjacentKernel<T, N, 1, kWarpCache<N>><<<GridFor(runs, Team<1>::kPerBlock, sms), kBlockThreads, 0, stream>>>(
        x, batch, steps, width, lengths, runLength, out, failures);
  } else {
    FisherRaoAdjacentKernel<T, N, kBlockThreads / kWarpSize, kBlockCache>
        <<<GridFor(runs, 1, sms), kBlockThreads, 0, stream>>>(x, batch, steps, width, lengths, runLength, out, failures);
  }
}

}  // namespace

int FisherRaoAdjacent(Input x, std::size_t batch, std::size_t steps, std::size_t width, const std::int32_t* lengths,
                      float* out, FailureKey* failures, void* stream) {
  auto s = static_cast<cudaStream_t>(stream);
  if (int e = detail::ResetFailures(failures, s)) return e;
  if (batch == 0 || steps == 0) return cudaSuccess;
  return detail::DispatchFloat(x.dtype, [&](auto tag) -> int {
    using T = decltype(tag);
    const auto* data = static_cast<const T*>(x.data);
    if (detail::VectorRows<T>(x.data, width))
      Launch<T, detail::kVectorWidth<T>>(data, batch, steps, width, lengths, out, failures, s);
    else
      Launch<T, 1>(data, batch, steps, width, lengths, out, failures, s);
    return cudaGetLastError();
  });
}

}  // namespace dyco::cuda
