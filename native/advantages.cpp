#include "advantages.hpp"

#include <cmath>

#include "checks.hpp"
#include "moments.hpp"
#include "parallel.hpp"

namespace dyco {

Status GroupAdvantages(const float* rewards, std::size_t n, std::size_t groupSize, AdvantageScale scale, double eps,
                       float* out) {
  if (Status s = CheckFinite("rewards", rewards, n); !s.ok) return s;
  double batchStd = scale == AdvantageScale::kBatch ? MeanAndStd(rewards, n).std : 0.0;
  ParallelFor(n / groupSize, 4.0 * static_cast<double>(groupSize), [&](std::size_t begin, std::size_t end) {
    for (std::size_t start = begin * groupSize; start < end * groupSize; start += groupSize) {
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
  });
  return Status::Ok();
}

}  // namespace dyco
