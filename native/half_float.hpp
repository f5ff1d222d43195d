// IEEE binary16 ("float16") and bfloat16 stored as uint16 bit patterns, converted to and from float
// with integer and float operations only (no _Float16, no F16C intrinsics), branch-free so that GCC
// vectorises the loops that call them. Rounding to the narrow types is to nearest, ties to even.
// static + always_inline: internal linkage, like vector_math.hpp, so the copies built per
// instruction set never mix.
#pragma once
#include <cstdint>

namespace dyco {

// bfloat16 is the top half of a float: widening is exact.
static __attribute__((always_inline)) inline float BFloat16ToFloat(std::uint16_t h) {
  return __builtin_bit_cast(float, static_cast<std::uint32_t>(h) << 16);
}

// Round to nearest even on the 16 dropped bits; overflow rounds to ±Inf as it should; NaN stays a
// (quiet) NaN instead of possibly rounding into Inf.
static __attribute__((always_inline)) inline std::uint16_t FloatToBFloat16(float f) {
  const std::uint32_t x = __builtin_bit_cast(std::uint32_t, f);
  const bool nan = (x & 0x7fffffffu) > 0x7f800000u;
  const std::uint32_t rounded = (x + 0x7fffu + ((x >> 16) & 1u)) >> 16;
  return static_cast<std::uint16_t>(nan ? ((x >> 16) | 0x40u) : rounded);
}

// binary16 → float, exact. The 15 magnitude bits shifted into a float's exponent and mantissa
// fields read as 2^-112 times the value for normals and subnormals alike (a half subnormal becomes
// a float subnormal), so one multiplication by 2^112 rebiases both; exponent 31 (Inf/NaN) is
// widened to 255 first so the product stays Inf/NaN.
static __attribute__((always_inline)) inline float Float16ToFloat(std::uint16_t h) {
  const std::uint32_t bits = static_cast<std::uint32_t>(h);
  std::uint32_t magnitude = (bits & 0x7fffu) << 13;
  magnitude |= (bits & 0x7c00u) == 0x7c00u ? 0x7f800000u : 0u;
  const float scaled = __builtin_bit_cast(float, magnitude) * 0x1p112f;
  return __builtin_bit_cast(float, __builtin_bit_cast(std::uint32_t, scaled) | ((bits & 0x8000u) << 16));
}

// float → binary16, round to nearest even. Three candidates, selected without branches:
// - normal range (|f| ≥ 2^-14): rebias the exponent by −112 and round the 13 dropped mantissa bits
//   (a carry out of the mantissa correctly bumps the exponent, up to 65504; from 65520 on → Inf);
// - subnormal range: adding 0.5f puts |f| in a float whose last mantissa bit is worth 2^-24, the
//   half subnormal step, so the FPU's own rounding does the work and the low bits are the result;
// - NaN → quiet NaN, Inf and overflow → Inf.
static __attribute__((always_inline)) inline std::uint16_t FloatToFloat16(float f) {
  const std::uint32_t x = __builtin_bit_cast(std::uint32_t, f);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  const std::uint32_t magnitude = x & 0x7fffffffu;
  const std::uint32_t rebiased = magnitude - 0x38000000u;  // exponent − (127 − 15)
  const std::uint32_t normal = (rebiased + 0xfffu + ((rebiased >> 13) & 1u)) >> 13;
  const float shifted = __builtin_bit_cast(float, magnitude) + 0.5f;
  const std::uint32_t subnormal = __builtin_bit_cast(std::uint32_t, shifted) - 0x3f000000u;
  std::uint32_t out = magnitude >= 0x38800000u ? normal : subnormal;
  out = magnitude >= 0x477ff000u ? 0x7c00u : out;  // ≥ 65520 rounds to Inf (Inf itself included)
  out = magnitude > 0x7f800000u ? 0x7e00u : out;   // NaN
  return static_cast<std::uint16_t>(sign | out);
}

}  // namespace dyco
