#include "row_math.hpp"

#include "simd.hpp"

#include <cfloat>

namespace dyco {

DYCO_MULTIVERSION Mass SumChecked(const float* a, std::size_t n) {
  double sum = 0.0;
  float lowest = 0.0f;
#pragma omp simd reduction(+ : sum) reduction(min : lowest)
  for (std::size_t k = 0; k < n; ++k) {
    sum += static_cast<double>(a[k]);
    lowest = a[k] < lowest ? a[k] : lowest;
  }
  return {sum, std::isfinite(sum) && !(lowest < 0.0f)};
}

std::size_t FirstInvalid(const float* a, std::size_t n) {
  for (std::size_t k = 0; k < n; ++k) {
    if (!(a[k] >= 0.0f) || std::isinf(a[k])) return k;
  }
  return n;
}

// √x − √y is evaluated as (x − y)/(√x + √y): the numerator is formed in float64, where the
// subtraction of two nearly equal normalised entries loses nothing, so float32 square roots in the
// denominator only cost a relative error of ~1e-7 per term. That halves the float64 work (the
// square roots dominated) while keeping the distance accurate to ~1e-7 relative even for tiny shifts.
DYCO_MULTIVERSION double SqrtDistanceSquared(const float* a, Normaliser na, const float* b, Normaliser nb,
                                             std::size_t n) {
  const double sa = na.scale, oa = na.offset, sb = nb.scale, ob = nb.offset;
  double acc = 0.0;
#pragma omp simd reduction(+ : acc)
  for (std::size_t k = 0; k < n; ++k) {
    double x = static_cast<double>(a[k]) * sa + oa;
    double y = static_cast<double>(b[k]) * sb + ob;
    float numerator = static_cast<float>(x - y);
    float denominator = std::sqrt(static_cast<float>(x)) + std::sqrt(static_cast<float>(y));
    // Where both square roots are 0 so is the numerator; FLT_MIN keeps 0/0 out without a branch and
    // is far below any non-zero denominator (≥ √FLT_TRUE_MIN ≈ 3.7e-23), so it changes nothing else.
    float d = numerator / (denominator + FLT_MIN);
    acc += static_cast<double>(d) * static_cast<double>(d);
  }
  return acc;
}

const char* SimdLevel() {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    return "avx512";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
  return "baseline";
#else
  return "baseline";
#endif
}

}  // namespace dyco
