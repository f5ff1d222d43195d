// attentionStats on the device, fused: a team walks a run of consecutive steps of one sequence with
// the previous row and the key labels in registers. One read of each attention row gives both
// region masses below the row's length (the ratios), both masses below the common prefix with the
// previous row, and, from the same registers, both Fisher–Rao shifts.
#include "common.cuh"
#include "row_math.cuh"

namespace dyco::cuda {
namespace {

using namespace detail;

constexpr unsigned kVisionLabel = 1;
constexpr unsigned kTextLabel = 2;
constexpr double kRatioFloor = 1e-8;  // method §4: ρ = r / max(r_vis + r_txt, 1e-8)

// The N labels of a chunk, one byte each, packed four to a word.
template <int N>
struct Labels {
  unsigned word[(N + 3) / 4];
  __device__ __forceinline__ void Load(const std::uint8_t* modality, std::size_t k0) {
#pragma unroll
    for (int w = 0; w < (N + 3) / 4; ++w) word[w] = 0;
#pragma unroll
    for (int e = 0; e < N; ++e) word[e / 4] |= static_cast<unsigned>(__ldg(modality + k0 + e)) << (8 * (e % 4));
  }
  __device__ __forceinline__ unsigned operator[](int e) const { return (word[e / 4] >> (8 * (e % 4))) & 0xffu; }
};

// What one row adds up to, reduced over the team in one go.
enum RowSum : int {
  kVisWhole,   // current row, vision keys below its length
  kTxtWhole,   // current row, text keys below its length
  kVisPrefix,  // current row, vision keys below the common prefix m
  kTxtPrefix,
  kVisPrev,    // previous row, vision keys below m
  kTxtPrev,
  kVisCount,   // vision keys below m
  kTxtCount,
  kBadCurrent,   // > 0: a region key of the current row below its length is bad
  kBadPrevious,  // > 0: a region key of the previous row below m is bad
  kSums
};

template <typename T, int N, int kTeamWarps, int kCache>
__global__ void __launch_bounds__(kBlockThreads)
    AttentionStatsKernel(const T* __restrict__ attn, std::size_t batch, std::size_t steps, std::size_t keys,
                         const std::uint8_t* __restrict__ modality, const std::int32_t* __restrict__ lengths,
                         AttentionStatsOutputs out, FailureKey* failures, std::size_t runLength) {
  using TeamT = Team<kTeamWarps>;
  using C = Chunk<T, N>;
  __shared__ double scratch[kSums * kTeamWarps];
  const int lane = TeamT::Lane();
  const std::size_t runs = batch * ((steps + runLength - 1) / runLength);

  if (TeamT::Global() == 0) {
    for (std::size_t k = lane; k < keys; k += TeamT::kSize)
      if (__ldg(modality + k) > kTextLabel) RecordFailure(failures, 0, k);
  }

  // The labels of the cached chunks, shared by every row.
  Labels<N> labels[kCache];
#pragma unroll
  for (int j = 0; j < kCache; ++j) {
    const std::size_t c = lane + static_cast<std::size_t>(j) * TeamT::kSize;
    if (c < keys / N) labels[j].Load(modality, c * N);
  }

  for (std::size_t run = TeamT::Global(); run < runs; run += TeamT::Count()) {
    const StepRun r = RunAt(run, steps, runLength);
    const std::size_t b = r.b, t0 = r.t0, t1 = r.t1;
    typename C::Raw prev[kCache], cur[kCache];
    std::size_t prevLength = 0;
    const T* prevRow = nullptr;
    if (t0 > 0) {
      const std::size_t i = b * steps + t0 - 1;
      prevLength = RowLength(lengths, i, keys, false, failures, 1);
      prevRow = attn + i * keys;
      LoadRow<T, N, kCache, TeamT::kSize>(prev, prevRow, prevLength, lane);
    }
    for (std::size_t t = t0; t < t1; ++t) {
      const std::size_t i = b * steps + t;
      const std::size_t length = RowLength(lengths, i, keys, lane == 0, failures, 1);
      const T* row = attn + i * keys;
      LoadRow<T, N, kCache, TeamT::kSize>(cur, row, length, lane);
      const std::size_t m = t == 0 ? 0 : (prevLength < length ? prevLength : length);

      // Visits the chunks below `limit` with (first key, previous row's values, current row's
      // values, labels); previous-row values are only meaningful below m.
      auto visit = [&](std::size_t limit, auto&& f) {
        const std::size_t chunks = (limit + N - 1) / N;
        const typename C::Raw zero{};
#pragma unroll
        for (int j = 0; j < kCache; ++j) {
          const std::size_t c = lane + static_cast<std::size_t>(j) * TeamT::kSize;
          if (c < chunks) f(c * N, prev[j], cur[j], labels[j]);
        }
        for (std::size_t c = lane + static_cast<std::size_t>(kCache) * TeamT::kSize; c < chunks; c += TeamT::kSize) {
          Labels<N> l;
          l.Load(modality, c * N);
          f(c * N, c * N < m ? C::Load(prevRow + c * N) : zero, C::Load(row + c * N), l);
        }
      };

      double sums[kSums] = {};
      visit(length, [&](std::size_t k0, const typename C::Raw& rawP, const typename C::Raw& rawC, const Labels<N>& l) {
        float vp[N], vc[N];
        C::Widen(rawP, vp);
        C::Widen(rawC, vc);
        float visWhole[N], txtWhole[N], visPrefix[N], txtPrefix[N], visPrev[N], txtPrev[N];
        int visCount = 0, txtCount = 0;
        bool badCur = false, badPrev = false;
#pragma unroll
        for (int e = 0; e < N; ++e) {
          const std::size_t k = k0 + e;
          const bool vis = l[e] == kVisionLabel, txt = l[e] == kTextLabel;
          const bool whole = k < length, prefix = k < m;
          badCur |= whole & (vis | txt) & BadProbability(vc[e]);
          badPrev |= prefix & (vis | txt) & BadProbability(vp[e]);
          // Selects, never products: keys that are not read may hold NaN.
          visWhole[e] = whole & vis ? vc[e] : 0.0f;
          txtWhole[e] = whole & txt ? vc[e] : 0.0f;
          visPrefix[e] = prefix & vis ? vc[e] : 0.0f;
          txtPrefix[e] = prefix & txt ? vc[e] : 0.0f;
          visPrev[e] = prefix & vis ? vp[e] : 0.0f;
          txtPrev[e] = prefix & txt ? vp[e] : 0.0f;
          visCount += prefix & vis;
          txtCount += prefix & txt;
        }
        sums[kVisWhole] += SumChunk(visWhole);
        sums[kTxtWhole] += SumChunk(txtWhole);
        sums[kVisPrefix] += SumChunk(visPrefix);
        sums[kTxtPrefix] += SumChunk(txtPrefix);
        sums[kVisPrev] += SumChunk(visPrev);
        sums[kTxtPrev] += SumChunk(txtPrev);
        sums[kVisCount] += visCount;
        sums[kTxtCount] += txtCount;
        sums[kBadCurrent] += badCur ? 1.0 : 0.0;
        sums[kBadPrevious] += badPrev ? 1.0 : 0.0;
      });
      TeamT::Sum(sums, scratch);

      if (sums[kBadCurrent] > 0.0) {
        // Rare path: name every bad region key of this row; the smallest flat index wins. (A bad
        // key of the previous row is named by the team that had it as its current row.)
        for (std::size_t k = lane; k < length; k += TeamT::kSize) {
          const unsigned label = __ldg(modality + k);
          if ((label == kVisionLabel || label == kTextLabel) && BadProbability(LoadElement(row + k)))
            RecordFailure(failures, 2, static_cast<FailureKey>(i) * keys + k);
        }
      }
      float frVis = 0.0f, frTxt = 0.0f;
      if (m > 0 && sums[kBadCurrent] == 0.0 && sums[kBadPrevious] == 0.0) {
        const Normaliser pv = MakeNormaliser(sums[kVisPrev], sums[kVisCount]);
        const Normaliser cv = MakeNormaliser(sums[kVisPrefix], sums[kVisCount]);
        const Normaliser pt = MakeNormaliser(sums[kTxtPrev], sums[kTxtCount]);
        const Normaliser ct = MakeNormaliser(sums[kTxtPrefix], sums[kTxtCount]);
        double d2[2] = {0.0, 0.0};
        auto distance = [&](auto fast) {
          constexpr bool kFast = decltype(fast)::value;
          visit(m, [&](std::size_t k0, const typename C::Raw& rawP, const typename C::Raw& rawC, const Labels<N>& l) {
            float vp[N], vc[N];
            C::Widen(rawP, vp);
            C::Widen(rawC, vc);
            float sv = 0.0f, st = 0.0f;
#pragma unroll
            for (int e = 0; e < N; ++e) {
              const bool vis = l[e] == kVisionLabel, txt = l[e] == kTextLabel, in = k0 + e < m;
              const float d = SqrtDifference<kFast>(vp[e], vis ? pv : pt, vc[e], vis ? cv : ct);
              sv += in & vis ? d * d : 0.0f;
              st += in & txt ? d * d : 0.0f;
            }
            d2[0] += sv;
            d2[1] += st;
          });
        };
        if (pv.fast && cv.fast && pt.fast && ct.fast) distance(std::true_type{});
        else distance(std::false_type{});
        TeamT::Sum(d2, scratch);
        frVis = sums[kVisCount] > 0 ? FisherRaoFromDistanceSquared(d2[0]) : 0.0f;
        frTxt = sums[kTxtCount] > 0 ? FisherRaoFromDistanceSquared(d2[1]) : 0.0f;
      }
      if (lane == 0) {
        const double total = sums[kVisWhole] + sums[kTxtWhole];
        const double denominator = total > kRatioFloor ? total : kRatioFloor;
        out.ratioVis[i] = static_cast<float>(sums[kVisWhole] / denominator);
        out.ratioTxt[i] = static_cast<float>(sums[kTxtWhole] / denominator);
        out.frVis[i] = frVis;
        out.frTxt[i] = frTxt;
      }
#pragma unroll
      for (int j = 0; j < kCache; ++j) prev[j] = cur[j];
      prevLength = length;
      prevRow = row;
    }
  }
}

template <typename T, int N>
void Launch(const T* attn, std::size_t batch, std::size_t steps, std::size_t keys, const std::uint8_t* modality,
            const std::int32_t* lengths, AttentionStatsOutputs out, FailureKey* failures, cudaStream_t stream) {
  LaunchRuns<N>(AttentionStatsKernel<T, N, 1, kWarpCache<N>>, AttentionStatsKernel<T, N, kBlockThreads / kWarpSize, kBlockCache>,
                batch, steps, keys, stream, attn, batch, steps, keys, modality, lengths, out, failures);
}

}  // namespace

int AttentionStats(Input attn, std::size_t batch, std::size_t steps, std::size_t keys, const std::uint8_t* modality,
                   const std::int32_t* lengths, AttentionStatsOutputs out, FailureKey* failures, void* stream) {
  auto s = static_cast<cudaStream_t>(stream);
  if (int e = detail::BeginCall(failures, s)) return e;
  if (batch == 0 || steps == 0) {
    if (keys == 0 || !failures) return cudaSuccess;
    // Nothing to compute, but the labels are still checked (the CPU checks them first).
    batch = 0;
  }
  return detail::DispatchFloat(attn.dtype, [&](auto tag) -> int {
    using T = decltype(tag);
    const auto* data = static_cast<const T*>(attn.data);
    if (detail::VectorRows<T>(attn.data, keys))
      Launch<T, detail::kVectorWidth<T>>(data, batch, steps, keys, modality, lengths, out, failures, s);
    else
      Launch<T, 1>(data, batch, steps, keys, modality, lengths, out, failures, s);
    return cudaGetLastError();
  });
}

}  // namespace dyco::cuda
