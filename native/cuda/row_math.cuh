// The Fisher–Rao arithmetic of native/row_math.hpp on the device: the normaliser of a row (or
// region), the stable per-entry term (√p̂ − √q̂)² and FR from the summed terms.
//
// The CPU forms p̂ = x·scale + offset in float64 and takes the difference there, so that two
// nearly equal entries lose nothing when subtracted. In float64 on a GPU that costs conversions
// that run at 1/8 (A100, H100) to 1/64 (consumer parts) of the float32 rate, so the device keeps
// scale and offset as float pairs (hi + lo) and forms p̂ as an unevaluated float sum: hi part
// RN(x·scaleHi), lo part the exact product error (one fma) plus x·scaleLo. The two hi parts are
// subtracted exactly when they are close (Sterbenz), so √p̂ − √q̂ = (p̂ − q̂)/(√p̂ + √q̂) keeps the
// CPU's accuracy. The float pairs need scale in [1e-30, 1e30]; a row whose mass lies outside
// takes the CPU's float64 form instead (the whole team, so nothing diverges).
#pragma once
#include <cfloat>

#include "common.cuh"

namespace dyco::cuda::detail {

struct Normaliser {
  double scale;   // p̂ = x·scale + offset, as on the CPU (row_math.hpp: NormaliserFor)
  double offset;
  float scaleHi, scaleLo, offsetHi, offsetLo;
  bool fast;  // the float pairs are usable
};

// 1/sum for a row (region) of mass `sum` over n entries; a zero-mass row is uniform.
__device__ __forceinline__ Normaliser MakeNormaliser(double sum, double n) {
  Normaliser z;
  z.scale = sum > 0 ? 1.0 / sum : 0.0;
  z.offset = sum > 0 ? 0.0 : (n > 0 ? 1.0 / n : 0.0);
  z.scaleHi = static_cast<float>(z.scale);
  z.scaleLo = static_cast<float>(z.scale - static_cast<double>(z.scaleHi));
  z.offsetHi = static_cast<float>(z.offset);
  z.offsetLo = static_cast<float>(z.offset - static_cast<double>(z.offsetHi));
  z.fast = z.scale == 0.0 || (z.scale >= 1e-30 && z.scale <= 1e30);
  return z;
}

// √p̂ − √q̂ for raw entries a, b (only the square is used).
template <bool kFast>
__device__ __forceinline__ float SqrtDifference(float a, const Normaliser& na, float b, const Normaliser& nb) {
  if constexpr (kFast) {
    // Exactly one of scale and offset is non-zero, so hi + lo is a·scale + offset to ~2^-47.
    const float ah = __fmaf_rn(a, na.scaleHi, na.offsetHi);
    const float al = __fadd_rn(__fmaf_rn(a, na.scaleHi, __fsub_rn(na.offsetHi, ah)), __fmaf_rn(a, na.scaleLo, na.offsetLo));
    const float bh = __fmaf_rn(b, nb.scaleHi, nb.offsetHi);
    const float bl = __fadd_rn(__fmaf_rn(b, nb.scaleHi, __fsub_rn(nb.offsetHi, bh)), __fmaf_rn(b, nb.scaleLo, nb.offsetLo));
    const float numerator = __fadd_rn(__fsub_rn(ah, bh), __fsub_rn(al, bl));
    const float denominator = sqrtf(ah) + sqrtf(bh);
    // Both square roots 0 → numerator 0 too; FLT_MIN keeps 0/0 out and changes nothing else.
    return numerator / (denominator + FLT_MIN);
  } else {
    const double x = static_cast<double>(a) * na.scale + na.offset;
    const double y = static_cast<double>(b) * nb.scale + nb.offset;
    const float numerator = static_cast<float>(x - y);
    const float denominator = sqrtf(static_cast<float>(x)) + sqrtf(static_cast<float>(y));
    return numerator / (denominator + FLT_MIN);
  }
}

// FR = 4·asin(½·‖√p̂ − √q̂‖), clamped into [0, π] (row_math.hpp: FisherRaoFromDistanceSquared).
__device__ __forceinline__ float FisherRaoFromDistanceSquared(double d2) {
  const double half = 0.5 * sqrt(d2);
  return static_cast<float>(4.0 * asin(half < 1.0 ? half : 1.0));
}

// Pairs of rows (fisherRao: p and q; fisherRaoAdjacent: the previous and the current row), a chunk
// of each at a time, over their elements below `limit` (entries at or past it are never used, and
// may be NaN).

// Adds the chunks' masses to sums[0] (a) and sums[1] (b), and 1 to sums[2] if either holds a bad entry.
template <typename T, int N>
__device__ __forceinline__ void AddPairMass(const typename Chunk<T, N>::Raw& rawA, const typename Chunk<T, N>::Raw& rawB,
                                            std::size_t k0, std::size_t limit, double (&sums)[3]) {
  float va[N], vb[N];
  Chunk<T, N>::Widen(rawA, va);
  Chunk<T, N>::Widen(rawB, vb);
  bool bad = false;
#pragma unroll
  for (int e = 0; e < N; ++e) {
    const bool in = k0 + e < limit;
    bad |= in & (BadProbability(va[e]) | BadProbability(vb[e]));
    va[e] = in ? va[e] : 0.0f;  // selects, never products: NaN · 0 is NaN
    vb[e] = in ? vb[e] : 0.0f;
  }
  sums[0] += SumChunk(va);
  sums[1] += SumChunk(vb);
  sums[2] += bad ? 1.0 : 0.0;
}

// Σ (√â − √b̂)² over the chunks' elements below `limit`, as a float32 sum.
template <bool kFast, typename T, int N>
__device__ __forceinline__ float PairDistance(const typename Chunk<T, N>::Raw& rawA, const typename Chunk<T, N>::Raw& rawB,
                                              std::size_t k0, std::size_t limit, const Normaliser& na, const Normaliser& nb) {
  float va[N], vb[N];
  Chunk<T, N>::Widen(rawA, va);
  Chunk<T, N>::Widen(rawB, vb);
  float s = 0.0f;
#pragma unroll
  for (int e = 0; e < N; ++e) {
    const float d = SqrtDifference<kFast>(va[e], na, vb[e], nb);
    s += k0 + e < limit ? d * d : 0.0f;
  }
  return s;
}

// The rare path after a bad entry: records every bad entry of a[0..n) and b[0..n) in failures[slot]
// under the keys base + k and base + offsetB + k (the smallest one wins).
template <typename T>
__device__ void RecordBadPair(const T* a, const T* b, std::size_t n, FailureKey base, FailureKey offsetB, int lane,
                              int teamSize, FailureKey* failures, int slot) {
  for (std::size_t k = lane; k < n; k += teamSize) {
    if (BadProbability(LoadElement(a + k))) RecordFailure(failures, slot, base + k);
    if (BadProbability(LoadElement(b + k))) RecordFailure(failures, slot, base + offsetB + k);
  }
}

}  // namespace dyco::cuda::detail
