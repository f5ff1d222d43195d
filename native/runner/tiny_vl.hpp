// The tiny-vl policy, written with LibTorch's C++ API: image → patch embedding → a small
// bidirectional encoder → projector → vision tokens spliced into the prompt → a Qwen2-style decoder
// (RMSNorm, rotary positions, grouped-query attention, SwiGLU MLP, tied input/output embeddings).
//
// Attention is computed explicitly (not with a fused SDPA) because DyCo needs the probabilities:
// the decoder can hand back the head-averaged attention rows of one chosen layer.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "tiny_vl_config.hpp"

namespace dyco::runner {

// Keys and values of one decoder layer for every position written so far:
// [batch, kvHeads, capacity, headDim], filled left to right by the decoder during generation.
struct LayerCache {
  torch::Tensor keys;
  torch::Tensor values;
};

// Everything a decoder pass needs besides the new positions' embeddings.
struct DecoderPass {
  torch::Tensor positions;  // [B, L] int64 rotary positions of the new tokens
  torch::Tensor allowed;    // [B, 1, L, K] bool: keys each new position may attend to (K = start + L)
  std::vector<LayerCache>* cache = nullptr;  // when set: write K/V at [start, start + L), attend over [0, K)
  std::int64_t start = 0;
  torch::Tensor* capturedAttention = nullptr;  // when set: [B, L, K] head-averaged probs of the stats layer
};

class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(std::int64_t width, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;

 private:
  double eps_;
};
TORCH_MODULE(RMSNorm);

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(std::int64_t hidden, std::int64_t heads, std::int64_t kvHeads);
  // `cos`/`sin` ([B, L, headDim]) undefined: no rotary embedding (the vision encoder).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& allowed, LayerCache* cache, std::int64_t start, torch::Tensor* probsOut);

 private:
  std::int64_t heads_, kvHeads_, headDim_;
  torch::nn::Linear q_{nullptr}, k_{nullptr}, v_{nullptr}, o_{nullptr};
};
TORCH_MODULE(Attention);

class SwiGLUImpl : public torch::nn::Module {
 public:
  SwiGLUImpl(std::int64_t hidden, std::int64_t intermediate);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Linear gate_{nullptr}, up_{nullptr}, down_{nullptr};
};
TORCH_MODULE(SwiGLU);

// Pre-norm transformer block, shared by the vision encoder (no rotary, full attention) and the decoder.
class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(const TinyVLConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& allowed, LayerCache* cache, std::int64_t start, torch::Tensor* probsOut);

 private:
  RMSNorm attentionNorm_{nullptr}, mlpNorm_{nullptr};
  Attention attention_{nullptr};
  SwiGLU mlp_{nullptr};
};
TORCH_MODULE(Block);

class TinyVLImpl : public torch::nn::Module {
 public:
  explicit TinyVLImpl(const TinyVLConfig& config);

  const TinyVLConfig& config() const { return config_; }
  // images [N, H, W, C] float → vision tokens [N, VisionTokens, hidden].
  torch::Tensor EncodeImages(const torch::Tensor& images);
  // token ids [..] int64 → embeddings [.., hidden].
  torch::Tensor EmbedTokens(const torch::Tensor& tokens);
  // Decoder over new positions' embeddings [B, L, hidden] → final-norm hidden states [B, L, hidden].
  torch::Tensor Decode(torch::Tensor x, const DecoderPass& pass);
  // Tied output projection: hidden [.., hidden] → logits [.., vocab].
  torch::Tensor Logits(const torch::Tensor& hidden);
  // Empty per-layer caches for `batch` sequences of up to `capacity` positions.
  std::vector<LayerCache> NewCache(std::int64_t batch, std::int64_t capacity, const torch::TensorOptions& options) const;

  // Deterministic initialisation from `seed` (independent of LibTorch's global generator).
  void Initialise(std::uint64_t seed);

 private:
  std::pair<torch::Tensor, torch::Tensor> Rotary(const torch::Tensor& positions) const;

  TinyVLConfig config_;
  torch::Tensor embedding_;    // [vocab, hidden], also the output projection
  torch::nn::Linear patchEmbedding_{nullptr};
  torch::Tensor visionPositions_;  // [VisionTokens, hidden] learned
  torch::nn::ModuleList visionBlocks_;
  RMSNorm visionNorm_{nullptr};
  torch::nn::Linear projector_{nullptr};
  torch::nn::ModuleList decoderBlocks_;
  RMSNorm finalNorm_{nullptr};
  torch::Tensor inverseFrequencies_;  // rotary, [headDim / 2] buffer
};
TORCH_MODULE(TinyVL);

}  // namespace dyco::runner
