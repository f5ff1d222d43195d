// The Fisher–Rao arithmetic of native/row_math.hpp on the device: the stable per-entry term
// (√p̂ − √q̂)² of two rows (or regions) and FR from the summed terms.
//
// The CPU forms p̂ = x·scale + offset in float64 and takes the difference there, so that two
// nearly equal entries lose nothing when subtracted. The kernels have ~16–31 instructions per entry
// to spend (fisher_rao_adjacent.cu), so the common case, both masses in [2^-32, 2^32], takes the
// ratio form below (RatioTerm: the numerator exact as on the CPU, the denominator approximate);
// rows with a zero-mass (uniform) or extreme mass take the CPU's float64 form (SqrtDifference), the
// whole team at once, so nothing diverges.
#pragma once
#include <cfloat>

#include "approx_math.cuh"
#include "common.cuh"

namespace dyco::cuda::detail {

struct Normaliser {
  double scale;  // p̂ = x·scale + offset, as on the CPU (row_math.hpp: NormaliserFor)
  double offset;
};

// 1/sum for a row (region) of mass `sum` over n entries; a zero-mass row is uniform.
__device__ __forceinline__ Normaliser MakeNormaliser(double sum, double n) {
  Normaliser z;
  z.scale = sum > 0 ? 1.0 / sum : 0.0;
  z.offset = sum > 0 ? 0.0 : (n > 0 ? 1.0 / n : 0.0);
  return z;
}

// √p̂ − √q̂ for raw entries a, b (only the square is used), in float64 up to the final division.
__device__ __forceinline__ float SqrtDifference(float a, const Normaliser& na, float b, const Normaliser& nb) {
  const double x = static_cast<double>(a) * na.scale + na.offset;
  const double y = static_cast<double>(b) * nb.scale + nb.offset;
  const float numerator = static_cast<float>(x - y);
  const float denominator = sqrtf(static_cast<float>(x)) + sqrtf(static_cast<float>(y));
  // Both square roots 0 → numerator 0 too; FLT_MIN keeps 0/0 out and changes nothing else.
  return numerator / (denominator + FLT_MIN);
}

// The ratio form, for the common case of two rows (or regions) whose masses Mp, Mq lie in
// [2^-32, 2^32]: with r = Mp/Mq,
//   p̂ − q̂ = (p − r·q)/Mp   and   √p̂ + √q̂ = (√p + √r·√q)/√Mp,
// so (√p̂ − √q̂)² = (1/Mp)·t² with t = (p − r·q)/(√p + √r·√q), and ‖√p̂ − √q̂‖² = Σ t² / Mp. Per pair of
// entries that is two fma for the numerator (r as a float pair rHi + rLo: exact to ~2^-48, and
// p − rHi·q rounded once, so nearly equal p̂ and q̂ lose nothing, as in the float64 form), two
// approximate square roots and one approximate reciprocal (approx_math.cuh: ≤ 1 ulp each, so t is
// within ~4 ulp and ‖·‖² within ~1e-6 relative, i.e. FR within ~5e-7 relative) — about 9
// instructions, where float32 pairs with IEEE square roots and division took ~35. The mass range
// keeps every product finite and makes the entries that the approximations flush to zero (below
// 2^-126) too small to matter (< 2^-94 of the mass).
struct RatioForm {
  float rHi, rLo, sqrtR;
  double inverseMass;  // 1 / Mp
};

// One of two forms, chosen field by field: `c ? a : b` on the structs, passed on by reference, made
// the compiler keep both in local memory and load the chosen one's fields through an address on
// every chunk (attentionStats' 48-byte stack frame; seen in ptxas -v).
__device__ __forceinline__ RatioForm SelectForm(bool c, const RatioForm& a, const RatioForm& b) {
  RatioForm f;
  f.rHi = c ? a.rHi : b.rHi;
  f.rLo = c ? a.rLo : b.rLo;
  f.sqrtR = c ? a.sqrtR : b.sqrtR;
  f.inverseMass = c ? a.inverseMass : b.inverseMass;
  return f;
}

__device__ __forceinline__ bool RatioFormApplies(double massP, double massQ) {
  return massP >= 0x1p-32 && massP <= 0x1p32 && massQ >= 0x1p-32 && massQ <= 0x1p32;
}

__device__ __forceinline__ RatioForm MakeRatioForm(double massP, double massQ) {
  const double r = massP / massQ;
  RatioForm f;
  f.rHi = static_cast<float>(r);
  f.rLo = static_cast<float>(r - static_cast<double>(f.rHi));
  f.sqrtR = sqrtf(f.rHi);  // (only a denominator uses it: float32 is plenty, and float64 sqrt costs ~30 instructions)
  f.inverseMass = 1.0 / massP;
  return f;
}

// t for raw entries p and q (only its square is used).
__device__ __forceinline__ float RatioTerm(float p, float q, const RatioForm& f) {
  const float numerator = __fmaf_rn(-f.rLo, q, __fmaf_rn(-f.rHi, q, p));
  // p = q = 0 (or both below 2^-126, flushed): numerator ~0, and the floor keeps 0/0 out.
  const float denominator = fmaxf(__fmaf_rn(f.sqrtR, ApproxSqrt(q), ApproxSqrt(p)), 0x1p-64f);
  return numerator * ApproxReciprocal(denominator);
}

// Σ t² over two whole chunks (every entry in range), as a float32 sum.
template <typename T, int N>
__device__ __forceinline__ float RatioChunkSum(const typename Chunk<T, N>::Raw& rawP, const typename Chunk<T, N>::Raw& rawQ,
                                               const RatioForm& f) {
  float vp[N], vq[N];
  Chunk<T, N>::Widen(rawP, vp);
  Chunk<T, N>::Widen(rawQ, vq);
  float s = 0.0f;
#pragma unroll
  for (int e = 0; e < N; ++e) {
    const float term = RatioTerm(vp[e], vq[e], f);
    s = __fmaf_rn(term, term, s);
  }
  return s;
}

// FR = 4·asin(½·‖√p̂ − √q̂‖), clamped into [0, π] (row_math.hpp: FisherRaoFromDistanceSquared).
// For ‖·‖² in [2^-100, 1] (FR ≤ 2.1) asin's relative condition number stays under 1.1, so float32
// sqrtf and asinf (a few ulp by CUDA's error table) of the rounded argument keep the float32 result
// within a few ulp, at a fraction of the ~150 instructions of float64 sqrt and asin; nearer ‖·‖ = 2
// the condition number grows without bound, and far below 2^-100 float32 would lose digits to
// subnormals: the float64 form takes both.
__device__ __forceinline__ float FisherRaoFromDistanceSquared(double d2) {
  const float d2Float = static_cast<float>(d2);
  if (d2Float <= 1.0f && d2 >= 0x1p-100) return 4.0f * asinf(0.5f * sqrtf(d2Float));
  const double half = 0.5 * sqrt(d2);
  return static_cast<float>(4.0 * asin(half < 1.0 ? half : 1.0));
}

// Pairs of rows (fisherRao: p and q; fisherRaoAdjacent: the previous and the current row), a chunk
// of each at a time, over their elements below `limit` (entries at or past it are never used, and
// may be NaN).

// Σ (√â − √b̂)² over the chunks' elements below `limit`, as a float32 sum.
template <typename T, int N>
__device__ __forceinline__ float PairDistance(const typename Chunk<T, N>::Raw& rawA, const typename Chunk<T, N>::Raw& rawB,
                                              std::size_t k0, std::size_t limit, const Normaliser& na, const Normaliser& nb) {
  float va[N], vb[N];
  Chunk<T, N>::Widen(rawA, va);
  Chunk<T, N>::Widen(rawB, vb);
  float s = 0.0f;
#pragma unroll
  for (int e = 0; e < N; ++e) {
    const float d = SqrtDifference(va[e], na, vb[e], nb);
    s += k0 + e < limit ? d * d : 0.0f;
  }
  return s;
}

// The rare path after a bad entry (or what the screen took for one): records every bad entry of
// a[0..n) and b[0..n) in failures[slot] under the keys base + k and base + offsetB + k (the smallest
// one wins). Whether this thread found one.
template <typename T>
__device__ bool RecordBadPair(const T* a, const T* b, std::size_t n, FailureKey base, FailureKey offsetB, int lane,
                              int teamSize, FailureKey* failures, int slot) {
  bool found = false;
  for (std::size_t k = lane; k < n; k += teamSize) {
    if (BadProbability(LoadElement(a + k))) {
      RecordFailure(failures, slot, base + k);
      found = true;
    }
    if (BadProbability(LoadElement(b + k))) {
      RecordFailure(failures, slot, base + offsetB + k);
      found = true;
    }
  }
  return found;
}

}  // namespace dyco::cuda::detail
