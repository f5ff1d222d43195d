// Branch-free float64 elementary functions that GCC can vectorise inside `omp simd` loops (libm's
// exp is an opaque call, which keeps the loss and score loops scalar).
#pragma once
#include <cstdint>

namespace dyco {

// e^x with a relative error below 5e-16 (measured against libm) for x in [−708.3, 709]; x is clamped to that range, so the
// result stays a finite, normal double (exp(−800) gives ~3e−308 instead of 0, exp(800) gives
// ~8.2e307 instead of ∞). NaN propagates.
// static + always_inline: internal linkage, so the copies built per instruction set never mix.
static __attribute__((always_inline)) inline double VecExp(double x) {
  constexpr double kLog2e = 1.4426950408889634;
  constexpr double kLn2Hi = 0.6931471803691238;      // ln 2 split so k·kLn2Hi is exact for |k| < 2^11
  constexpr double kLn2Lo = 1.9082149292705877e-10;
  constexpr double kShifter = 6755399441055744.0;     // 1.5·2^52: adding it rounds to an integer in the low bits
  x = x < -708.3 ? -708.3 : x;
  x = x > 709.0 ? 709.0 : x;  // 709.0 keeps k ≤ 1023, so 2^k is a normal double
  double shifted = x * kLog2e + kShifter;
  double k = shifted - kShifter;  // nearest integer to x/ln2
  double r = (x - k * kLn2Hi) - k * kLn2Lo;  // |r| ≤ ln2/2
  // Taylor series to degree 12: truncation error ≤ 0.347^13/13! ≈ 1.7e-16.
  double p = 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // 2^k from the integer sitting in the low bits of `shifted`.
  // (__builtin_bit_cast rather than memcpy: memcpy makes the locals addressable, which stops
  // `omp simd` from vectorising the caller's loop.)
  // Unsigned arithmetic: a NaN input (masked lanes may hold one) gives garbage bits here, and a
  // signed shift of those would be undefined behaviour; the result is NaN either way.
  constexpr std::uint64_t kShifterBits = __builtin_bit_cast(std::uint64_t, kShifter);
  std::uint64_t scaleBits = (__builtin_bit_cast(std::uint64_t, shifted) - kShifterBits + 1023) << 52;
  return p * __builtin_bit_cast(double, scaleBits);
}

// e^x in float32 for x ≤ 88.3, relative error ≤ 3e-7 (~2.5 ulp; degree-7 Taylor on |r| ≤ ln2/2,
// truncation ≤ 5e-9, plus float rounding), for the softmax loops over the vocabulary. Below
// ln(FLT_MIN) ≈ −87.34 the result is exactly 0 (so −∞ gives 0, as a softmax needs; values that
// would be subnormal are flushed, an absolute error below 1.2e-38). Above 88.3 it saturates at
// e^88.3 ≈ 2.2e38 (callers only pass x ≤ 0). NaN propagates.
static __attribute__((always_inline)) inline float VecExpF(float x) {
  constexpr float kLog2e = 1.44269504f;
  constexpr float kLn2Hi = 0.693145752f;  // ln 2 with its low 9 bits zero: k·kLn2Hi is exact for |k| < 2^9
  constexpr float kLn2Lo = 1.42860677e-6f;
  constexpr float kShifter = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer in the low bits
  const bool underflow = x < -87.33654f;
  x = x < -87.33654f ? -87.33654f : x;
  x = x > 88.3f ? 88.3f : x;  // keeps k ≤ 127, so 2^k is a normal float
  const float shifted = x * kLog2e + kShifter;
  const float k = shifted - kShifter;
  const float r = (x - k * kLn2Hi) - k * kLn2Lo;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  constexpr std::uint32_t kShifterBits = __builtin_bit_cast(std::uint32_t, kShifter);
  const std::uint32_t scaleBits = (__builtin_bit_cast(std::uint32_t, shifted) - kShifterBits + 127u) << 23;
  const float result = p * __builtin_bit_cast(float, scaleBits);
  return underflow ? 0.0f : result;
}

// tanh through VecExp: sign(x)·(1 − e^{−2|x|})/(1 + e^{−2|x|}); absolute error ~1e-16.
static __attribute__((always_inline)) inline double VecTanh(double x) {
  double e = VecExp(-2.0 * (x < 0 ? -x : x));
  double t = (1.0 - e) / (1.0 + e);
  return x < 0 ? -t : t;
}

// True for finite x (NaN and ±∞ give NaN when subtracted from themselves); vectorises, unlike
// std::isfinite under GCC.
static __attribute__((always_inline)) inline bool IsFinite(double x) { return x - x == 0.0; }
// The float32 form, for checks over float arrays: full vector width, no conversion.
static __attribute__((always_inline)) inline bool IsFinite(float x) { return x - x == 0.0f; }

}  // namespace dyco
