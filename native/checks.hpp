// Element checks for the small per-step and per-sequence arrays (lengths, masks, scores). The large
// probability rows are checked inside the kernels' own passes instead (row_math.hpp).
#pragma once
#include <cstddef>
#include <cstdint>

#include "status.hpp"

namespace dyco {

// Every lengths[i] lies in [0, max].
Status CheckLengths(const char* name, const std::int32_t* lengths, std::size_t n, std::size_t max);

// Every mask[i] is 0 or 1.
Status CheckMask(const char* name, const std::uint8_t* mask, std::size_t n);

// Every values[i] is finite; entries whose mask is 0 are skipped (mask may be null: all count).
Status CheckFinite(const char* name, const float* values, std::size_t n, const std::uint8_t* mask = nullptr);

// The length that applies to row i: lengths[i], or `full` when lengths is null.
inline std::size_t LengthAt(const std::int32_t* lengths, std::size_t i, std::size_t full) {
  return lengths ? static_cast<std::size_t>(lengths[i]) : full;
}

}  // namespace dyco
