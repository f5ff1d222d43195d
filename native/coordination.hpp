// Roles, alignment and sequence scores (method §4, paper Eq. 6–9), the normalised score and the
// advantage weight.
#pragma once
#include <cstddef>
#include <cstdint>

#include "status.hpp"

namespace dyco {

enum TokenRole : std::int8_t { kRoleText = -1, kRoleNeutral = 0, kRoleVision = 1 };

struct CoordinationInputs {
  const float* frVis;
  const float* frTxt;
  const float* ratioVis;
  const float* ratioTxt;
  const std::uint8_t* mask;  // may be null: every token counts
  std::size_t batch;
  std::size_t steps;
};

struct CoordinationOutputs {
  std::int8_t* roles;
  float* alignment;
  float* sequenceScore;
};

// Vision role when frVis − frTxt > tauVis, text when < −tauTxt; step 0 and masked tokens neutral.
Status CoordinationScores(const CoordinationInputs& in, double tauVis, double tauTxt, CoordinationOutputs out);

// ĉ = tanh((c − mean)/std) per consecutive group of `groupSize` (the whole array when 0), unbiased
// std in float64; a group with std ≤ 1e-8 or a single entry gives 0.
Status NormalizeScores(const float* scores, std::size_t n, std::size_t groupSize, float* out);

struct ReweightOptions {
  double alpha = 0.2;
  double min = 0.8;
  double max = 1.2;
  const std::int32_t* lengths = nullptr;  // per sequence; required for minLength > 0 or scaleByLength
  std::size_t minLength = 0;
  bool scaleByLength = false;
};

// out = advantages · clamp(1 + α·ĉ_b, min, max) (· min(L_b/minLength, 1) when scaleByLength), with
// ĉ_b = −1 for sequences shorter than minLength. `advantages` holds `batch` entries or
// `batch*steps` (then every token of sequence b gets w_b).
Status ReweightAdvantages(const float* advantages, std::size_t count, const float* normalizedScores,
                          std::size_t batch, const ReweightOptions& options, float* out);

}  // namespace dyco
