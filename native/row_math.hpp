// Row primitives shared by the Fisher–Rao and attention kernels: a validated float64 mass and the
// stable squared distance between square roots of two normalised rows (method §3).
#pragma once
#include <cmath>
#include <cstddef>

namespace dyco {

// Sum of a row segment in float64, and whether every element is a finite, non-negative number.
// NaN and ±Inf make the sum non-finite and negatives lower the minimum, so one pass checks both.
struct Mass {
  double sum;
  bool valid;
};
Mass SumChecked(const float* a, std::size_t n);

// Index of the first element that is negative, NaN or infinite, or n when there is none.
std::size_t FirstInvalid(const float* a, std::size_t n);

// Maps a raw entry x to the square root of its normalised value as sqrt(x*scale + offset): scale =
// 1/sum normally; a zero-mass row is uniform (scale 0, offset 1/n). Kept in float64 because 1/sum
// of a denormal row overflows float32 and its rounding would swamp tiny shifts.
struct Normaliser {
  double scale;
  double offset;
};
inline Normaliser NormaliserFor(double sum, std::size_t n) {
  if (sum > 0) return {1.0 / sum, 0.0};
  return {0.0, n > 0 ? 1.0 / static_cast<double>(n) : 0.0};
}

// Σ_k (√p̂_k − √q̂_k)² over n entries: the stable form of 2 − 2·BC (no cancellation near BC = 1).
double SqrtDistanceSquared(const float* a, Normaliser na, const float* b, Normaliser nb, std::size_t n);

// FR = 4·asin(½·‖√p̂ − √q̂‖), clamped into [0, π]; equal to 2·acos(BC) without its loss of precision.
inline float FisherRaoFromDistanceSquared(double d2) {
  double half = 0.5 * std::sqrt(d2);
  return static_cast<float>(4.0 * std::asin(half < 1.0 ? half : 1.0));
}

// Fisher–Rao distance between two segments of n entries with known masses.
inline float FisherRaoOfSegments(const float* a, double massA, const float* b, double massB, std::size_t n) {
  if (n == 0) return 0.0f;
  return FisherRaoFromDistanceSquared(
      SqrtDistanceSquared(a, NormaliserFor(massA, n), b, NormaliserFor(massB, n), n));
}

}  // namespace dyco
