#include "prompt_batch.hpp"

#include <algorithm>

namespace dyco::runner {

std::string ValidatePrompts(const TinyVLConfig& config, const PromptInputs& inputs) {
  for (std::size_t p = 0; p < inputs.prompts.size(); ++p) {
    const TokenSpan& prompt = inputs.prompts[p];
    std::size_t images = 0;
    for (std::size_t j = 0; j < prompt.length; ++j) {
      std::int32_t token = prompt.data[j];
      if (token < 0 || token >= config.vocabSize)
        return "prompts[" + std::to_string(p) + "][" + std::to_string(j) + "] must be a token id in [0, " +
               std::to_string(config.vocabSize) + ") (got " + std::to_string(token) + ")";
      if (token == config.imageTokenId) ++images;
    }
    if (images != 1)
      return "prompts[" + std::to_string(p) + "] must contain the image token (id " + std::to_string(config.imageTokenId) +
             ") exactly once (found " + std::to_string(images) + ")";
  }
  return "";
}

PromptLayout LayoutPrompts(const TinyVLConfig& config, const PromptInputs& inputs) {
  PromptLayout layout;
  layout.prompts = static_cast<std::int64_t>(inputs.prompts.size());
  layout.visionTokens = config.VisionTokens();
  std::vector<std::int64_t> before(inputs.prompts.size());
  for (std::size_t p = 0; p < inputs.prompts.size(); ++p) {
    const TokenSpan& prompt = inputs.prompts[p];
    before[p] = std::find(prompt.data, prompt.data + prompt.length, config.imageTokenId) - prompt.data;
    layout.realLength.push_back(static_cast<std::int64_t>(prompt.length) - 1 + layout.visionTokens);
    layout.width = std::max(layout.width, layout.realLength.back());
  }
  for (std::size_t p = 0; p < inputs.prompts.size(); ++p) {
    layout.padding.push_back(layout.width - layout.realLength[p]);
    layout.imageStart.push_back(layout.padding[p] + before[p]);
  }
  return layout;
}

ModalityRuns PromptLayout::Runs(std::int64_t p, std::int64_t capacity) const {
  ModalityRuns runs;
  auto begin = static_cast<std::size_t>(imageStart[p]);
  auto visionEnd = begin + static_cast<std::size_t>(visionTokens);
  runs.vision.push_back({begin, visionEnd});
  if (static_cast<std::size_t>(capacity) > visionEnd) runs.text.push_back({visionEnd, static_cast<std::size_t>(capacity)});
  return runs;
}

std::vector<std::uint8_t> PromptLayout::Labels(std::int64_t p, std::int64_t capacity) const {
  std::vector<std::uint8_t> labels(static_cast<std::size_t>(capacity), kOther);
  ModalityRuns runs = Runs(p, capacity);
  for (const KeyRun& run : runs.vision) std::fill(labels.begin() + run.begin, labels.begin() + run.end, kVision);
  for (const KeyRun& run : runs.text) std::fill(labels.begin() + run.begin, labels.begin() + run.end, kText);
  return labels;
}

namespace {

// [N, H, W, C] float on `device`. Float input is wrapped without a copy on the CPU.
torch::Tensor ImagesTensor(const TinyVLConfig& config, const PromptInputs& inputs, torch::Device device) {
  std::vector<std::int64_t> shape{static_cast<std::int64_t>(inputs.prompts.size()), config.imageHeight,
                                  config.imageWidth, config.imageChannels};
  if (inputs.imagesFloat != nullptr) {
    torch::Tensor view = torch::from_blob(const_cast<float*>(inputs.imagesFloat), shape, torch::kFloat);
    return view.to(device);
  }
  torch::Tensor bytes = torch::from_blob(const_cast<std::uint8_t*>(inputs.imagesBytes), shape, torch::kUInt8);
  return bytes.to(device).to(torch::kFloat) / 255.0;
}

}  // namespace

PromptTensors EmbedPrompts(TinyVLImpl& model, const PromptLayout& layout, const PromptInputs& inputs, torch::Device device) {
  const TinyVLConfig& config = model.config();
  torch::Tensor vision = model.EncodeImages(ImagesTensor(config, inputs, device));  // [N, VT, D]
  auto longOptions = torch::TensorOptions().dtype(torch::kLong);
  std::vector<torch::Tensor> rows;
  std::vector<torch::Tensor> valid, positions;
  for (std::int64_t p = 0; p < layout.prompts; ++p) {
    const TokenSpan& prompt = inputs.prompts[static_cast<std::size_t>(p)];
    std::int64_t before = layout.imageStart[p] - layout.padding[p];
    std::int64_t after = static_cast<std::int64_t>(prompt.length) - before - 1;
    torch::Tensor tokens = torch::from_blob(const_cast<std::int32_t*>(prompt.data), {static_cast<std::int64_t>(prompt.length)},
                                            torch::kInt).to(torch::kLong).to(device);
    std::vector<torch::Tensor> parts;
    if (layout.padding[p] > 0) parts.push_back(torch::zeros({layout.padding[p], config.hidden}, vision.options()));
    parts.push_back(model.EmbedTokens(tokens.narrow(0, 0, before)));
    parts.push_back(vision[p]);
    parts.push_back(model.EmbedTokens(tokens.narrow(0, before + 1, after)));
    rows.push_back(torch::cat(parts, 0));
    torch::Tensor v = torch::arange(layout.width, longOptions) >= layout.padding[p];
    valid.push_back(v);
    positions.push_back((torch::arange(layout.width, longOptions) - layout.padding[p]).clamp_min(0));
  }
  PromptTensors out;
  out.embeddings = torch::stack(rows).repeat_interleave(inputs.groupSize, 0);
  out.valid = torch::stack(valid).repeat_interleave(inputs.groupSize, 0).to(device);
  out.positions = torch::stack(positions).repeat_interleave(inputs.groupSize, 0).to(device);
  return out;
}

torch::Tensor AllowedKeys(const torch::Tensor& keyValid, std::int64_t start, std::int64_t length) {
  const std::int64_t keys = keyValid.size(1);
  auto options = torch::TensorOptions().dtype(torch::kLong).device(keyValid.device());
  torch::Tensor query = torch::arange(start, start + length, options).unsqueeze(1);  // [L, 1]
  torch::Tensor key = torch::arange(keys, options).unsqueeze(0);                     // [1, K]
  torch::Tensor causal = key <= query;                                               // [L, K]
  torch::Tensor self = key == query;
  torch::Tensor allowed = causal.unsqueeze(0) & (keyValid.unsqueeze(1) | self.unsqueeze(0));  // [B, L, K]
  return allowed.unsqueeze(1);
}

}  // namespace dyco::runner
