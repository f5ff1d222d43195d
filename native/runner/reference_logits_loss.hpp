// The logits-level policy loss composed of ATen operations the way reference (TRL-style) code
// writes it: log_softmax(logits.float() / T) → gather → ReferencePolicyLoss, differentiated by
// LibTorch autograd. The oracle the tests hold the logits kernel against, and the baseline of
// bench/logits-loss.ts.
#pragma once
#include <torch/torch.h>

#include "reference_policy_loss.hpp"

namespace dyco::runner {

struct ReferenceLogitsLossResult {
  double loss = 0.0;
  torch::Tensor logp;        // [B, T] float32 (not masked)
  torch::Tensor gradLogits;  // [B, T, V] float32 ∂loss/∂logits when asked for
};

// `logits` [B, T, V] of any floating dtype (not modified), `targets` [B, T] int64; `terms.logp` is
// ignored (it is what this computes).
ReferenceLogitsLossResult ReferenceLogitsPolicyLoss(const torch::Tensor& logits, const torch::Tensor& targets,
                                                    double temperature, ReferenceLossInputs terms,
                                                    const PolicyLossConfig& config, bool backward);

}  // namespace dyco::runner
