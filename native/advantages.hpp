// Group-relative advantages (method §5).
#pragma once
#include <cstddef>

#include "status.hpp"

namespace dyco {

enum class AdvantageScale { kGroup, kBatch, kNone };

// A_b = (R_b − mean of its group) / (std + eps): std unbiased within the group (kGroup), over all
// rewards (kBatch), or no division (kNone). Groups are consecutive runs of `groupSize` rewards.
Status GroupAdvantages(const float* rewards, std::size_t n, std::size_t groupSize, AdvantageScale scale, double eps,
                       float* out);

}  // namespace dyco
