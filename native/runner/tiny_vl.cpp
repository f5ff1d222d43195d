#include "tiny_vl.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <limits>
#include <string>

namespace dyco::runner {
namespace {

torch::nn::Linear MakeLinear(std::int64_t in, std::int64_t out, bool bias) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

// [B, H, L, D] with rotary tables [B, L, D]: x·cos + rotate_half(x)·sin (the "half split" pairing).
torch::Tensor ApplyRotary(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  std::int64_t half = x.size(-1) / 2;
  torch::Tensor rotated = torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos.unsqueeze(1) + rotated * sin.unsqueeze(1);
}

}  // namespace

RMSNormImpl::RMSNormImpl(std::int64_t width, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({width}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps_) * weight;
}

AttentionImpl::AttentionImpl(std::int64_t hidden, std::int64_t heads, std::int64_t kvHeads)
    : heads_(heads), kvHeads_(kvHeads), headDim_(hidden / heads) {
  // Qwen2 puts biases on q, k and v only.
  q_ = register_module("q", MakeLinear(hidden, heads * headDim_, true));
  k_ = register_module("k", MakeLinear(hidden, kvHeads * headDim_, true));
  v_ = register_module("v", MakeLinear(hidden, kvHeads * headDim_, true));
  o_ = register_module("o", MakeLinear(heads * headDim_, hidden, false));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                                     const torch::Tensor& allowed, LayerCache* cache, std::int64_t start,
                                     torch::Tensor* probsOut) {
  const std::int64_t batch = x.size(0), length = x.size(1);
  torch::Tensor q = q_->forward(x).view({batch, length, heads_, headDim_}).transpose(1, 2);
  torch::Tensor k = k_->forward(x).view({batch, length, kvHeads_, headDim_}).transpose(1, 2);
  torch::Tensor v = v_->forward(x).view({batch, length, kvHeads_, headDim_}).transpose(1, 2);
  if (cos.defined()) {
    q = ApplyRotary(q, cos, sin);
    k = ApplyRotary(k, cos, sin);
  }
  if (cache != nullptr) {
    cache->keys.narrow(2, start, length).copy_(k);
    cache->values.narrow(2, start, length).copy_(v);
    k = cache->keys.narrow(2, 0, start + length);
    v = cache->values.narrow(2, 0, start + length);
  }
  if (heads_ != kvHeads_) {  // grouped-query attention: query head h reads kv head h / (heads / kvHeads)
    k = k.repeat_interleave(heads_ / kvHeads_, 1);
    v = v.repeat_interleave(heads_ / kvHeads_, 1);
  }
  torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(headDim_));
  if (allowed.defined()) scores = scores.masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());
  torch::Tensor probs = torch::softmax(scores, -1);
  if (probsOut != nullptr) *probsOut = probs.mean(1);
  torch::Tensor out = torch::matmul(probs, v).transpose(1, 2).reshape({batch, length, heads_ * headDim_});
  return o_->forward(out);
}

SwiGLUImpl::SwiGLUImpl(std::int64_t hidden, std::int64_t intermediate) {
  gate_ = register_module("gate", MakeLinear(hidden, intermediate, false));
  up_ = register_module("up", MakeLinear(hidden, intermediate, false));
  down_ = register_module("down", MakeLinear(intermediate, hidden, false));
}

torch::Tensor SwiGLUImpl::forward(const torch::Tensor& x) {
  return down_->forward(torch::silu(gate_->forward(x)) * up_->forward(x));
}

BlockImpl::BlockImpl(const TinyVLConfig& config) {
  attentionNorm_ = register_module("attention_norm", RMSNorm(config.hidden, config.rmsEps));
  attention_ = register_module("attention", Attention(config.hidden, config.heads, config.kvHeads));
  mlpNorm_ = register_module("mlp_norm", RMSNorm(config.hidden, config.rmsEps));
  mlp_ = register_module("mlp", SwiGLU(config.hidden, config.intermediate));
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                                 const torch::Tensor& allowed, LayerCache* cache, std::int64_t start,
                                 torch::Tensor* probsOut) {
  torch::Tensor h = x + attention_->forward(attentionNorm_->forward(x), cos, sin, allowed, cache, start, probsOut);
  return h + mlp_->forward(mlpNorm_->forward(h));
}

TinyVLImpl::TinyVLImpl(const TinyVLConfig& config) : config_(config) {
  embedding_ = register_parameter("embedding", torch::empty({config.vocabSize, config.hidden}));
  patchEmbedding_ = register_module("vision_patch_embedding", MakeLinear(config.PatchFeatures(), config.hidden, true));
  visionPositions_ = register_parameter("vision_positions", torch::empty({config.VisionTokens(), config.hidden}));
  for (std::int64_t i = 0; i < config.visionLayers; ++i) visionBlocks_->push_back(Block(config));
  register_module("vision_blocks", visionBlocks_);
  visionNorm_ = register_module("vision_norm", RMSNorm(config.hidden, config.rmsEps));
  projector_ = register_module("vision_projector", MakeLinear(config.hidden, config.hidden, true));
  for (std::int64_t i = 0; i < config.layers; ++i) decoderBlocks_->push_back(Block(config));
  register_module("decoder_blocks", decoderBlocks_);
  finalNorm_ = register_module("decoder_norm", RMSNorm(config.hidden, config.rmsEps));
  std::int64_t half = config.HeadDim() / 2;
  torch::Tensor exponents = torch::arange(0, half, torch::kDouble) / static_cast<double>(half);
  inverseFrequencies_ = register_buffer("rotary_inverse_frequencies",
                                        torch::pow(config.ropeTheta, -exponents).to(torch::kFloat));
}

void TinyVLImpl::Initialise(std::uint64_t seed) {
  torch::NoGradGuard noGrad;
  at::Generator generator = at::detail::createCPUGenerator(seed);
  // GPT-2-style: N(0, 0.02) everywhere, residual output projections scaled by 1/sqrt(2·layers) so the
  // residual stream's variance does not grow with depth; norms start at 1, biases at 0.
  const double residualStd = 0.02 / std::sqrt(2.0 * static_cast<double>(config_.layers + config_.visionLayers));
  for (auto& item : named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    torch::Tensor& p = item.value();
    auto endsWith = [&](const char* suffix) {
      std::string s(suffix);
      return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
    };
    torch::Tensor init = torch::empty(p.sizes(), torch::kFloat);
    if (name.find("norm") != std::string::npos) {
      init.fill_(1.0);
    } else if (endsWith(".bias")) {
      init.zero_();
    } else {
      bool residual = endsWith(".o.weight") || endsWith(".down.weight");
      init.normal_(0.0, residual ? residualStd : 0.02, generator);
    }
    p.copy_(init);
  }
}

std::pair<torch::Tensor, torch::Tensor> TinyVLImpl::Rotary(const torch::Tensor& positions) const {
  torch::Tensor angles = positions.to(torch::kFloat).unsqueeze(-1) * inverseFrequencies_;  // [B, L, D/2]
  torch::Tensor both = torch::cat({angles, angles}, -1);
  return {both.cos(), both.sin()};
}

torch::Tensor TinyVLImpl::EncodeImages(const torch::Tensor& images) {
  const std::int64_t n = images.size(0), p = config_.patchSize, c = config_.imageChannels;
  const std::int64_t rows = config_.imageHeight / p, cols = config_.imageWidth / p;
  // [N, H, W, C] → [N, rows, p, cols, p, C] → [N, rows, cols, p, p, C] → [N, rows·cols, p·p·C]
  torch::Tensor patches = images.reshape({n, rows, p, cols, p, c}).permute({0, 1, 3, 2, 4, 5}).reshape({n, rows * cols, p * p * c});
  torch::Tensor x = patchEmbedding_->forward(patches) + visionPositions_;
  for (const auto& block : *visionBlocks_) {
    x = block->as<BlockImpl>()->forward(x, {}, {}, {}, nullptr, 0, nullptr);
  }
  return projector_->forward(visionNorm_->forward(x));
}

torch::Tensor TinyVLImpl::EmbedTokens(const torch::Tensor& tokens) { return torch::embedding(embedding_, tokens); }

torch::Tensor TinyVLImpl::Decode(torch::Tensor x, const DecoderPass& pass) {
  auto [cos, sin] = Rotary(pass.positions);
  const std::int64_t statsLayer = config_.StatsLayer();
  for (std::int64_t i = 0; i < config_.layers; ++i) {
    LayerCache* cache = pass.cache ? &(*pass.cache)[static_cast<std::size_t>(i)] : nullptr;
    torch::Tensor* capture = i == statsLayer ? pass.capturedAttention : nullptr;
    x = decoderBlocks_[static_cast<std::size_t>(i)]->as<BlockImpl>()->forward(x, cos, sin, pass.allowed, cache, pass.start, capture);
  }
  return finalNorm_->forward(x);
}

torch::Tensor TinyVLImpl::Logits(const torch::Tensor& hidden) { return torch::matmul(hidden, embedding_.t()); }

std::vector<LayerCache> TinyVLImpl::NewCache(std::int64_t batch, std::int64_t capacity,
                                             const torch::TensorOptions& options) const {
  std::vector<LayerCache> cache(static_cast<std::size_t>(config_.layers));
  for (LayerCache& layer : cache) {
    layer.keys = torch::zeros({batch, config_.kvHeads, capacity, config_.HeadDim()}, options);
    layer.values = torch::zeros({batch, config_.kvHeads, capacity, config_.HeadDim()}, options);
  }
  return cache;
}

}  // namespace dyco::runner
