#include "runner_inputs.hpp"

#include <cmath>
#include <sstream>
#include <string>

#include "policy_loss_config.hpp"

namespace dyco::bind {

using runner::TinyVLConfig;

TinyVLConfig ReadModelConfig(const Arguments& args, const Napi::Object& c, const char* owner) {
  TinyVLConfig config;
  auto size = [&](const char* key, std::int64_t fallback) {
    return static_cast<std::int64_t>(args.Size(c, key, owner, 0, fallback));
  };
  config.vocabSize = size("vocabSize", config.vocabSize);
  config.hidden = size("hidden", config.hidden);
  config.layers = size("layers", config.layers);
  config.heads = size("heads", config.heads);
  config.kvHeads = size("kvHeads", config.kvHeads);
  config.intermediate = size("intermediate", config.intermediate);
  config.maxContext = size("maxContext", config.maxContext);
  config.ropeTheta = args.Number(c, "ropeTheta", owner, config.ropeTheta);
  config.rmsEps = args.Number(c, "rmsEps", owner, config.rmsEps);
  config.imageHeight = size("imageHeight", config.imageHeight);
  config.imageWidth = size("imageWidth", config.imageWidth);
  config.imageChannels = size("imageChannels", config.imageChannels);
  config.patchSize = size("patchSize", config.patchSize);
  config.visionLayers = size("visionLayers", config.visionLayers);
  config.imageTokenId = size("imageTokenId", config.imageTokenId);
  config.attentionLayer = args.Integer(c, "attentionLayer", owner, -(1ll << 20), 1ll << 20, config.attentionLayer);
  // Guard against sizes that would allocate absurd amounts before LibTorch even starts.
  const double parameters = static_cast<double>(config.vocabSize) * static_cast<double>(config.hidden) +
                            static_cast<double>(config.layers + config.visionLayers) *
                                (4.0 * static_cast<double>(config.hidden) * static_cast<double>(config.hidden) +
                                 3.0 * static_cast<double>(config.hidden) * static_cast<double>(config.intermediate));
  if (parameters > 4e9)
    args.ThrowRange(std::string(owner) + " describes about " + std::to_string(static_cast<long long>(parameters)) +
                    " parameters; tiny-vl supports at most 4e9");
  for (const runner::ConfigProblem& problem : runner::Validate(config)) {
    std::ostringstream value;
    value << problem.value;
    args.ThrowRange(std::string(owner) + "." + problem.field + " must be " + problem.expected + " (got " + value.str() + ")");
  }
  return config;
}

runner::AdamWOptions ReadOptimizerOptions(const Arguments& args, const Napi::Object& o, const char* owner) {
  runner::AdamWOptions options;
  auto inRange = [&](const char* key, double fallback, double low, double high, bool openLow) {
    double value = args.Number(o, key, owner, fallback);
    if (value > high || value < low || (openLow && value == low))
      args.ThrowRange(Qualified(owner, key) + " must be in " + (openLow ? "(" : "[") + std::to_string(low) + ", " +
                      std::to_string(high) + "] (got " + std::to_string(value) + ")");
    return value;
  };
  options.learningRate = inRange("learningRate", options.learningRate, 0.0, 10.0, false);
  options.beta1 = inRange("beta1", options.beta1, 0.0, 0.999999, false);
  options.beta2 = inRange("beta2", options.beta2, 0.0, 0.999999999, false);
  options.eps = inRange("eps", options.eps, 0.0, 1.0, true);
  options.weightDecay = inRange("weightDecay", options.weightDecay, 0.0, 1.0, false);
  options.maxGradNorm = inRange("maxGradNorm", options.maxGradNorm, 0.0, 1e12, false);
  return options;
}

runner::PromptInputs ReadPrompts(const Arguments& args, const Napi::Object& object, const char* owner,
                                 const TinyVLConfig& config, KernelCall& call) {
  runner::PromptInputs inputs;
  Napi::Value promptsValue = object.Get("prompts");
  const std::string promptsName = Qualified(owner, "prompts");
  if (!promptsValue.IsArray())
    args.ThrowType(promptsName + " must be an Array of Int32Array (got " + Describe(promptsValue) + ")");
  Napi::Array prompts = promptsValue.As<Napi::Array>();
  if (prompts.Length() == 0) args.ThrowRange(promptsName + " must hold at least one prompt");
  for (std::uint32_t i = 0; i < prompts.Length(); ++i) {
    ArrayView<std::int32_t> view = args.Int32(prompts.Get(i), promptsName + "[" + std::to_string(i) + "]", false);
    call.Keep(view.handle);
    inputs.prompts.push_back({view.data, view.length});
  }
  inputs.groupSize = static_cast<std::int64_t>(args.Size(object, "groupSize", owner, 1, 1));

  Napi::Value images = object.Get("images");
  const std::string imagesName = Qualified(owner, "images");
  const std::size_t perImage = static_cast<std::size_t>(config.imageHeight * config.imageWidth * config.imageChannels);
  const std::size_t expected = CheckedProduct(perImage, prompts.Length());
  const std::string shape = "prompts.length × imageHeight × imageWidth × imageChannels";
  if (images.IsTypedArray() && images.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    ArrayView<std::uint8_t> view = args.Uint8(images, imagesName, false);
    args.ExpectLength(view.length, expected, imagesName, shape);
    inputs.imagesBytes = view.data;
    call.Keep(view.handle);
  } else {
    if (!images.IsTypedArray() || images.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      args.ThrowType(imagesName + " must be a Float32Array or Uint8Array (got " + Describe(images) + ")");
    ArrayView<float> view = args.Float32(images, imagesName, false);
    args.ExpectLength(view.length, expected, imagesName, shape);
    for (std::size_t i = 0; i < view.length; ++i) {
      if (!std::isfinite(view.data[i]))
        args.ThrowRange(imagesName + "[" + std::to_string(i) + "] must be a finite number (got " +
                        std::to_string(view.data[i]) + ")");
    }
    inputs.imagesFloat = view.data;
    call.Keep(view.handle);
  }
  std::string problem = runner::ValidatePrompts(config, inputs);
  if (!problem.empty()) args.ThrowRange(std::string(owner) + "." + problem);
  return inputs;
}

void CheckContext(const Arguments& args, const TinyVLConfig& config, const runner::PromptInputs& prompts,
                  std::size_t steps, const std::string& stepsName) {
  runner::PromptLayout layout = runner::LayoutPrompts(config, prompts);
  if (static_cast<std::size_t>(layout.width) + steps > static_cast<std::size_t>(config.maxContext))
    args.ThrowRange("the longest prompt (" + std::to_string(layout.width) + " positions with its " +
                    std::to_string(layout.visionTokens) + " vision tokens) plus " + stepsName + " (" +
                    std::to_string(steps) + ") exceeds config.maxContext (" + std::to_string(config.maxContext) + ")");
}

runner::CompletionInputs ReadCompletions(const Arguments& args, const Napi::Object& object, const char* owner,
                                         const TinyVLConfig& config, const runner::PromptInputs& prompts,
                                         KernelCall& call) {
  runner::CompletionInputs completions;
  const std::size_t batch = prompts.prompts.size() * static_cast<std::size_t>(prompts.groupSize);
  const std::size_t steps = args.Size(object, "steps", owner, 1);
  completions.steps = static_cast<std::int64_t>(steps);
  const std::size_t n = CheckedProduct(batch, steps);
  const std::string shape = "prompts.length × groupSize × steps";
  ArrayView<std::int32_t> tokens = args.Int32(object, "tokens", owner, false);
  args.ExpectLength(tokens.length, n, Qualified(owner, "tokens"), shape);
  for (std::size_t i = 0; i < n; ++i) {
    if (tokens.data[i] < 0 || tokens.data[i] >= config.vocabSize)
      args.ThrowRange(Qualified(owner, "tokens") + "[" + std::to_string(i) + "] must be a token id in [0, " +
                      std::to_string(config.vocabSize) + ") (got " + std::to_string(tokens.data[i]) + ")");
  }
  ArrayView<std::uint8_t> mask = args.Uint8(object, "mask", owner, false);
  args.ExpectLength(mask.length, n, Qualified(owner, "mask"), shape);
  for (std::size_t i = 0; i < n; ++i) {
    if (mask.data[i] > 1)
      args.ThrowRange(Qualified(owner, "mask") + "[" + std::to_string(i) + "] must be 0 or 1 (got " +
                      std::to_string(mask.data[i]) + ")");
  }
  completions.tokens = tokens.data;
  completions.mask = mask.data;
  call.Keep(tokens.handle);
  call.Keep(mask.handle);
  completions.temperature = args.Number(object, "temperature", owner, 1.0);
  if (!(completions.temperature > 0))
    args.ThrowRange(Qualified(owner, "temperature") + " must be > 0 (got " + std::to_string(completions.temperature) + ")");
  CheckContext(args, config, prompts, steps, Qualified(owner, "steps"));
  return completions;
}

runner::PolicyLossTerms ReadLossTerms(const Arguments& args, const Napi::Object& object, const char* owner,
                                      std::size_t batch, std::size_t steps, const std::uint8_t* mask, KernelCall& call) {
  runner::PolicyLossTerms terms;
  const std::size_t n = CheckedProduct(batch, steps);
  const std::string shape = "batch sequences × steps";
  ArrayView<float> advantages = args.Float32(object, "advantages", owner, false);
  if (advantages.length != batch && advantages.length != n)
    args.ThrowRange(Qualified(owner, "advantages") + " has " + std::to_string(advantages.length) +
                    " elements but must have one per sequence (" + std::to_string(batch) + ") or one per token (" +
                    std::to_string(n) + ")");
  terms.advantages = advantages.data;
  terms.perTokenAdvantages = advantages.length != batch;
  call.Keep(advantages.handle);
  ArrayView<float> oldLogp = args.Float32(object, "oldLogp", owner, true);
  if (oldLogp) args.ExpectLength(oldLogp.length, n, Qualified(owner, "oldLogp"), shape);
  terms.oldLogp = oldLogp.data;
  call.Keep(oldLogp.handle);
  ArrayView<float> refLogp = args.Float32(object, "refLogp", owner, true);
  if (refLogp) args.ExpectLength(refLogp.length, n, Qualified(owner, "refLogp"), shape);
  terms.refLogp = refLogp.data;
  call.Keep(refLogp.handle);
  terms.mask = mask;
  Napi::Value loss = object.Get("loss");
  std::string lossName = Qualified(owner, "loss");
  if (loss.IsUndefined()) {
    terms.config = DefaultPolicyLossConfig(PolicyAlgorithm::kGrpo);
  } else {
    if (!loss.IsObject() || loss.IsArray() || loss.IsTypedArray())
      args.ThrowType(lossName + " must be an object (got " + Describe(loss) + ")");
    terms.config = ReadPolicyLossConfig(args, loss.As<Napi::Object>(), lossName.c_str());
  }
  return terms;
}

}  // namespace dyco::bind
