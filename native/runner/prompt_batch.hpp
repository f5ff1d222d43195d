// Turns JavaScript's prompts and images into the decoder's input: each prompt's image placeholder
// is replaced by the image's vision tokens, prompts are left-padded to a common width (so every
// sequence generates at the same cache position), and each key gets a modality (method §2: before
// the image "other", the image "vision", everything after it "text").
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "attention_stats.hpp"
#include "tiny_vl.hpp"

namespace dyco::runner {

// A view of a JavaScript Int32Array.
struct TokenSpan {
  const std::int32_t* data = nullptr;
  std::size_t length = 0;
};

// Prompts with one image each; sequences are the prompts repeated `groupSize` times (consecutive).
struct PromptInputs {
  const float* imagesFloat = nullptr;         // N×H×W×C, used as given
  const std::uint8_t* imagesBytes = nullptr;  // or N×H×W×C bytes, scaled by 1/255
  std::vector<TokenSpan> prompts;             // N
  std::int64_t groupSize = 1;
};

// Empty when the prompts are usable, else what is wrong ("prompts[2] has no image token (id 1)").
std::string ValidatePrompts(const TinyVLConfig& config, const PromptInputs& inputs);

// Host-side description of the left-padded prompt rows (one per prompt, before repetition).
struct PromptLayout {
  std::int64_t prompts = 0;
  std::int64_t width = 0;                 // longest prompt, vision tokens included
  std::vector<std::int64_t> padding;      // left padding per prompt
  std::vector<std::int64_t> imageStart;   // first vision key per prompt (after padding)
  std::vector<std::int64_t> realLength;   // prompt length with vision tokens, without padding
  std::int64_t visionTokens = 0;

  // Key modality runs of prompt `p` for rows of up to `capacity` keys (the text region runs to the end).
  ModalityRuns Runs(std::int64_t p, std::int64_t capacity) const;
  // Per-key labels (0 other, 1 vision, 2 text) of prompt `p` over `capacity` keys.
  std::vector<std::uint8_t> Labels(std::int64_t p, std::int64_t capacity) const;
};

PromptLayout LayoutPrompts(const TinyVLConfig& config, const PromptInputs& inputs);

// The prompt rows as the decoder sees them, repeated per group: [B, width, hidden] embeddings,
// [B, width] key validity and rotary positions (counted from each prompt's first real token).
struct PromptTensors {
  torch::Tensor embeddings;
  torch::Tensor valid;
  torch::Tensor positions;
};
PromptTensors EmbedPrompts(TinyVLImpl& model, const PromptLayout& layout, const PromptInputs& inputs, torch::Device device);

// [B, 1, L, K] mask of the keys that the L positions starting at `start` may attend to: causal, no
// padding keys; a padding position may see itself so its softmax row stays finite (it is never read).
torch::Tensor AllowedKeys(const torch::Tensor& keyValid, std::int64_t start, std::int64_t length);

}  // namespace dyco::runner
