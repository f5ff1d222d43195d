#include "dtype.hpp"

#include <cstring>

namespace dyco {

float HalfToFloat(std::uint16_t bits) {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
  const std::uint32_t exponent = (bits >> 10) & 0x1fu;
  std::uint32_t mantissa = bits & 0x3ffu;
  std::uint32_t out;
  if (exponent == 0x1fu) {
    out = sign | 0x7f800000u | (mantissa << 13);  // infinity or NaN (payload kept)
  } else if (exponent != 0) {
    out = sign | ((exponent + 112u) << 23) | (mantissa << 13);  // 112 = 127 − 15
  } else if (mantissa == 0) {
    out = sign;  // ±0
  } else {
    // Subnormal half: shift the mantissa up to a normal float32.
    std::uint32_t e = 113;  // 127 − 15 + 1
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --e;
    }
    out = sign | (e << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float value;
  std::memcpy(&value, &out, sizeof value);
  return value;
}

float BFloat16ToFloat(std::uint16_t bits) {
  const std::uint32_t out = static_cast<std::uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &out, sizeof value);
  return value;
}

void WidenToFloat(const void* data, DType dtype, std::size_t n, float* out) {
  if (dtype == DType::kFloat32) {
    std::memcpy(out, data, n * sizeof(float));
    return;
  }
  const auto* bits = static_cast<const std::uint16_t*>(data);
  if (dtype == DType::kBFloat16) {
    for (std::size_t i = 0; i < n; ++i) out[i] = BFloat16ToFloat(bits[i]);
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = HalfToFloat(bits[i]);
  }
}

}  // namespace dyco
