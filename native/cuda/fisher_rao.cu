// fisherRao on the device: one team per pair of rows (p row i, q row i). The team reads both rows
// once into registers while summing their masses, reduces, and takes the distance from the
// registers; only rows longer than the registers hold (the block's 4 vectors per thread) read
// their remainder a second time, from L2. As in fisher_rao_adjacent.cu, entries are screened with
// one OR per pair (the exact check runs only for flagged rows) and the distance takes the ratio
// form (row_math.cuh: RatioTerm) when both masses are ordinary.
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
  __shared__ double scratch[2 * kTeamWarps];
  const int lane = TeamT::Lane();
  const std::size_t chunks = cols / N;  // N divides cols (the host picks N so)

  for (std::size_t row = TeamT::Global(); row < rows; row += TeamT::Count()) {
    const T* a = p + row * cols;
    const T* b = q + row * cols;
    typename C::Raw ra[kCache], rb[kCache];
    // The masses of the p and q rows, and the OR of their entries' bits (common.cuh: SignScreen).
    double sums[2] = {0.0, 0.0};
    unsigned signBits = 0;
    auto addMass = [&](const typename C::Raw& rawA, const typename C::Raw& rawB) {
      float va[N], vb[N];
      C::Widen(rawA, va);
      C::Widen(rawB, vb);
      sums[0] += SumChunk(va);
      sums[1] += SumChunk(vb);
      signBits |= SignScreen(va) | SignScreen(vb);
    };
#pragma unroll
    for (int j = 0; j < kCache; ++j) {
      const std::size_t c = lane + static_cast<std::size_t>(j) * TeamT::kSize;
      if (c < chunks) {
        ra[j] = C::Load(a + c * N);
        rb[j] = C::Load(b + c * N);
        addMass(ra[j], rb[j]);
      }
    }
    for (std::size_t c = lane + static_cast<std::size_t>(kCache) * TeamT::kSize; c < chunks; c += TeamT::kSize)
      addMass(C::Load(a + c * N), C::Load(b + c * N));
    TeamT::Sum(sums, scratch);

    // The exact check, for rows the screen flagged: the smallest key (row, p before q, column) wins.
    if (TeamT::Any(ScreenFlagsEntry(signBits, sums[0] + sums[1])) &&
        TeamT::Any(RecordBadPair(a, b, cols, static_cast<FailureKey>(row) * 2 * cols, cols, lane, TeamT::kSize, failures, 0))) {
      if (lane == 0) out[row] = 0.0f;
      continue;
    }

    double d2[1] = {0.0};
    if (RatioFormApplies(sums[0], sums[1])) {
      const RatioForm form = MakeRatioForm(sums[0], sums[1]);
      VisitPair<T, N, kCache, TeamT::kSize>(ra, rb, a, b, cols, lane,
          [&](std::size_t, const typename C::Raw& rawA, const typename C::Raw& rawB, bool) {
            d2[0] += RatioChunkSum<T, N>(rawA, rawB, form);  // (N divides cols: every chunk is whole)
          });
      TeamT::Sum(d2, scratch);
      d2[0] *= form.inverseMass;
    } else {
      const Normaliser na = MakeNormaliser(sums[0], static_cast<double>(cols));
      const Normaliser nb = MakeNormaliser(sums[1], static_cast<double>(cols));
      VisitPair<T, N, kCache, TeamT::kSize>(ra, rb, a, b, cols, lane,
          [&](std::size_t k0, const typename C::Raw& rawA, const typename C::Raw& rawB, bool) {
            d2[0] += PairDistance<T, N>(rawA, rawB, k0, cols, na, nb);
          });
      TeamT::Sum(d2, scratch);
    }
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
  if (int e = detail::BeginCall(failures, s)) return e;
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
