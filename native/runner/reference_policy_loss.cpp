#include "reference_policy_loss.hpp"

namespace dyco::runner {

torch::Tensor ReferencePolicyLoss(const ReferenceLossInputs& in, const PolicyLossConfig& config, torch::ScalarType dtype) {
  torch::Tensor logp = in.logp.to(dtype);
  torch::Tensor old = in.oldLogp.defined() ? in.oldLogp.to(dtype) : logp.detach();
  torch::Tensor mask = in.mask.to(dtype);
  torch::Tensor advantages = in.advantages.to(dtype);
  if (advantages.dim() == 1) advantages = advantages.unsqueeze(1);  // [B, 1] broadcasts over tokens
  torch::Tensor lengths = mask.sum(1);
  torch::Tensor safeLengths = lengths.clamp_min(1.0);
  torch::Tensor nonEmpty = (lengths > 0).to(dtype);
  const double batch = static_cast<double>(logp.size(0));

  torch::Tensor kl;  // k3 estimator per token
  if (in.refLogp.defined()) {
    torch::Tensor diff = in.refLogp.to(dtype) - logp;
    kl = torch::exp(diff) - diff - 1.0;
  } else {
    kl = torch::zeros_like(logp);
  }

  if (config.algorithm == PolicyAlgorithm::kGspo) {
    // Reference-code form: one sequence ratio, clipped, and the KL as a per-sequence mean.
    torch::Tensor s = torch::exp(((logp - old) * mask).sum(1) / safeLengths);
    torch::Tensor a = advantages.select(1, 0);
    torch::Tensor g = torch::min(s * a, torch::clamp(s, 1.0 - config.epsLow, 1.0 + config.epsHigh) * a);
    torch::Tensor klSeq = (kl * mask).sum(1) / safeLengths;
    return -((g - config.beta * klSeq) * nonEmpty).sum() / batch;
  }

  torch::Tensor logRatio = logp - old;
  if (config.importanceLevel == ImportanceLevel::kSequence) {
    logRatio = ((logRatio * mask).sum(1, /*keepdim=*/true) / safeLengths.unsqueeze(1)).expand_as(logp);
  }
  torch::Tensor ratio = torch::exp(logRatio);
  torch::Tensor perToken;
  if (config.algorithm == PolicyAlgorithm::kSapo) {
    torch::Tensor tau = torch::where(advantages > 0, torch::full_like(advantages, config.tauPos),
                                     torch::full_like(advantages, config.tauNeg));
    perToken = -(4.0 / tau) * torch::sigmoid(tau * (ratio - 1.0)) * advantages;
  } else {
    torch::Tensor unclipped = config.hasDelta ? torch::clamp_max(ratio, config.delta) : ratio;
    torch::Tensor clipped = torch::clamp(ratio, 1.0 - config.epsLow, 1.0 + config.epsHigh);
    perToken = -torch::min(unclipped * advantages, clipped * advantages);
  }
  perToken = perToken + config.beta * kl;
  torch::Tensor masked = perToken * mask;
  switch (config.algorithm) {
    case PolicyAlgorithm::kBnpo:
    case PolicyAlgorithm::kDapo:
      return masked.sum() / mask.sum().clamp_min(1.0);
    case PolicyAlgorithm::kDrGrpo: {
      double maxLength = config.maxCompletionLength > 0 ? static_cast<double>(config.maxCompletionLength)
                                                        : static_cast<double>(logp.size(1));
      return masked.sum() / (batch * maxLength);
    }
    default:  // grpo, sapo
      return (masked.sum(1) / safeLengths).sum() / batch;
  }
}

}  // namespace dyco::runner
