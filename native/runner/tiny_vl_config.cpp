#include "tiny_vl_config.hpp"

namespace dyco::runner {

std::vector<ConfigProblem> Validate(const TinyVLConfig& c) {
  std::vector<ConfigProblem> problems;
  auto require = [&](bool ok, const char* field, std::string expected, double value) {
    if (!ok) problems.push_back({field, std::move(expected), value});
  };
  require(c.vocabSize >= 2, "vocabSize", "an integer ≥ 2", static_cast<double>(c.vocabSize));
  require(c.hidden >= 2, "hidden", "an integer ≥ 2", static_cast<double>(c.hidden));
  require(c.layers >= 1, "layers", "an integer ≥ 1", static_cast<double>(c.layers));
  require(c.heads >= 1 && c.hidden % c.heads == 0, "heads", "a divisor of hidden (" + std::to_string(c.hidden) + ")",
          static_cast<double>(c.heads));
  // Rotary embeddings rotate pairs of channels, so each head needs an even width.
  if (c.heads >= 1 && c.hidden % c.heads == 0)
    require(c.HeadDim() % 2 == 0, "heads", "such that hidden / heads is even (rotary pairs)", static_cast<double>(c.heads));
  require(c.kvHeads >= 1 && c.heads % c.kvHeads == 0, "kvHeads", "a divisor of heads (" + std::to_string(c.heads) + ")",
          static_cast<double>(c.kvHeads));
  require(c.intermediate >= 1, "intermediate", "an integer ≥ 1", static_cast<double>(c.intermediate));
  require(c.ropeTheta > 1.0, "ropeTheta", "a number > 1", c.ropeTheta);
  require(c.rmsEps > 0.0 && c.rmsEps < 1.0, "rmsEps", "a number in (0, 1)", c.rmsEps);
  require(c.imageChannels >= 1, "imageChannels", "an integer ≥ 1", static_cast<double>(c.imageChannels));
  require(c.patchSize >= 1, "patchSize", "an integer ≥ 1", static_cast<double>(c.patchSize));
  if (c.patchSize >= 1) {
    require(c.imageHeight >= c.patchSize && c.imageHeight % c.patchSize == 0, "imageHeight",
            "a positive multiple of patchSize (" + std::to_string(c.patchSize) + ")", static_cast<double>(c.imageHeight));
    require(c.imageWidth >= c.patchSize && c.imageWidth % c.patchSize == 0, "imageWidth",
            "a positive multiple of patchSize (" + std::to_string(c.patchSize) + ")", static_cast<double>(c.imageWidth));
  }
  require(c.visionLayers >= 0, "visionLayers", "an integer ≥ 0", static_cast<double>(c.visionLayers));
  require(c.imageTokenId >= 0 && c.imageTokenId < c.vocabSize, "imageTokenId",
          "a token id below vocabSize (" + std::to_string(c.vocabSize) + ")", static_cast<double>(c.imageTokenId));
  require(c.attentionLayer >= -c.layers && c.attentionLayer < c.layers, "attentionLayer",
          "a layer index in [-layers, layers) (" + std::to_string(c.layers) + " layers)",
          static_cast<double>(c.attentionLayer));
  if (problems.empty())
    require(c.maxContext > c.VisionTokens(), "maxContext",
            "larger than the image's " + std::to_string(c.VisionTokens()) + " vision tokens",
            static_cast<double>(c.maxContext));
  return problems;
}

}  // namespace dyco::runner
