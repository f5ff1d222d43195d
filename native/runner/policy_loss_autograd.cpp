#include "policy_loss_autograd.hpp"

namespace dyco::runner {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class FusedPolicyLossFunction : public torch::autograd::Function<FusedPolicyLossFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor logp, const PolicyLossTerms* terms,
                               PolicyLossMetrics* metrics) {
    torch::Tensor host = logp.detach().to(torch::kCPU, torch::kFloat).contiguous();
    torch::Tensor grad = torch::empty_like(host);
    PolicyLossInputs in{host.data_ptr<float>(), terms->oldLogp, terms->refLogp, terms->advantages,
                        terms->perTokenAdvantages, terms->mask,
                        static_cast<std::size_t>(host.size(0)), static_cast<std::size_t>(host.size(1))};
    Status status = PolicyLoss(in, terms->config, grad.data_ptr<float>(), metrics);
    if (!status.ok) throw StatusException(status);
    ctx->save_for_backward({grad.to(logp.device(), logp.scalar_type())});
    return torch::full({}, metrics->loss, logp.options());
  }

  static variable_list backward(AutogradContext* ctx, variable_list gradOutputs) {
    torch::Tensor grad = ctx->get_saved_variables()[0];
    return {grad * gradOutputs[0], torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor FusedPolicyLoss(const torch::Tensor& logp, const PolicyLossTerms& terms, PolicyLossMetrics* metrics) {
  return FusedPolicyLossFunction::apply(logp, &terms, metrics);
}

}  // namespace dyco::runner
