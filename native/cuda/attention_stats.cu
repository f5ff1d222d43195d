// attentionStats on the device, fused: a team walks a run of consecutive steps of one sequence with
// the key labels in registers. One read of each attention row from DRAM gives both region masses
// below the row's length (the ratios), both masses below the common prefix with the previous row,
// and, from the same registers, both Fisher–Rao shifts; the previous row is loaded again, from L1
// if it is still there (as in fisher_rao_adjacent.cu: fewer instructions than carrying it over in
// registers, 86 fewer a float32 step and 40 a bfloat16 one).
//
// Per entry the budget is small (fisher_rao_adjacent.cu says why), so the step is built as there:
// one pass over the current row sums each region's mass below the prefix m and over [m, length)
// and screens the region entries (common.cuh: SignScreen); the previous row's region masses below m
// are carried from its own step (summed again only when rows shrink); the shifts take the ratio
// form (row_math.cuh: RatioTerm) when all four masses are ordinary, else the float64 form with the
// uniform rule for empty regions; a screened row goes to the exact check.
#include "common.cuh"
#include "row_math.cuh"

namespace dyco::cuda {
namespace {

using namespace detail;

constexpr unsigned kVisionLabel = 1;
constexpr unsigned kTextLabel = 2;
constexpr double kRatioFloor = 1e-8;  // method §4: ρ = r / max(r_vis + r_txt, 1e-8)

// The labels of a chunk's N keys as two bit masks: bit e of `vision` (of `text`) is set when key
// k0 + e is a vision (text) key.
struct LabelBits {
  unsigned vision, text;
  // (a test against a constant mask is one instruction; a shift and a test are three)
  __device__ __forceinline__ bool Vision(int e) const { return (vision & (1u << e)) != 0u; }
  __device__ __forceinline__ bool Text(int e) const { return (text & (1u << e)) != 0u; }
  // The labels of the keys below k0 + n only (0 ≤ n ≤ N ≤ 8).
  __device__ __forceinline__ LabelBits Below(unsigned n) const {
    const unsigned keep = (1u << n) - 1u;
    return {vision & keep, text & keep};
  }
  // Whether all N keys are vision keys, or all text keys. Regions are runs of keys (the prompt's
  // text, the image, the question, the answer), so nearly every chunk is pure, and a pure chunk
  // needs no per-key label tests: its sums take one region's constants for all its keys.
  template <int N>
  __device__ __forceinline__ bool PureVision() const { return vision == (1u << N) - 1u; }
  template <int N>
  __device__ __forceinline__ bool PureText() const { return text == (1u << N) - 1u; }
};

template <int N>
__device__ __forceinline__ LabelBits LoadLabelBits(const std::uint8_t* modality, std::size_t k0) {
  LabelBits bits{0u, 0u};
#pragma unroll
  for (int e = 0; e < N; ++e) {
    const unsigned label = __ldg(modality + k0 + e);
    bits.vision |= static_cast<unsigned>(label == kVisionLabel) << e;
    bits.text |= static_cast<unsigned>(label == kTextLabel) << e;
  }
  return bits;
}

// Calls f(k0, raw previous chunk, raw current chunk, labels, whole) for the chunks below `limit`:
// cached ones (and their labels) from registers, the rest from memory. `whole`: the chunk lies
// wholly below the limit. Previous-row chunks are only read below `prevLimit` (zeros above).
template <typename T, int N, int kCache, int kTeamSize, typename F>
__device__ __forceinline__ void VisitKeys(const typename Chunk<T, N>::Raw (&prev)[kCache], const typename Chunk<T, N>::Raw (&cur)[kCache],
                                          const LabelBits (&labels)[kCache], const std::uint8_t* modality, const T* prevRow,
                                          const T* row, std::size_t prevLimit, std::size_t limit, int lane, F&& f) {
  const std::size_t chunks = (limit + N - 1) / N;
#pragma unroll
  for (int j = 0; j < kCache; ++j) {
    const std::size_t c = lane + static_cast<std::size_t>(j) * kTeamSize;
    if (c < chunks) f(c * N, prev[j], cur[j], labels[j], (c + 1) * N <= limit);
  }
  const typename Chunk<T, N>::Raw zero{};
  for (std::size_t c = lane + static_cast<std::size_t>(kCache) * kTeamSize; c < chunks; c += kTeamSize) {
    f(c * N, c * N < prevLimit ? Chunk<T, N>::Load(prevRow + c * N) : zero, Chunk<T, N>::Load(row + c * N),
      LoadLabelBits<N>(modality, c * N), (c + 1) * N <= limit);
  }
}

// A row's region masses below m and over [m, length), reduced over the team, and the OR of its
// region entries' bits below the length (SignScreen).
struct RegionMasses {
  double sums[4];  // vision below m, text below m, vision over [m, length), text over [m, length)
  unsigned signBits;
};

template <typename T, int N, int kCache, typename TeamT>
__device__ __forceinline__ RegionMasses SumRegions(const typename Chunk<T, N>::Raw (&regs)[kCache], const LabelBits (&labels)[kCache],
                                                   const std::uint8_t* modality, const T* row, std::size_t m, std::size_t length,
                                                   int lane, double* scratch) {
  RegionMasses r{{0.0, 0.0, 0.0, 0.0}, 0u};
  auto add = [&](std::size_t k0, const typename Chunk<T, N>::Raw&, const typename Chunk<T, N>::Raw& raw, const LabelBits& l,
                 bool whole) {
    float v[N];
    Chunk<T, N>::Widen(raw, v);
    // Selects, never products: keys that are not read may hold NaN.
    float vis[N], txt[N];
    const bool oneRange = whole && (k0 + N <= m || k0 >= m);
    if (oneRange && (l.template PureVision<N>() || l.template PureText<N>())) {
      const double sum = SumChunk(v);
      const bool below = k0 + N <= m, vision = l.template PureVision<N>();
      r.sums[0] += below && vision ? sum : 0.0;
      r.sums[1] += below && !vision ? sum : 0.0;
      r.sums[2] += !below && vision ? sum : 0.0;
      r.sums[3] += !below && !vision ? sum : 0.0;
      r.signBits |= SignScreen(v);
    } else if (oneRange) {
#pragma unroll
      for (int e = 0; e < N; ++e) {
        vis[e] = l.Vision(e) ? v[e] : 0.0f;
        txt[e] = l.Text(e) ? v[e] : 0.0f;
      }
      // (no r.sums[index]: a run-time index would put the array in local memory)
      const double sumVis = SumChunk(vis), sumTxt = SumChunk(txt);
      if (k0 + N <= m) {
        r.sums[0] += sumVis;
        r.sums[1] += sumTxt;
      } else {
        r.sums[2] += sumVis;
        r.sums[3] += sumTxt;
      }
      r.signBits |= SignScreen(vis) | SignScreen(txt);
    } else {  // the chunks holding m or the length: the labels of the keys in each range
      const LabelBits upToLength = l.Below(static_cast<unsigned>(length - k0 < N ? length - k0 : N));
      const LabelBits below = l.Below(static_cast<unsigned>(m > k0 ? (m - k0 < N ? m - k0 : N) : 0));
      const LabelBits above{upToLength.vision & ~below.vision, upToLength.text & ~below.text};
      float visAbove[N], txtAbove[N];
#pragma unroll
      for (int e = 0; e < N; ++e) {
        vis[e] = below.Vision(e) ? v[e] : 0.0f;
        txt[e] = below.Text(e) ? v[e] : 0.0f;
        visAbove[e] = above.Vision(e) ? v[e] : 0.0f;
        txtAbove[e] = above.Text(e) ? v[e] : 0.0f;
      }
      r.sums[0] += SumChunk(vis);
      r.sums[1] += SumChunk(txt);
      r.sums[2] += SumChunk(visAbove);
      r.sums[3] += SumChunk(txtAbove);
      r.signBits |= SignScreen(vis) | SignScreen(txt) | SignScreen(visAbove) | SignScreen(txtAbove);
    }
  };
  VisitKeys<T, N, kCache, TeamT::kSize>(regs, regs, labels, modality, row, row, 0, length, lane, add);
  TeamT::Sum(r.sums, scratch);
  return r;
}

// The exact check of a row's region keys below its length: records each bad one in failures[2]
// under key base + k (none when `failures` is null). Whether the team found one.
template <typename T, typename TeamT>
__device__ bool CheckRegionKeys(const T* row, std::size_t length, const std::uint8_t* modality, FailureKey base, int lane,
                                FailureKey* failures) {
  bool found = false;
  for (std::size_t k = lane; k < length; k += TeamT::kSize) {
    const unsigned label = __ldg(modality + k);
    if ((label == kVisionLabel || label == kTextLabel) && BadProbability(LoadElement(row + k))) {
      RecordFailure(failures, 2, base + k);
      found = true;
    }
  }
  return TeamT::Any(found);
}

// Blocks a multiprocessor must be able to hold, which sets ptxas's register budget (65536 / (256·n)
// a thread). At 1 the float32 warp kernel takes 197 registers and spills nothing, but only one block
// (8 warps) fits on a multiprocessor, which Nsight Compute showed idle on 70% of its cycles on an
// H200; at 2 (128 registers) ptxas spills 388 bytes a thread (float32). Which is faster is the GPU
// benchmark's to say: scripts/build-variants.sh builds both for scripts/gpu-check.sh's variants phase.
#ifndef DYCO_ATTENTION_MIN_BLOCKS
#define DYCO_ATTENTION_MIN_BLOCKS 1
#endif

template <typename T, int N, int kTeamWarps, int kCache>
__global__ void __launch_bounds__(kBlockThreads, DYCO_ATTENTION_MIN_BLOCKS)
    AttentionStatsKernel(const T* __restrict__ attn, std::size_t batch, std::size_t steps, std::size_t keys,
                         const std::uint8_t* __restrict__ modality, const std::int32_t* __restrict__ lengths,
                         AttentionStatsOutputs out, FailureKey* failures, std::size_t runLength) {
  using TeamT = Team<kTeamWarps>;
  using C = Chunk<T, N>;
  __shared__ double scratch[4 * kTeamWarps];
  const int lane = TeamT::Lane();
  const std::size_t runs = batch * ((steps + runLength - 1) / runLength);

  if (TeamT::Global() == 0) {
    for (std::size_t k = lane; k < keys; k += TeamT::kSize)
      if (__ldg(modality + k) > kTextLabel) RecordFailure(failures, 0, k);
  }

  // The labels of the cached chunks, shared by every row.
  LabelBits labels[kCache];
#pragma unroll
  for (int j = 0; j < kCache; ++j) {
    const std::size_t c = lane + static_cast<std::size_t>(j) * TeamT::kSize;
    labels[j] = c < keys / N ? LoadLabelBits<N>(modality, c * N) : LabelBits{0u, 0u};
  }

  for (std::size_t run = TeamT::Global(); run < runs; run += TeamT::Count()) {
    const StepRun r = RunAt(run, steps, runLength);
    const std::size_t b = r.b, t0 = r.t0, t1 = r.t1;
    typename C::Raw prev[kCache], cur[kCache];
    std::size_t prevLength = 0;
    const T* prevRow = nullptr;
    // The previous row's region masses below its length, and whether it holds a bad region key.
    double prevMass[2] = {0.0, 0.0};
    bool prevBad = false;
    if (t0 > 0) {
      const std::size_t i = b * steps + t0 - 1;
      prevLength = RowLength(lengths, i, keys, false, failures, 1);
      prevRow = attn + i * keys;
      LoadRow<T, N, kCache, TeamT::kSize>(prev, prevRow, prevLength, lane);
      const RegionMasses p = SumRegions<T, N, kCache, TeamT>(prev, labels, modality, prevRow, prevLength, prevLength, lane, scratch);
      prevMass[0] = p.sums[0];
      prevMass[1] = p.sums[1];
      // (its own team reports it: no failures here)
      prevBad = TeamT::Any(ScreenFlagsEntry(p.signBits, p.sums[0] + p.sums[1])) &&
                CheckRegionKeys<T, TeamT>(prevRow, prevLength, modality, 0, lane, nullptr);
    }
    for (std::size_t t = t0; t < t1; ++t) {
      const std::size_t i = b * steps + t;
      const std::size_t length = RowLength(lengths, i, keys, lane == 0, failures, 1);
      const T* row = attn + i * keys;
      // (the run's first previous row was loaded above; the others were loaded by these threads a
      // step ago, so they should come from L1: see the top of the file)
      if (t > t0) LoadRow<T, N, kCache, TeamT::kSize>(prev, prevRow, prevLength, lane);
      LoadRow<T, N, kCache, TeamT::kSize>(cur, row, length, lane);
      const std::size_t m = t == 0 ? 0 : (prevLength < length ? prevLength : length);
      const RegionMasses c = SumRegions<T, N, kCache, TeamT>(cur, labels, modality, row, m, length, lane, scratch);
      const double rowMass[2] = {c.sums[0] + c.sums[2], c.sums[1] + c.sums[3]};  // each region, below the length
      // Rare path: name every bad region key of this row; the smallest flat index wins. (A bad key
      // of the previous row is named by the team that had it as its current row.)
      const bool bad = TeamT::Any(ScreenFlagsEntry(c.signBits, rowMass[0] + rowMass[1])) &&
                       CheckRegionKeys<T, TeamT>(row, length, modality, static_cast<FailureKey>(i) * keys, lane, failures);

      // The squared distances of the vision and text regions, when the shifts are taken.
      double d2[2] = {0.0, 0.0};
      bool shifts = false;
      if (m > 0 && !bad && !prevBad) {
        double massPrev[2] = {prevMass[0], prevMass[1]};
        if (m < prevLength) {  // the rows shrink: the previous row's region masses below m
          const RegionMasses p = SumRegions<T, N, kCache, TeamT>(prev, labels, modality, prevRow, m, m, lane, scratch);
          massPrev[0] = p.sums[0];
          massPrev[1] = p.sums[1];
        }
        const double massCur[2] = {c.sums[0], c.sums[1]};
        if (RatioFormApplies(massPrev[0], massCur[0]) && RatioFormApplies(massPrev[1], massCur[1])) {
          // Even lanes make the vision region's form and odd lanes the text region's, side by side,
          // then swap (two float64 divisions in one instruction stream instead of four).
          const bool odd = lane & 1;
          const RatioForm mine = MakeRatioForm(odd ? massPrev[1] : massPrev[0], odd ? massCur[1] : massCur[0]);
          RatioForm other;
          other.rHi = __shfl_xor_sync(0xffffffffu, mine.rHi, 1);
          other.rLo = __shfl_xor_sync(0xffffffffu, mine.rLo, 1);
          other.sqrtR = __shfl_xor_sync(0xffffffffu, mine.sqrtR, 1);
          other.inverseMass = __shfl_xor_sync(0xffffffffu, mine.inverseMass, 1);
          const RatioForm fv = SelectForm(odd, other, mine);
          const RatioForm ft = SelectForm(odd, mine, other);
          VisitKeys<T, N, kCache, TeamT::kSize>(prev, cur, labels, modality, prevRow, row, m, m, lane,
              [&](std::size_t k0, const typename C::Raw& rawP, const typename C::Raw& rawC, const LabelBits& l, bool whole) {
                if (whole && (l.template PureVision<N>() || l.template PureText<N>())) {
                  const bool vision = l.template PureVision<N>();
                  const float s = RatioChunkSum<T, N>(rawP, rawC, SelectForm(vision, fv, ft));
                  d2[0] += vision ? s : 0.0f;
                  d2[1] += vision ? 0.0f : s;
                } else if (l.vision | l.text) {
                  float vp[N], vc[N];
                  C::Widen(rawP, vp);
                  C::Widen(rawC, vc);
                  // Mixed labels, or the chunk holding m: the terms of keys outside the regions or
                  // past m are dropped by their labels (selects, never products: they may be NaN).
                  const LabelBits in = whole ? l : l.Below(static_cast<unsigned>(m - k0));
                  float sv = 0.0f, st = 0.0f;
#pragma unroll
                  for (int e = 0; e < N; ++e) {
                    const float term = RatioTerm(vp[e], vc[e], SelectForm(l.Vision(e), fv, ft));
                    const float tv = in.Vision(e) ? term : 0.0f;
                    const float tt = in.Text(e) ? term : 0.0f;
                    sv = __fmaf_rn(tv, tv, sv);
                    st = __fmaf_rn(tt, tt, st);
                  }
                  d2[0] += sv;
                  d2[1] += st;
                }
              });
          TeamT::Sum(d2, scratch);
          d2[0] *= fv.inverseMass;
          d2[1] *= ft.inverseMass;
        } else {
          // Region keys below m: the uniform rule for a zero-mass region needs the counts.
          double counts[2] = {0.0, 0.0};
          VisitKeys<T, N, kCache, TeamT::kSize>(prev, cur, labels, modality, prevRow, row, m, m, lane,
              [&](std::size_t k0, const typename C::Raw&, const typename C::Raw&, const LabelBits& l, bool whole) {
                const unsigned below = whole ? (1u << N) - 1u : (1u << (m - k0)) - 1u;
                counts[0] += __popc(l.vision & below);
                counts[1] += __popc(l.text & below);
              });
          TeamT::Sum(counts, scratch);
          const Normaliser pv = MakeNormaliser(massPrev[0], counts[0]);
          const Normaliser cv = MakeNormaliser(massCur[0], counts[0]);
          const Normaliser pt = MakeNormaliser(massPrev[1], counts[1]);
          const Normaliser ct = MakeNormaliser(massCur[1], counts[1]);
          VisitKeys<T, N, kCache, TeamT::kSize>(prev, cur, labels, modality, prevRow, row, m, m, lane,
              [&](std::size_t k0, const typename C::Raw& rawP, const typename C::Raw& rawC, const LabelBits& l, bool) {
                float vp[N], vc[N];
                C::Widen(rawP, vp);
                C::Widen(rawC, vc);
                float sv = 0.0f, st = 0.0f;
#pragma unroll
                for (int e = 0; e < N; ++e) {
                  const bool vis = l.Vision(e), in = k0 + e < m;
                  const float d = SqrtDifference(vp[e], vis ? pv : pt, vc[e], vis ? cv : ct);
                  sv += in & vis ? d * d : 0.0f;
                  st += in & l.Text(e) ? d * d : 0.0f;
                }
                d2[0] += sv;
                d2[1] += st;
              });
          TeamT::Sum(d2, scratch);
          if (counts[0] == 0.0) d2[0] = 0.0;
          if (counts[1] == 0.0) d2[1] = 0.0;
        }
        shifts = true;
      }
      // The first warp finishes the step, lane 0 for the vision region and lane 1 for the text
      // region: one instruction stream does both (the rest of the team skips it).
      if (lane < kWarpSize) {
        const bool text = lane & 1;
        const float fr = shifts ? FisherRaoFromDistanceSquared(text ? d2[1] : d2[0]) : 0.0f;
        const double total = rowMass[0] + rowMass[1];
        const double denominator = total > kRatioFloor ? total : kRatioFloor;
        const float ratio = static_cast<float>((text ? rowMass[1] : rowMass[0]) / denominator);
        if (lane < 2) {
          (text ? out.ratioTxt : out.ratioVis)[i] = ratio;
          (text ? out.frTxt : out.frVis)[i] = fr;
        }
      }
      prevLength = length;
      prevRow = row;
      prevMass[0] = rowMass[0];
      prevMass[1] = rowMass[1];
      prevBad = bad;
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
