// Mean and unbiased standard deviation in float64, shared by the score and advantage normalisers.
#pragma once
#include <cmath>
#include <cstddef>

namespace dyco {

struct Moments {
  double mean;
  double std;  // unbiased (n − 1); 0 for fewer than two values
};

inline Moments MeanAndStd(const float* values, std::size_t n) {
  if (n == 0) return {0.0, 0.0};
  double mean = 0.0;
#pragma omp simd reduction(+ : mean)
  for (std::size_t i = 0; i < n; ++i) mean += values[i];
  mean /= static_cast<double>(n);
  if (n < 2) return {mean, 0.0};
  double squares = 0.0;
#pragma omp simd reduction(+ : squares)
  for (std::size_t i = 0; i < n; ++i) squares += (values[i] - mean) * (values[i] - mean);
  return {mean, std::sqrt(squares / static_cast<double>(n - 1))};
}

}  // namespace dyco
