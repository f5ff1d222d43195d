// AdamW (decoupled weight decay, bias-corrected moments), the update torch.optim.AdamW applies.
// Written here rather than taken from torch::optim so its state is plain named tensors: the
// checkpoint stores them in safetensors and a loaded policy continues bit for bit, on every
// LibTorch version (LibTorch's optimizer state keys and archive format are version-specific).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dyco::runner {

struct AdamWOptions {
  double learningRate = 1e-4;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weightDecay = 0.0;
  double maxGradNorm = 1.0;  // global L2 clip before the step; 0 disables
};

class AdamW {
 public:
  AdamW(std::vector<std::pair<std::string, torch::Tensor>> parameters, AdamWOptions options);

  // Clips the gradients' global norm (when maxGradNorm > 0), applies one update with learning rate
  // `lr`, and returns the norm before clipping.
  double Step(double lr);
  void ZeroGrad();

  const AdamWOptions& options() const { return options_; }
  std::int64_t step() const { return step_; }
  void set_step(std::int64_t step) { step_ = step; }
  // The parameters by name, and their first and second moments in the same order. The tensors are
  // handles: copying into them (a checkpoint load) updates the optimizer's state.
  const std::vector<std::pair<std::string, torch::Tensor>>& parameters() const { return parameters_; }
  const std::vector<torch::Tensor>& firstMoments() const { return m_; }
  const std::vector<torch::Tensor>& secondMoments() const { return v_; }

 private:
  std::vector<std::pair<std::string, torch::Tensor>> parameters_;
  std::vector<torch::Tensor> m_, v_;
  AdamWOptions options_;
  std::int64_t step_ = 0;
};

}  // namespace dyco::runner
