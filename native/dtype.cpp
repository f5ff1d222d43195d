#include "dtype.hpp"

#include <cstring>

#include "half_float.hpp"

namespace dyco {

void WidenToFloat(const void* data, DType dtype, std::size_t n, float* out) {
  if (dtype == DType::kFloat32) {
    std::memcpy(out, data, n * sizeof(float));
    return;
  }
  const auto* bits = static_cast<const std::uint16_t*>(data);
  if (dtype == DType::kBFloat16) {
    for (std::size_t i = 0; i < n; ++i) out[i] = BFloat16ToFloat(bits[i]);
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = Float16ToFloat(bits[i]);
  }
}

}  // namespace dyco
