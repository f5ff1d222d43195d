// The kernel core's fused policy loss (native/policy_loss.hpp) as a LibTorch autograd node: the
// forward runs dyco::PolicyLoss on the detached log-probs and keeps ∂loss/∂logp, the backward
// scales it by the incoming gradient. Log-probs on a GPU are brought to the host for the kernel
// until the CUDA kernels exist (B×T floats: small next to the model's own work).
#pragma once
#include <torch/torch.h>

#include <stdexcept>

#include "policy_loss.hpp"
#include "status.hpp"

namespace dyco::runner {

// A kernel's Status carried through LibTorch's autograd machinery as an exception.
class StatusException : public std::runtime_error {
 public:
  explicit StatusException(Status status) : std::runtime_error("invalid input"), status(std::move(status)) {}
  Status status;
};

// Everything the loss reads besides ℓ, as host pointers (JavaScript arrays, read in place).
struct PolicyLossTerms {
  const float* oldLogp = nullptr;     // B×T or null (ℓ detached)
  const float* refLogp = nullptr;     // B×T or null (no KL)
  const float* advantages = nullptr;  // B or B×T
  bool perTokenAdvantages = false;
  const std::uint8_t* mask = nullptr;  // B×T
  PolicyLossConfig config;
};

// loss = PolicyLoss(logp [B, T]); differentiable in logp. Writes the metrics to *metrics.
torch::Tensor FusedPolicyLoss(const torch::Tensor& logp, const PolicyLossTerms& terms, PolicyLossMetrics* metrics);

}  // namespace dyco::runner
