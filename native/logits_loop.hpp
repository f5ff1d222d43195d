// Types shared by the logits-level policy loss (logits_policy_loss.cpp) and its per-row loops over
// the vocabulary, which are compiled once per instruction set (simd_loops.inc).
#pragma once
#include <cstddef>
#include <cstdint>

#include "dtype.hpp"

namespace dyco {

// The logits' element type is a DType (dtype.hpp); half-precision types are uint16 bit patterns.

// One row's softmax normaliser at temperature T: with m = max_v x_v (raw logits; T > 0 keeps the
// order), Σ_v exp((x_v − m)/T) = sum, so log Z = m/T + log(sum).
struct LogitsRowStats {
  float max;     // −∞ when every entry is −∞ (or the row is empty)
  double sum;    // ≥ 1 whenever max is finite
  bool invalid;  // some entry is NaN or +∞
};

// Streams one row of n logits (blocks reduced in float32 in L1, combined in float64).
using LogitsRowStatsFn = LogitsRowStats (*)(const void* row, std::size_t n, float invTemperature);

// Writes out[v] = scale·exp((x_v − max)·invTemperature − logSum) for every v, converting to the
// output type; `out` may be `row` itself (the gradient over the logits, in place).
using LogitsRowGradientFn = void (*)(const void* row, void* out, std::size_t n, float max, float invTemperature,
                                    float logSum, float scale);

}  // namespace dyco
