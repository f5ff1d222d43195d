// The emulator's stand-in for native/cuda/approx_math.cuh (the build copies every other .cuh; this one
// is found here instead): the PTX approximations sqrt.approx.ftz.f32 and rcp.approx.ftz.f32 modelled
// as the correctly rounded result moved by −2 … +2 ulp, chosen by a hash of the input, with
// subnormal inputs and results flushed to zero. The hardware promises 1 ulp, so tests that pass here
// have room to spare on a GPU.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

namespace dyco::cuda::detail {
namespace approx_model {

inline float FlushSubnormal(float x) { return std::fpclassify(x) == FP_SUBNORMAL ? std::copysign(0.0f, x) : x; }

// The correctly rounded `exact` (finite, non-zero) nudged by a deterministic −2 … +2 ulp.
inline float Perturb(float exact, float input) {
  std::uint32_t h = __builtin_bit_cast(std::uint32_t, input) * 0x9E3779B1u;
  h ^= h >> 15;
  const int ulps = static_cast<int>(h % 5u) - 2;
  float v = exact;
  for (int k = 0; k < (ulps < 0 ? -ulps : ulps); ++k)
    v = std::nextafter(v, ulps < 0 ? 0.0f : std::numeric_limits<float>::infinity());
  return FlushSubnormal(v);
}

}  // namespace approx_model

inline float ApproxSqrt(float x) {
  x = approx_model::FlushSubnormal(x);
  if (x == 0.0f || !(x > 0.0f) || std::isinf(x)) return std::sqrt(x);  // ±0, NaN, negative, +inf: exact
  return approx_model::Perturb(static_cast<float>(std::sqrt(static_cast<double>(x))), x);
}

inline float ApproxReciprocal(float x) {
  x = approx_model::FlushSubnormal(x);
  if (x == 0.0f || std::isinf(x) || std::isnan(x)) return 1.0f / x;
  return approx_model::Perturb(approx_model::FlushSubnormal(static_cast<float>(1.0 / static_cast<double>(x))), x);
}

}  // namespace dyco::cuda::detail
