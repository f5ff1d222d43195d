// Element types of floating-point inputs. Attention rows and log-probabilities that come from a
// model are often float16 or bfloat16; the kernels widen them to float32 as they read them (the
// CUDA kernels in registers, the CPU path into a float32 copy first).
#pragma once
#include <cstddef>
#include <cstdint>

namespace dyco {

enum class DType : std::int32_t { kFloat32 = 0, kFloat16 = 1, kBFloat16 = 2 };
inline constexpr int kDTypes = 3;  // for tables indexed by DType

inline std::size_t ElementBytes(DType dtype) { return dtype == DType::kFloat32 ? 4 : 2; }
inline const char* DTypeName(DType dtype) {
  return dtype == DType::kFloat16 ? "float16" : dtype == DType::kBFloat16 ? "bfloat16" : "float32";
}

// Single conversions of half-precision bit patterns are in half_float.hpp (Float16ToFloat,
// BFloat16ToFloat, and the rounding back).

// out[i] = the i-th element of `data` (stored as `dtype`) as a float32, for i < n.
void WidenToFloat(const void* data, DType dtype, std::size_t n, float* out);

}  // namespace dyco
