// Sizes of the tiny-vl policy (vision encoder + Qwen2-style decoder). Every field is configurable
// from JavaScript; Validate() states each rule once, so the bindings and Policy.load agree.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dyco::runner {

struct TinyVLConfig {
  // Decoder (Qwen2-style: RMSNorm, rotary positions, grouped-query attention, SwiGLU, tied embeddings).
  std::int64_t vocabSize = 64;
  std::int64_t hidden = 64;
  std::int64_t layers = 2;
  std::int64_t heads = 4;
  std::int64_t kvHeads = 2;
  std::int64_t intermediate = 128;  // SwiGLU width
  std::int64_t maxContext = 256;    // prompt (with vision tokens) + completion
  double ropeTheta = 10000.0;
  double rmsEps = 1e-6;
  // Vision: an H×W×C image cut into patch×patch squares, embedded, then a small bidirectional encoder.
  std::int64_t imageHeight = 16;
  std::int64_t imageWidth = 16;
  std::int64_t imageChannels = 3;
  std::int64_t patchSize = 4;
  std::int64_t visionLayers = 1;
  // Prompt token that stands for the image: it is replaced by the image's patch embeddings.
  std::int64_t imageTokenId = 1;
  // Decoder layer whose head-averaged attention feeds the DyCo statistics; -1 = the last.
  std::int64_t attentionLayer = -1;

  std::int64_t HeadDim() const { return hidden / heads; }
  std::int64_t VisionTokens() const { return (imageHeight / patchSize) * (imageWidth / patchSize); }
  std::int64_t PatchFeatures() const { return patchSize * patchSize * imageChannels; }
  std::int64_t StatsLayer() const { return attentionLayer < 0 ? layers + attentionLayer : attentionLayer; }
};

// One broken rule: the field's name and what it must be, e.g. {"heads", "a divisor of hidden (64)"}.
struct ConfigProblem {
  std::string field;
  std::string expected;
  double value;
};

// Every rule the model needs to be well formed; empty when the config is usable.
std::vector<ConfigProblem> Validate(const TinyVLConfig& config);

}  // namespace dyco::runner
