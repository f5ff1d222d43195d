#include "adamw.hpp"

#include <cmath>

namespace dyco::runner {

AdamW::AdamW(std::vector<std::pair<std::string, torch::Tensor>> parameters, AdamWOptions options)
    : parameters_(std::move(parameters)), options_(options) {
  for (auto& [name, p] : parameters_) {
    m_.push_back(torch::zeros_like(p));
    v_.push_back(torch::zeros_like(p));
  }
}

void AdamW::ZeroGrad() {
  for (auto& [name, p] : parameters_) {
    if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
  }
}

double AdamW::Step(double lr) {
  torch::NoGradGuard noGrad;
  // Global gradient norm in float64, as clip_grad_norm_ measures it.
  double squared = 0.0;
  for (auto& [name, p] : parameters_) {
    if (p.grad().defined()) squared += p.grad().to(torch::kDouble).pow(2).sum().item<double>();
  }
  const double norm = std::sqrt(squared);
  double clip = 1.0;
  if (options_.maxGradNorm > 0.0 && norm > options_.maxGradNorm) clip = options_.maxGradNorm / (norm + 1e-6);

  ++step_;
  const double correction1 = 1.0 - std::pow(options_.beta1, static_cast<double>(step_));
  const double correction2 = 1.0 - std::pow(options_.beta2, static_cast<double>(step_));
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    torch::Tensor& p = parameters_[i].second;
    if (!p.grad().defined()) continue;
    torch::Tensor g = clip == 1.0 ? p.grad() : p.grad() * clip;
    p.mul_(1.0 - lr * options_.weightDecay);
    m_[i].mul_(options_.beta1).add_(g, 1.0 - options_.beta1);
    v_[i].mul_(options_.beta2).addcmul_(g, g, 1.0 - options_.beta2);
    torch::Tensor denominator = (v_[i].sqrt() / std::sqrt(correction2)).add_(options_.eps);
    p.addcdiv_(m_[i], denominator, -lr / correction1);
  }
  return norm;
}

}  // namespace dyco::runner
