// The kernel core's logits-level policy loss (native/logits_policy_loss.hpp) as a LibTorch autograd
// node taking the final projection's output: the forward computes the loss, the metrics and
// ∂loss/∂logits in one call (no log_softmax over the vocabulary is ever materialised) and keeps the
// gradient; the backward hands it back, scaled by the incoming gradient.
#pragma once
#include <torch/torch.h>

#include <cstdint>

#include "policy_loss_autograd.hpp"

namespace dyco::runner {

// ℓ = log softmax(logits / temperature) gathered at `targets` ([B, T] int64 on the logits' device),
// the way the composite computes it: the oracle, and the path used where the kernel does not run.
torch::Tensor SelectiveLogSoftmax(const torch::Tensor& logits, const torch::Tensor& targets, double temperature);

struct LogitsLossOptions {
  double temperature = 1.0;
  const std::int32_t* targets = nullptr;  // B×T host token ids (the completion tokens)
  torch::Tensor targetTensor;             // the same as [B, T] int64 on the logits' device (fallback path)
  // The caller gives the logits up: the gradient is written over them in their dtype, so the node
  // adds no B×T×V memory. Only when nothing else reads the logits afterwards (true for the output of
  // a matmul, whose backward keeps its inputs, not its output).
  bool overwriteLogits = false;
};

// loss = LogitsPolicyLoss(logits [B, T, V]); differentiable in logits. Writes the metrics to
// *metrics; throws StatusException for invalid inputs.
//
// Runs the CPU kernel for float32, float16 and bfloat16 logits on the CPU, and the CUDA kernel
// (cuda_kernels.hpp: LogitsPolicyLoss, on LibTorch's current stream) for them on a CUDA device when
// the runner was built with a CUDA LibTorch and the CUDA kernels. Everywhere else (other dtypes, or
// CUDA tensors in a build without both) it takes the existing path explicitly: SelectiveLogSoftmax,
// then the log-prob-level fused loss (FusedPolicyLoss).
torch::Tensor FusedLogitsPolicyLoss(const torch::Tensor& logits, const PolicyLossTerms& terms,
                                    const LogitsLossOptions& options, PolicyLossMetrics* metrics);

// Whether FusedLogitsPolicyLoss runs the logits kernel for these logits (rather than the fallback).
bool LogitsKernelApplies(const torch::Tensor& logits);

}  // namespace dyco::runner
