// Types shared by the policy-loss driver (policy_loss.cpp) and its per-sequence token loop, which
// is compiled once per instruction set (simd_loops.inc).
#pragma once
#include <cstddef>
#include <cstdint>

#include "policy_loss.hpp"

namespace dyco {

// Per-sequence partial results, summed in sequence order afterwards so the result is independent
// of how sequences were split over threads.
struct SequencePartial {
  double loss = 0.0;
  double kl = 0.0;
  double ratio = 0.0;
  double clippedLow = 0.0;
  double clippedHigh = 0.0;
  bool invalid = false;  // a value the loss reads is not finite (reported by the exact checks)
};

// Everything one sequence's token loop needs; pointers already point at the sequence's row.
struct SequenceView {
  const float* logp;
  const float* oldLogp;     // = logp when absent: log-ratio 0, ratio exactly 1
  const float* refLogp;     // = logp when absent: k3 KL exactly 0
  const float* advantages;  // per-token row, or null with `advantage` set
  double advantage;
  const std::uint8_t* mask;
  std::size_t steps;
  double weight;  // reduction weight of each unmasked token
  double ratio;   // sequence-level ratio (used when the importance level is 'sequence')
};

// Computes the sequence's loss terms and writes its gradient (token-level ratios) or the part of
// it that does not go through the shared sequence ratio; returns Σ_t ∂loss/∂r_t for the latter.
using SequenceLoopFn = double (*)(const SequenceView&, const PolicyLossConfig&, float* grad, SequencePartial&);

}  // namespace dyco
