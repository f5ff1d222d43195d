#include "checks.hpp"

#include <cmath>
#include <string>

namespace dyco {

Status CheckLengths(const char* name, const std::int32_t* lengths, std::size_t n, std::size_t max) {
  if (!lengths) return Status::Ok();
  for (std::size_t i = 0; i < n; ++i) {
    if (lengths[i] < 0 || static_cast<std::size_t>(lengths[i]) > max)
      return Status::Invalid(name, i, lengths[i], "an integer in [0, " + std::to_string(max) + "]");
  }
  return Status::Ok();
}

Status CheckMask(const char* name, const std::uint8_t* mask, std::size_t n) {
  if (!mask) return Status::Ok();
  for (std::size_t i = 0; i < n; ++i) {
    if (mask[i] > 1) return Status::Invalid(name, i, mask[i], kExpectMask);
  }
  return Status::Ok();
}

Status CheckFinite(const char* name, const float* values, std::size_t n, const std::uint8_t* mask) {
  if (!values) return Status::Ok();
  for (std::size_t i = 0; i < n; ++i) {
    if ((!mask || mask[i]) && !std::isfinite(values[i])) return Status::Invalid(name, i, values[i], kExpectFinite);
  }
  return Status::Ok();
}

}  // namespace dyco
