#include "row_math.hpp"

#include "simd_loops.hpp"

namespace dyco {

Mass SumChecked(const float* a, std::size_t n) { return Loops().sumChecked(a, n); }

double SqrtDistanceSquared(const float* a, Normaliser na, const float* b, Normaliser nb, std::size_t n) {
  return Loops().sqrtDistanceSquared(a, na, b, nb, n);
}

std::size_t FirstInvalid(const float* a, std::size_t n) {
  for (std::size_t k = 0; k < n; ++k) {
    if (!(a[k] >= 0.0f) || std::isinf(a[k])) return k;
  }
  return n;
}

}  // namespace dyco
