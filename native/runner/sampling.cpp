#include "sampling.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace dyco::runner {

double UniformDouble(std::mt19937_64& generator) { return static_cast<double>(generator() >> 11) * 0x1.0p-53; }

SampledToken SampleToken(const float* logits, std::size_t vocab, const SamplingOptions& options,
                         std::mt19937_64& generator, std::vector<double>& probs, std::vector<std::int32_t>& order) {
  const bool greedy = options.temperature <= 0.0;
  const double scale = greedy ? 1.0 : 1.0 / options.temperature;
  double top = -INFINITY;
  std::size_t argmax = 0;
  for (std::size_t j = 0; j < vocab; ++j) {
    if (logits[j] > top) {  // first maximum wins ties
      top = logits[j];
      argmax = j;
    }
  }
  // float64 log-sum-exp of the scaled logits, shifted by the maximum.
  probs.resize(vocab);
  double total = 0.0;
  for (std::size_t j = 0; j < vocab; ++j) {
    probs[j] = std::exp((static_cast<double>(logits[j]) - top) * scale);
    total += probs[j];
  }
  const double logTotal = std::log(total);
  auto logprobOf = [&](std::size_t j) {
    return static_cast<float>((static_cast<double>(logits[j]) - top) * scale - logTotal);
  };
  if (greedy) return {static_cast<std::int32_t>(argmax), logprobOf(argmax)};

  // Candidates in order of decreasing probability (index breaks ties), cut at topP of the mass.
  order.resize(vocab);
  std::iota(order.begin(), order.end(), 0);
  std::size_t kept = vocab;
  if (options.topP < 1.0) {
    std::sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
      return probs[a] != probs[b] ? probs[a] > probs[b] : a < b;
    });
    double mass = 0.0;
    for (kept = 0; kept < vocab;) {
      mass += probs[order[kept++]];
      if (mass >= options.topP * total) break;
    }
  }
  double keptMass = 0.0;
  for (std::size_t i = 0; i < kept; ++i) keptMass += probs[order[i]];
  double target = UniformDouble(generator) * keptMass;
  std::size_t chosen = argmax;  // rounding guard: the walk below may fall just short of keptMass
  double cumulative = 0.0;
  for (std::size_t i = 0; i < kept; ++i) {
    cumulative += probs[order[i]];
    if (target < cumulative) {
      chosen = order[i];
      break;
    }
  }
  return {static_cast<std::int32_t>(chosen), logprobOf(chosen)};
}

}  // namespace dyco::runner
