#include "advantages.hpp"

#include <cmath>

#include "checks.hpp"
#include "moments.hpp"

namespace dyco {

Status GroupAdvantages(const float* rewards, std::size_t n, std::size_t groupSize, AdvantageScale scale, double eps,
                       float* out) {
  if (Status s = CheckFinite("rewards", rewards, n); !s.ok) return s;
  double batchStd = scale == AdvantageScale::kBatch ? MeanAndStd(rewards, n).std : 0.0;
  for (std::size_t start = 0; start < n; start += groupSize) {
    Moments group = MeanAndStd(rewards + start, groupSize);
    double divisor = 1.0;
    if (scale == AdvantageScale::kGroup) divisor = group.std + eps;
    if (scale == AdvantageScale::kBatch) divisor = batchStd + eps;
    for (std::size_t i = start; i < start + groupSize; ++i) {
      // With eps = 0 a constant group has 0/0; its centred rewards are exactly 0, so is its advantage.
      double centred = rewards[i] - group.mean;
      out[i] = centred == 0.0 ? 0.0f : static_cast<float>(centred / divisor);
    }
  }
  return Status::Ok();
}

}  // namespace dyco
