#include "reference_logits_loss.hpp"

#include "logits_policy_loss_autograd.hpp"

namespace dyco::runner {

ReferenceLogitsLossResult ReferenceLogitsPolicyLoss(const torch::Tensor& logits, const torch::Tensor& targets,
                                                    double temperature, ReferenceLossInputs terms,
                                                    const PolicyLossConfig& config, bool backward) {
  // A float32 leaf: the composite's input as a model would hand it over (half types widened first,
  // as `logits.float()` does in the reference code).
  torch::Tensor x = logits.detach().to(torch::kFloat).requires_grad_(true);
  terms.logp = SelectiveLogSoftmax(x, targets, temperature);
  torch::Tensor loss = ReferencePolicyLoss(terms, config);
  ReferenceLogitsLossResult result;
  if (backward) {
    loss.backward();
    result.gradLogits = x.grad();
  }
  result.loss = loss.item<double>();
  result.logp = terms.logp.detach();
  return result;
}

}  // namespace dyco::runner
