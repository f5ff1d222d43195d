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
                            const std::int32_t* __restrict__ lengths, float* __restrict__ out, FailureKey* failures,
                            std::size_t runLength) {
  using TeamT = Team<kTeamWarps>;
  using C = Chunk<T, N>;
  __shared__ double scratch[3 * kTeamWarps];
  const int lane = TeamT::Lane();
  const std::size_t runs = batch * ((steps + runLength - 1) / runLength);

  for (std::size_t run = TeamT::Global(); run < runs; run += TeamT::Count()) {
    const StepRun r = RunAt(run, steps, runLength);
    const std::size_t b = r.b, t0 = r.t0, t1 = r.t1;
    typename C::Raw prev[kCache], cur[kCache];
    std::size_t prevLength = 0;
    const T* prevRow = nullptr;
    if (t0 > 0) {
      const std::size_t i = b * steps + t0 - 1;
      prevLength = RowLength(lengths, i, width, false, failures, 0);  // its own team reports it
      prevRow = x + i * width;
      LoadRow<T, N, kCache, TeamT::kSize>(prev, prevRow, prevLength, lane);
    }
    for (std::size_t t = t0; t < t1; ++t) {
      const std::size_t i = b * steps + t;
      const std::size_t length = RowLength(lengths, i, width, lane == 0, failures, 0);
      const T* row = x + i * width;
      LoadRow<T, N, kCache, TeamT::kSize>(cur, row, length, lane);
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
          AddPairMass<T, N>(rawP, rawC, k0, m, sums);
        });
        TeamT::Sum(sums, scratch);
        if (sums[2] > 0.0) {
          // The smallest key (pair, previous before current, column) wins.
          RecordBadPair(prevRow, row, m, static_cast<FailureKey>(i) * 2 * width, width, lane, TeamT::kSize, failures, 1);
          if (lane == 0) out[i] = 0.0f;
        } else {
          const Normaliser np = MakeNormaliser(sums[0], static_cast<double>(m));
          const Normaliser nc = MakeNormaliser(sums[1], static_cast<double>(m));
          double d2[1] = {0.0};
          auto distance = [&](auto fast) {
            constexpr bool kFast = decltype(fast)::value;
            visit([&](std::size_t k0, const typename C::Raw& rawP, const typename C::Raw& rawC) {
              d2[0] += PairDistance<kFast, T, N>(rawP, rawC, k0, m, np, nc);
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
  LaunchRuns<N>(FisherRaoAdjacentKernel<T, N, 1, kWarpCache<N>>, FisherRaoAdjacentKernel<T, N, kBlockThreads / kWarpSize, kBlockCache>,
                batch, steps, width, stream, x, batch, steps, width, lengths, out, failures);
}

}  // namespace

int FisherRaoAdjacent(Input x, std::size_t batch, std::size_t steps, std::size_t width, const std::int32_t* lengths,
                      float* out, FailureKey* failures, void* stream) {
  auto s = static_cast<cudaStream_t>(stream);
  if (int e = detail::BeginCall(failures, s)) return e;
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
