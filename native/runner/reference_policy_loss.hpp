// The policy losses of method §6 composed from ATen operations the way the reference (TRL-style)
// code writes them, differentiated by LibTorch autograd. It is the independent oracle the tests
// hold the fused kernel's gradients against, and the LibTorch baseline for benchmarks.
#pragma once
#include <torch/torch.h>

#include "policy_loss.hpp"

namespace dyco::runner {

struct ReferenceLossInputs {
  torch::Tensor logp;        // [B, T], differentiable
  torch::Tensor oldLogp;     // [B, T] or undefined (ℓ detached)
  torch::Tensor refLogp;     // [B, T] or undefined (no KL term)
  torch::Tensor advantages;  // [B] or [B, T]
  torch::Tensor mask;        // [B, T], 0/1
};

// Scalar loss, computed in `dtype` whatever the inputs' type: float64 for the tests' oracle,
// float32 for the benchmark's baseline (what training code runs).
torch::Tensor ReferencePolicyLoss(const ReferenceLossInputs& in, const PolicyLossConfig& config,
                                  torch::ScalarType dtype = torch::kDouble);

}  // namespace dyco::runner
