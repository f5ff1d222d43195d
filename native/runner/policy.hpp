// A trainable tiny-vl policy: the model, a frozen reference copy for the KL term, AdamW, and the
// sampling generator. Every method is synchronous and N-API free; the bindings run them on worker
// threads, one at a time per policy (see `busy()`).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "adamw.hpp"
#include "logits_policy_loss_autograd.hpp"
#include "policy_loss_autograd.hpp"
#include "prompt_batch.hpp"
#include "sampling.hpp"
#include "status.hpp"
#include "tiny_vl.hpp"

namespace dyco::runner {

// Completions to score or train on, row-major [batch, steps] with batch = prompts × groupSize.
struct CompletionInputs {
  const std::int32_t* tokens = nullptr;
  const std::uint8_t* mask = nullptr;
  std::int64_t steps = 0;
  double temperature = 1.0;  // log-probs of softmax(logits / temperature)
};

struct GenerateOptions {
  std::int64_t maxNewTokens = 16;
  SamplingOptions sampling;
  std::int64_t eosId = -1;  // < 0: no end-of-sequence token
  std::int64_t padId = 0;   // written after a sequence has ended
  bool statistics = true;   // stream the DyCo attention statistics
  bool returnAttention = false;  // debug: keep every head-averaged attention row
};

// Head-averaged attention rows of the statistics layer, for tests: [batch, steps, keys] rows with
// per-row valid lengths and per-sequence key modality labels.
struct AttentionMaps {
  std::int64_t keys = 0;
  std::vector<float> rows;
  std::vector<std::int32_t> lengths;    // [batch, steps]
  std::vector<std::uint8_t> modality;   // [batch, keys]
};

struct Rollout {
  std::int64_t batch = 0;
  std::int64_t steps = 0;
  std::vector<std::int32_t> tokens;    // [batch, steps]
  std::vector<std::uint8_t> mask;      // 1 up to and including EOS
  std::vector<std::int32_t> lengths;   // unmasked tokens per sequence
  std::vector<std::uint8_t> truncated;  // 1 when the sequence hit maxNewTokens without EOS
  std::vector<float> logprobs;         // sampling log-probs, 0 where masked
  std::vector<float> ratioVis, ratioTxt, frVis, frTxt;  // method §2 per token, 0 where masked
  AttentionMaps attention;             // filled when returnAttention
};

// How a training call computes the policy loss it differentiates.
enum class LossImplementation {
  // The kernel core's logits-level loss as the autograd node on the output projection: no
  // log_softmax over the vocabulary is materialised (FusedLogitsPolicyLoss; where that kernel does
  // not run yet, CUDA, it falls back to kLogprobs's computation by itself).
  kLogits,
  // ATen log_softmax + gather, then the kernel core's log-prob-level loss as the autograd node.
  kLogprobs,
  // ATen log_softmax + gather, then the loss composed of ATen operations (ReferencePolicyLoss),
  // differentiated by LibTorch autograd: the oracle of the tests.
  kReference,
};

struct StepResult {
  PolicyLossMetrics loss;  // sftStep: loss only
  double gradNorm = 0.0;   // before clipping
  double learningRate = 0.0;
  std::int64_t step = 0;   // optimizer steps taken so far
};

// A named host tensor for checkpoints (float32, contiguous).
struct NamedTensor {
  std::string name;
  torch::Tensor tensor;
};
struct NamedView {
  std::string name;
  const float* data;
  std::size_t length;
};

class Policy {
 public:
  Policy(const TinyVLConfig& config, torch::Device device, std::uint64_t seed, AdamWOptions optimizer);

  const TinyVLConfig& config() const { return config_; }
  torch::Device device() const { return device_; }
  std::int64_t ParameterCount() const;

  Status Generate(const PromptInputs& prompts, const GenerateOptions& options, Rollout* out);
  // Teacher-forced log-probs [batch, steps] (0 where masked), from the policy or its reference copy.
  std::vector<float> Logprobs(const PromptInputs& prompts, const CompletionInputs& completions, bool reference,
                              AttentionMaps* attention);
  // One policy-gradient step; `lr` < 0 uses the configured rate. The metrics come from the fused
  // kernels (kLogits, kLogprobs); kReference reports the loss only.
  Status TrainStep(const PromptInputs& prompts, const CompletionInputs& completions, const PolicyLossTerms& terms,
                   double lr, LossImplementation implementation, StepResult* out);
  // One supervised step: mean cross-entropy of the unmasked completion tokens.
  StepResult SftStep(const PromptInputs& prompts, const CompletionInputs& completions, double lr);
  // ∂loss/∂parameters without an update, through any of the implementations.
  Status Gradients(const PromptInputs& prompts, const CompletionInputs& completions, const PolicyLossTerms& terms,
                   LossImplementation implementation, double* loss, std::vector<NamedTensor>* gradients);
  // The reference copy takes the current weights (e.g. after a supervised warm start).
  void SyncReference();

  // Everything a checkpoint needs: "model.*", "reference.*", "optimizer.m.*", "optimizer.v.*".
  std::vector<NamedTensor> ExportTensors() const;
  // Loads tensors exported by ExportTensors; returns what is wrong, or "" on success.
  std::string ImportTensors(const std::vector<NamedView>& tensors);
  std::string SamplerState() const;
  bool SetSamplerState(const std::string& state);
  std::int64_t OptimizerStep() const { return optimizer_.step(); }
  void SetOptimizerStep(std::int64_t step) { optimizer_.set_step(step); }
  const AdamWOptions& optimizerOptions() const { return optimizer_.options(); }

  // Held by the binding for the duration of a call: calls on one policy never overlap.
  std::mutex& busy() { return busy_; }

 private:
  // Output-projection logits [B, steps, vocab] of the completion positions (not divided by the
  // temperature); the completion tokens as [B, steps] int64 go to *tokens.
  torch::Tensor TeacherForcedLogits(TinyVLImpl& model, const PromptInputs& prompts, const CompletionInputs& completions,
                                    torch::Tensor* attention, torch::Tensor* tokens);
  // Log-probs [B, steps] of the completion tokens at the completions' temperature.
  torch::Tensor TeacherForced(TinyVLImpl& model, const PromptInputs& prompts, const CompletionInputs& completions,
                              torch::Tensor* attention);
  // The policy's loss on the batch as a differentiable scalar (metrics: kLogits and kLogprobs only).
  // Throws StatusException for invalid inputs.
  torch::Tensor Loss(const PromptInputs& prompts, const CompletionInputs& completions, const PolicyLossTerms& terms,
                     LossImplementation implementation, PolicyLossMetrics* metrics);
  void FillAttentionLayout(const PromptLayout& layout, std::int64_t groupSize, std::int64_t steps, AttentionMaps* maps) const;

  TinyVLConfig config_;
  torch::Device device_;
  TinyVL model_;
  TinyVL reference_;
  AdamW optimizer_;
  std::mt19937_64 sampler_;
  std::mutex busy_;
};

}  // namespace dyco::runner
