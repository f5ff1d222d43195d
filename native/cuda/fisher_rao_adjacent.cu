// fisherRaoAdjacent on the device. A team walks a run of consecutive steps of one sequence, so each
// row is read from DRAM once: as the current row of its pair, and a step later once more, as the
// previous row of the next pair, from L1 if it is still there (the same threads loaded it one step
// earlier, and a step reads a few KiB per warp against an L1 of up to 256 KiB). Copying the
// cached chunks from register to register instead cost more than the loads: the compiler rotated
// them through a third set of registers, 58–65 more instructions a 1024-entry step (static SASS
// counts, scripts/sass/counts.py). Only the first pair of a run reads its previous row from farther
// away (L2: the team that ended on it ran at the same time).
//
// The kernel is bound by instructions, not memory, unless each entry costs few of them: at H200
// bandwidth a multiprocessor must finish a bfloat16 entry in ~16 lane-instructions (~31 for float32).
// So, per step:
//  - one pass over the current row sums its mass below the common prefix m and over [m, length)
//    (chunks wholly inside one range without per-entry bounds), and screens the entries with one
//    OR per pair of entries (common.cuh: SignScreen); the previous row's mass below m is carried from
//    its own step (its whole mass, when m is its length) and only summed again when rows shrink;
//  - the distance takes the ratio form (row_math.cuh: RatioTerm) when both masses are ordinary, else
//    the float64 form of SqrtDifference;
//  - a screened entry sends the pair to the exact check, which records the bad entries below m.
#include "common.cuh"
#include "row_math.cuh"

namespace dyco::cuda {
namespace {

using namespace detail;

// Per thread, then per team: the mass of a row below m, its mass over [m, length), and the OR of
// its entries' bits below the length (SignScreen).
struct RowMasses {
  double sums[2];  // below m, over [m, length)
  unsigned signBits;
};

template <typename T, int N, int kCache, typename TeamT>
__device__ __forceinline__ RowMasses SumRow(const typename Chunk<T, N>::Raw (&regs)[kCache], const T* row, std::size_t m,
                                            std::size_t length, int lane, double* scratch) {
  RowMasses r{{0.0, 0.0}, 0u};
  auto add = [&](std::size_t k0, const typename Chunk<T, N>::Raw& raw, bool whole) {
    float v[N];
    Chunk<T, N>::Widen(raw, v);
    if (whole && k0 + N <= m) {
      r.sums[0] += SumChunk(v);
      r.signBits |= SignScreen(v);
    } else if (whole && k0 >= m) {
      r.sums[1] += SumChunk(v);
      r.signBits |= SignScreen(v);
    } else {  // the chunks holding m or the length: selects, never products (NaN · 0 is NaN)
      float below[N], above[N];
#pragma unroll
      for (int e = 0; e < N; ++e) {
        const std::size_t k = k0 + e;
        below[e] = k < m ? v[e] : 0.0f;
        above[e] = k >= m && k < length ? v[e] : 0.0f;
      }
      r.sums[0] += SumChunk(below);
      r.sums[1] += SumChunk(above);
      r.signBits |= SignScreen(below) | SignScreen(above);
    }
  };
  VisitRow<T, N, kCache, TeamT::kSize>(regs, row, length, lane, add);
  TeamT::Sum(r.sums, scratch);
  return r;
}

// Two blocks per multiprocessor (≤ 128 registers a thread): twice the loads in flight of one. At 3
// (≤ 80) ptxas spills (sm_90, nvcc 13.0: up to 190 bytes of stores a thread in bfloat16, 490 in
// float32). scripts/build-variants.sh can build that for an A/B on the GPU
// ('adj3|-DDYCO_ADJACENT_MIN_BLOCKS=3'; not among the variants prepared so far): bfloat16 rows ran
// at 25% occupancy and 60% of the copy bandwidth on an H200.
#ifndef DYCO_ADJACENT_MIN_BLOCKS
#define DYCO_ADJACENT_MIN_BLOCKS 2
#endif

template <typename T, int N, int kTeamWarps, int kCache>
__global__ void __launch_bounds__(kBlockThreads, DYCO_ADJACENT_MIN_BLOCKS)
    FisherRaoAdjacentKernel(const T* __restrict__ x, std::size_t batch, std::size_t steps, std::size_t width,
                            const std::int32_t* __restrict__ lengths, float* __restrict__ out, FailureKey* failures,
                            std::size_t runLength) {
  using TeamT = Team<kTeamWarps>;
  using C = Chunk<T, N>;
  __shared__ double scratch[2 * kTeamWarps];
  const int lane = TeamT::Lane();
  const std::size_t runs = batch * ((steps + runLength - 1) / runLength);

  for (std::size_t run = TeamT::Global(); run < runs; run += TeamT::Count()) {
    const StepRun r = RunAt(run, steps, runLength);
    const std::size_t b = r.b, t0 = r.t0, t1 = r.t1;
    typename C::Raw prev[kCache], cur[kCache];
    std::size_t prevLength = 0;
    const T* prevRow = nullptr;
    // The previous row's mass below its length, and whether the screen flagged an entry there.
    double prevMass = 0.0;
    bool prevScreened = false;
    if (t0 > 0) {
      const std::size_t i = b * steps + t0 - 1;
      prevLength = RowLength(lengths, i, width, false, failures, 0);  // its own team reports it
      prevRow = x + i * width;
      LoadRow<T, N, kCache, TeamT::kSize>(prev, prevRow, prevLength, lane);
      const RowMasses p = SumRow<T, N, kCache, TeamT>(prev, prevRow, prevLength, prevLength, lane, scratch);
      prevMass = p.sums[0];
      prevScreened = TeamT::Any(ScreenFlagsEntry(p.signBits, p.sums[0]));
    }
    for (std::size_t t = t0; t < t1; ++t) {
      const std::size_t i = b * steps + t;
      const std::size_t length = RowLength(lengths, i, width, lane == 0, failures, 0);
      const T* row = x + i * width;
      // (the run's first previous row was loaded above; the others were loaded by these threads a
      // step ago, so they should come from L1: see the top of the file)
      if (t > t0) LoadRow<T, N, kCache, TeamT::kSize>(prev, prevRow, prevLength, lane);
      LoadRow<T, N, kCache, TeamT::kSize>(cur, row, length, lane);
      const std::size_t m = t == 0 ? 0 : (prevLength < length ? prevLength : length);
      const RowMasses c = SumRow<T, N, kCache, TeamT>(cur, row, m, length, lane, scratch);
      const bool screened = TeamT::Any(ScreenFlagsEntry(c.signBits, c.sums[0] + c.sums[1]));

      float fr = 0.0f;
      if (t > 0 && m > 0) {
        double massPrev = prevMass;
        if (m < prevLength) {  // the rows shrink: the previous row's mass below m
          massPrev = SumRow<T, N, kCache, TeamT>(prev, prevRow, m, m, lane, scratch).sums[0];
        }
        const double massCur = c.sums[0];
        // The exact check, for pairs the screen flagged: the smallest key (pair, previous before
        // current, column) wins.
        const bool bad = (prevScreened || screened) &&
                         TeamT::Any(RecordBadPair(prevRow, row, m, static_cast<FailureKey>(i) * 2 * width, width, lane,
                                                  TeamT::kSize, failures, 1));
        if (!bad) {
          double d2[1] = {0.0};
          if (RatioFormApplies(massPrev, massCur)) {
            const RatioForm form = MakeRatioForm(massPrev, massCur);
            VisitPair<T, N, kCache, TeamT::kSize>(prev, cur, prevRow, row, m, lane,
                [&](std::size_t k0, const typename C::Raw& rawP, const typename C::Raw& rawC, bool whole) {
                  if (whole) {
                    d2[0] += RatioChunkSum<T, N>(rawP, rawC, form);
                  } else {  // the chunk holding m: selects, never products (entries past m may be NaN)
                    float vp[N], vc[N];
                    C::Widen(rawP, vp);
                    C::Widen(rawC, vc);
                    float s = 0.0f;
#pragma unroll
                    for (int e = 0; e < N; ++e) {
                      const float term = k0 + e < m ? RatioTerm(vp[e], vc[e], form) : 0.0f;
                      s = __fmaf_rn(term, term, s);
                    }
                    d2[0] += s;
                  }
                });
            TeamT::Sum(d2, scratch);
            d2[0] *= form.inverseMass;
          } else {
            const Normaliser np = MakeNormaliser(massPrev, static_cast<double>(m));
            const Normaliser nc = MakeNormaliser(massCur, static_cast<double>(m));
            VisitPair<T, N, kCache, TeamT::kSize>(prev, cur, prevRow, row, m, lane,
                [&](std::size_t k0, const typename C::Raw& rawP, const typename C::Raw& rawC, bool) {
                  d2[0] += PairDistance<T, N>(rawP, rawC, k0, m, np, nc);
                });
            TeamT::Sum(d2, scratch);
          }
          fr = FisherRaoFromDistanceSquared(d2[0]);
        }
      }
      if (lane == 0) out[i] = fr;
      prevLength = length;
      prevRow = row;
      prevMass = c.sums[0] + c.sums[1];
      prevScreened = screened;
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
