#include "logits_policy_loss_autograd.hpp"

#include "logits_policy_loss.hpp"

namespace dyco::runner {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

LogitsDtype KernelDtype(const torch::Tensor& logits) {
  switch (logits.scalar_type()) {
    case torch::kHalf: return LogitsDtype::kFloat16;
    case torch::kBFloat16: return LogitsDtype::kBFloat16;
    default: return LogitsDtype::kFloat32;
  }
}

class FusedLogitsPolicyLossFunction : public torch::autograd::Function<FusedLogitsPolicyLossFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor logits, const PolicyLossTerms* terms,
                               const LogitsLossOptions* options, PolicyLossMetrics* metrics) {
    const std::int64_t batch = logits.size(0), steps = logits.size(1), vocab = logits.size(2);
    // The kernel reads [B, T, V] row-major; an already contiguous tensor is used as it is. A copy
    // made here belongs to this node, so the gradient can go over it as well.
    torch::Tensor input = logits.detach().contiguous();
    const bool inPlace = options->overwriteLogits || input.data_ptr() != logits.data_ptr();
    torch::Tensor grad = inPlace ? input : torch::empty({batch, steps, vocab}, input.options().dtype(torch::kFloat));
    std::vector<float> logp(static_cast<std::size_t>(batch * steps));
    LogitsPolicyLossInputs in{input.data_ptr(),
                              KernelDtype(input),
                              options->targets,
                              options->temperature,
                              terms->oldLogp,
                              terms->refLogp,
                              terms->advantages,
                              terms->perTokenAdvantages,
                              terms->mask,
                              static_cast<std::size_t>(batch),
                              static_cast<std::size_t>(steps),
                              static_cast<std::size_t>(vocab)};
    LogitsPolicyLossOutputs out;
    out.logp = logp.data();
    out.gradLogits = grad.data_ptr();
    out.inPlace = inPlace;
    Status status = LogitsPolicyLoss(in, terms->config, out, metrics);
    if (!status.ok) throw StatusException(status);
    ctx->save_for_backward({grad});
    ctx->saved_data["dtype"] = static_cast<std::int64_t>(logits.scalar_type());
    return torch::full({}, metrics->loss, logits.options().dtype(torch::kFloat));
  }

  static variable_list backward(AutogradContext* ctx, variable_list gradOutputs) {
    torch::Tensor grad = ctx->get_saved_variables()[0];
    const auto dtype = static_cast<torch::ScalarType>(ctx->saved_data["dtype"].toInt());
    const torch::Tensor& scale = gradOutputs[0];
    // backward() of the loss itself passes 1: hand the saved buffer over instead of another
    // B×T×V pass (and allocation) to multiply by it.
    if (scale.item<double>() != 1.0) grad = grad * scale;
    return {grad.to(dtype), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor SelectiveLogSoftmax(const torch::Tensor& logits, const torch::Tensor& targets, double temperature) {
  return torch::log_softmax(logits / temperature, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1);
}

bool LogitsKernelApplies(const torch::Tensor& logits) {
  const auto type = logits.scalar_type();
  return logits.device().is_cpu() && logits.dim() == 3 &&
         (type == torch::kFloat || type == torch::kHalf || type == torch::kBFloat16);
}

torch::Tensor FusedLogitsPolicyLoss(const torch::Tensor& logits, const PolicyLossTerms& terms,
                                    const LogitsLossOptions& options, PolicyLossMetrics* metrics) {
  if (!LogitsKernelApplies(logits)) {
    // No kernel for these logits yet (CUDA: the CUDA version of the logits kernel comes with
    // native/cuda's DeviceArray work): log_softmax over the vocabulary, then the log-prob kernel.
    return FusedPolicyLoss(SelectiveLogSoftmax(logits, options.targetTensor, options.temperature), terms, metrics);
  }
  return FusedLogitsPolicyLossFunction::apply(logits, &terms, &options, metrics);
}

}  // namespace dyco::runner
