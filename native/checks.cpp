#include "checks.hpp"

#include <cmath>
#include <string>

#include "vector_math.hpp"

namespace dyco {

Status CheckLengths(const char* name, const std::int32_t* lengths, std::size_t n, std::size_t max) {
  if (!lengths) return Status::Ok();
  for (std::size_t i = 0; i < n; ++i) {
    if (lengths[i] < 0 || static_cast<std::size_t>(lengths[i]) > max)
      return Status::Invalid(name, i, lengths[i], "an integer in [0, " + std::to_string(max) + "]");
  }
  return Status::Ok();
}

// Each check first scans with a vectorisable reduction (valid input, the common case, costs one
// streaming pass) and walks element by element only to name the first bad one.

Status CheckMask(const char* name, const std::uint8_t* mask, std::size_t n) {
  if (!mask) return Status::Ok();
  unsigned highest = 0;
#pragma omp simd reduction(max : highest)
  for (std::size_t i = 0; i < n; ++i) highest = mask[i] > highest ? mask[i] : highest;
  if (highest <= 1) return Status::Ok();
  for (std::size_t i = 0; i < n; ++i) {
    if (mask[i] > 1) return Status::Invalid(name, i, mask[i], kExpectMask);
  }
  return Status::Ok();
}

Status CheckFinite(const char* name, const float* values, std::size_t n, const std::uint8_t* mask) {
  if (!values) return Status::Ok();
  float bad = 0.0f;
  if (mask) {
#pragma omp simd reduction(+ : bad)
    for (std::size_t i = 0; i < n; ++i) bad += (mask[i] != 0) & !IsFinite(values[i]) ? 1.0f : 0.0f;
  } else {
#pragma omp simd reduction(+ : bad)
    for (std::size_t i = 0; i < n; ++i) bad += !IsFinite(values[i]) ? 1.0f : 0.0f;
  }
  if (bad == 0.0f) return Status::Ok();
  for (std::size_t i = 0; i < n; ++i) {
    if ((!mask || mask[i]) && !std::isfinite(values[i])) return Status::Invalid(name, i, values[i], kExpectFinite);
  }
  return Status::Ok();
}

}  // namespace dyco
