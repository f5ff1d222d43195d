#include "policy.hpp"

#include <algorithm>
#include <sstream>

#include "reference_policy_loss.hpp"

namespace dyco::runner {
namespace {

// The sampler's stream is derived from the seed but differs from the weights' stream.
constexpr std::uint64_t kSamplerStream = 0x9E3779B97F4A7C15ull;

std::vector<std::pair<std::string, torch::Tensor>> NamedParameters(TinyVLImpl& model) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (auto& item : model.named_parameters(/*recurse=*/true)) out.emplace_back(item.key(), item.value());
  return out;
}

torch::Tensor RowOfTokens(const std::int32_t* data, std::int64_t rows, std::int64_t cols, torch::Device device) {
  return torch::from_blob(const_cast<std::int32_t*>(data), {rows, cols}, torch::kInt).to(device, torch::kLong);
}

torch::Tensor MaskTensor(const std::uint8_t* data, std::int64_t rows, std::int64_t cols, torch::Device device) {
  return torch::from_blob(const_cast<std::uint8_t*>(data), {rows, cols}, torch::kUInt8).to(device, torch::kFloat);
}

std::vector<float> ToVector(const torch::Tensor& t) {
  torch::Tensor host = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
  return std::vector<float>(host.data_ptr<float>(), host.data_ptr<float>() + host.numel());
}

}  // namespace

Policy::Policy(const TinyVLConfig& config, torch::Device device, std::uint64_t seed, AdamWOptions optimizer)
    : config_(config),
      device_(device),
      model_(config),
      reference_(config),
      optimizer_({}, optimizer),
      sampler_(seed ^ kSamplerStream) {
  model_->Initialise(seed);
  model_->to(device_);
  reference_->to(device_);
  for (auto& p : reference_->parameters()) p.set_requires_grad(false);
  SyncReference();
  optimizer_ = AdamW(NamedParameters(*model_), optimizer);
}

std::int64_t Policy::ParameterCount() const {
  std::int64_t count = 0;
  for (const auto& p : model_->parameters()) count += p.numel();
  return count;
}

void Policy::SyncReference() {
  torch::NoGradGuard noGrad;
  auto source = model_->parameters();
  auto target = reference_->parameters();
  for (std::size_t i = 0; i < source.size(); ++i) target[i].copy_(source[i]);
}

void Policy::FillAttentionLayout(const PromptLayout& layout, std::int64_t groupSize, std::int64_t steps,
                                 AttentionMaps* maps) const {
  maps->keys = layout.width + steps;
  const std::int64_t batch = layout.prompts * groupSize;
  maps->rows.assign(static_cast<std::size_t>(batch * steps * maps->keys), 0.0f);
  maps->lengths.assign(static_cast<std::size_t>(batch * steps), 0);
  maps->modality.clear();
  for (std::int64_t b = 0; b < batch; ++b) {
    std::vector<std::uint8_t> labels = layout.Labels(b / groupSize, maps->keys);
    maps->modality.insert(maps->modality.end(), labels.begin(), labels.end());
  }
}

Status Policy::Generate(const PromptInputs& prompts, const GenerateOptions& options, Rollout* out) {
  torch::NoGradGuard noGrad;
  TinyVLImpl& model = *model_;
  const PromptLayout layout = LayoutPrompts(config_, prompts);
  const std::int64_t group = prompts.groupSize;
  const std::int64_t batch = layout.prompts * group;
  const std::int64_t steps = options.maxNewTokens;
  const std::int64_t width = layout.width;
  const std::int64_t capacity = width + steps;
  const std::size_t cells = static_cast<std::size_t>(batch * steps);

  out->batch = batch;
  out->steps = steps;
  out->tokens.assign(cells, static_cast<std::int32_t>(options.padId));
  out->mask.assign(cells, 0);
  out->lengths.assign(static_cast<std::size_t>(batch), 0);
  out->truncated.assign(static_cast<std::size_t>(batch), 0);
  for (auto* v : {&out->logprobs, &out->ratioVis, &out->ratioTxt, &out->frVis, &out->frTxt}) v->assign(cells, 0.0f);
  if (options.returnAttention) FillAttentionLayout(layout, group, steps, &out->attention);

  PromptTensors prompt = EmbedPrompts(model, layout, prompts, device_);
  auto boolOptions = torch::TensorOptions().dtype(torch::kBool).device(device_);
  torch::Tensor keyValid = torch::cat({prompt.valid, torch::ones({batch, steps}, boolOptions)}, 1);
  std::vector<LayerCache> cache = model.NewCache(batch, capacity, prompt.embeddings.options());
  std::vector<std::int64_t> realLength(static_cast<std::size_t>(batch));
  std::vector<ModalityRuns> runs;
  for (std::int64_t b = 0; b < batch; ++b) {
    realLength[b] = layout.realLength[b / group];
    runs.push_back(layout.Runs(b / group, capacity));
  }

  // Prefill: every prompt position at once; the last one emits token 0.
  torch::Tensor attention;
  DecoderPass pass;
  pass.positions = prompt.positions;
  pass.allowed = AllowedKeys(keyValid.narrow(1, 0, width), 0, width);
  pass.cache = &cache;
  pass.start = 0;
  pass.capturedAttention = options.statistics || options.returnAttention ? &attention : nullptr;
  torch::Tensor hidden = model.Decode(prompt.embeddings, pass);
  torch::Tensor logits = model.Logits(hidden.select(1, width - 1));
  torch::Tensor emittingRow = attention.defined() ? attention.select(1, width - 1) : torch::Tensor();

  // Only the previous attention row of each sequence is kept for the Fisher–Rao shifts.
  std::vector<float> previous(static_cast<std::size_t>(batch * capacity), 0.0f);
  std::vector<char> finished(static_cast<std::size_t>(batch), 0);
  std::vector<double> scratch;
  std::vector<std::int32_t> order;
  std::vector<std::int64_t> next(static_cast<std::size_t>(batch), options.padId);

  for (std::int64_t t = 0; t < steps; ++t) {
    const std::int64_t keys = width + t;  // keys the emitting query of token t sees
    torch::Tensor hostLogits = logits.to(torch::kCPU, torch::kFloat).contiguous();
    torch::Tensor hostRows;
    if (emittingRow.defined()) hostRows = emittingRow.to(torch::kCPU, torch::kFloat).contiguous();
    for (std::int64_t b = 0; b < batch; ++b) {
      if (finished[b]) {
        next[b] = options.padId;
        continue;
      }
      const std::size_t cell = static_cast<std::size_t>(b * steps + t);
      SampledToken sampled = SampleToken(hostLogits.data_ptr<float>() + b * config_.vocabSize,
                                         static_cast<std::size_t>(config_.vocabSize), options.sampling, sampler_, scratch, order);
      out->tokens[cell] = sampled.token;
      out->logprobs[cell] = sampled.logprob;
      out->mask[cell] = 1;
      out->lengths[b] += 1;
      next[b] = sampled.token;
      if (hostRows.defined()) {
        const float* row = hostRows.data_ptr<float>() + b * keys;
        if (options.statistics) {
          float* prev = previous.data() + b * capacity;
          AttentionStatsStepOutput stats;
          Status status = AttentionStatsStep(t == 0 ? nullptr : prev, static_cast<std::size_t>(keys - 1), row,
                                             static_cast<std::size_t>(keys), runs[b], &stats);
          if (!status.ok) return status;
          out->ratioVis[cell] = stats.ratioVis;
          out->ratioTxt[cell] = stats.ratioTxt;
          out->frVis[cell] = stats.frVis;
          out->frTxt[cell] = stats.frTxt;
          std::copy(row, row + keys, prev);
        }
        if (options.returnAttention) {
          std::copy(row, row + keys, out->attention.rows.begin() + static_cast<std::ptrdiff_t>(cell * out->attention.keys));
          out->attention.lengths[cell] = static_cast<std::int32_t>(keys);
        }
      }
      if (options.eosId >= 0 && sampled.token == options.eosId) finished[b] = 1;
    }
    if (t + 1 == steps || std::all_of(finished.begin(), finished.end(), [](char f) { return f != 0; })) break;

    // Feed token t at cache position width + t; its query emits token t + 1.
    const std::int64_t position = width + t;
    torch::Tensor tokens = torch::from_blob(next.data(), {batch, 1}, torch::kLong).to(device_);
    std::vector<std::int64_t> rotary(static_cast<std::size_t>(batch));
    for (std::int64_t b = 0; b < batch; ++b) rotary[b] = realLength[b] + t;
    pass.positions = torch::from_blob(rotary.data(), {batch, 1}, torch::kLong).to(device_);
    pass.allowed = AllowedKeys(keyValid.narrow(1, 0, position + 1), position, 1);
    pass.start = position;
    hidden = model.Decode(model.EmbedTokens(tokens), pass);
    logits = model.Logits(hidden.select(1, 0));
    if (attention.defined()) emittingRow = attention.select(1, 0);
  }
  for (std::int64_t b = 0; b < batch; ++b) out->truncated[b] = finished[b] ? 0 : 1;
  return Status::Ok();
}

torch::Tensor Policy::TeacherForcedLogits(TinyVLImpl& model, const PromptInputs& prompts,
                                          const CompletionInputs& completions, torch::Tensor* attention,
                                          torch::Tensor* tokensOut) {
  const PromptLayout layout = LayoutPrompts(config_, prompts);
  const std::int64_t batch = layout.prompts * prompts.groupSize;
  const std::int64_t steps = completions.steps;
  const std::int64_t width = layout.width;
  PromptTensors prompt = EmbedPrompts(model, layout, prompts, device_);
  torch::Tensor tokens = RowOfTokens(completions.tokens, batch, steps, device_);
  torch::Tensor x = torch::cat({prompt.embeddings, model.EmbedTokens(tokens)}, 1);
  auto boolOptions = torch::TensorOptions().dtype(torch::kBool).device(device_);
  torch::Tensor keyValid = torch::cat({prompt.valid, torch::ones({batch, steps}, boolOptions)}, 1);
  std::vector<std::int64_t> realLength(static_cast<std::size_t>(batch));
  for (std::int64_t b = 0; b < batch; ++b) realLength[b] = layout.realLength[b / prompts.groupSize];
  torch::Tensor completionPositions =
      torch::from_blob(realLength.data(), {batch, 1}, torch::kLong).to(device_) +
      torch::arange(steps, torch::TensorOptions().dtype(torch::kLong).device(device_)).unsqueeze(0);
  DecoderPass pass;
  pass.positions = torch::cat({prompt.positions, completionPositions}, 1);
  pass.allowed = AllowedKeys(keyValid, 0, width + steps);
  pass.capturedAttention = attention;
  torch::Tensor hidden = model.Decode(x, pass);
  *tokensOut = tokens;
  // The output at position width - 1 + t predicts completion token t.
  return model.Logits(hidden.narrow(1, width - 1, steps));
}

torch::Tensor Policy::TeacherForced(TinyVLImpl& model, const PromptInputs& prompts, const CompletionInputs& completions,
                                    torch::Tensor* attention) {
  torch::Tensor tokens;
  torch::Tensor logits = TeacherForcedLogits(model, prompts, completions, attention, &tokens);
  return SelectiveLogSoftmax(logits, tokens, completions.temperature);
}

torch::Tensor Policy::Loss(const PromptInputs& prompts, const CompletionInputs& completions, const PolicyLossTerms& terms,
                           LossImplementation implementation, PolicyLossMetrics* metrics) {
  if (implementation == LossImplementation::kLogits) {
    LogitsLossOptions options;
    options.temperature = completions.temperature;
    options.targets = completions.tokens;
    torch::Tensor logits = TeacherForcedLogits(*model_, prompts, completions, nullptr, &options.targetTensor);
    // The matmul's backward keeps its inputs, not this output, and nothing else reads it: the node
    // may write ∂loss/∂logits over it (one B×T×V buffer for the whole loss).
    options.overwriteLogits = true;
    return FusedLogitsPolicyLoss(logits, terms, options, metrics);
  }
  torch::Tensor logp = TeacherForced(*model_, prompts, completions, nullptr);
  if (implementation == LossImplementation::kLogprobs) return FusedPolicyLoss(logp, terms, metrics);
  const std::int64_t batch = logp.size(0), steps = logp.size(1);
  ReferenceLossInputs in;
  in.logp = logp;
  auto host = [&](const float* data, std::int64_t n) {
    return torch::from_blob(const_cast<float*>(data), {n}, torch::kFloat).to(device_);
  };
  if (terms.oldLogp) in.oldLogp = host(terms.oldLogp, batch * steps).view({batch, steps});
  if (terms.refLogp) in.refLogp = host(terms.refLogp, batch * steps).view({batch, steps});
  in.advantages = terms.perTokenAdvantages ? host(terms.advantages, batch * steps).view({batch, steps})
                                           : host(terms.advantages, batch);
  in.mask = MaskTensor(terms.mask, batch, steps, device_);
  return ReferencePolicyLoss(in, terms.config);
}

std::vector<float> Policy::Logprobs(const PromptInputs& prompts, const CompletionInputs& completions, bool reference,
                                    AttentionMaps* maps) {
  torch::NoGradGuard noGrad;
  torch::Tensor attention;
  torch::Tensor logp = TeacherForced(reference ? *reference_ : *model_, prompts, completions, maps ? &attention : nullptr);
  const std::int64_t batch = logp.size(0), steps = completions.steps;
  torch::Tensor mask = MaskTensor(completions.mask, batch, steps, device_);
  std::vector<float> out = ToVector(logp * mask);
  if (maps != nullptr) {
    // Row t of sequence b is the attention of the query that emits token t: position width - 1 + t.
    const PromptLayout layout = LayoutPrompts(config_, prompts);
    FillAttentionLayout(layout, prompts.groupSize, steps, maps);
    torch::Tensor rows = attention.narrow(1, layout.width - 1, steps).to(torch::kCPU, torch::kFloat).contiguous();
    const std::int64_t fullKeys = rows.size(2);  // width + steps
    const float* data = rows.data_ptr<float>();
    for (std::int64_t b = 0; b < batch; ++b) {
      for (std::int64_t t = 0; t < steps; ++t) {
        const std::size_t cell = static_cast<std::size_t>(b * steps + t);
        if (!completions.mask[cell]) continue;
        const std::int64_t keys = layout.width + t;
        const float* row = data + (b * steps + t) * fullKeys;
        std::copy(row, row + keys, maps->rows.begin() + static_cast<std::ptrdiff_t>(cell * maps->keys));
        maps->lengths[cell] = static_cast<std::int32_t>(keys);
      }
    }
  }
  return out;
}

Status Policy::Gradients(const PromptInputs& prompts, const CompletionInputs& completions, const PolicyLossTerms& terms,
                         LossImplementation implementation, double* loss, std::vector<NamedTensor>* gradients) {
  optimizer_.ZeroGrad();
  torch::Tensor value;
  PolicyLossMetrics metrics;
  try {
    value = Loss(prompts, completions, terms, implementation, &metrics);
  } catch (const StatusException& e) {
    return e.status;
  }
  value.backward();
  *loss = value.item<double>();
  gradients->clear();
  for (const auto& [name, p] : optimizer_.parameters()) {
    gradients->push_back({name, p.grad().defined() ? p.grad().detach().to(torch::kCPU).clone() : torch::zeros_like(p, torch::kCPU)});
  }
  optimizer_.ZeroGrad();
  return Status::Ok();
}

Status Policy::TrainStep(const PromptInputs& prompts, const CompletionInputs& completions, const PolicyLossTerms& terms,
                         double lr, LossImplementation implementation, StepResult* out) {
  optimizer_.ZeroGrad();
  torch::Tensor loss;
  try {
    loss = Loss(prompts, completions, terms, implementation, &out->loss);
  } catch (const StatusException& e) {
    return e.status;
  }
  if (implementation == LossImplementation::kReference) out->loss.loss = loss.item<double>();  // no metrics from it
  loss.backward();
  out->learningRate = lr < 0 ? optimizer_.options().learningRate : lr;
  out->gradNorm = optimizer_.Step(out->learningRate);
  out->step = optimizer_.step();
  optimizer_.ZeroGrad();
  return Status::Ok();
}

StepResult Policy::SftStep(const PromptInputs& prompts, const CompletionInputs& completions, double lr) {
  optimizer_.ZeroGrad();
  torch::Tensor logp = TeacherForced(*model_, prompts, completions, nullptr);
  torch::Tensor mask = MaskTensor(completions.mask, logp.size(0), logp.size(1), device_);
  torch::Tensor loss = -(logp * mask).sum() / mask.sum().clamp_min(1.0);
  loss.backward();
  StepResult out;
  out.loss.loss = loss.item<double>();
  out.learningRate = lr < 0 ? optimizer_.options().learningRate : lr;
  out.gradNorm = optimizer_.Step(out.learningRate);
  out.step = optimizer_.step();
  optimizer_.ZeroGrad();
  return out;
}

std::vector<NamedTensor> Policy::ExportTensors() const {
  std::vector<NamedTensor> out;
  auto host = [](const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kFloat).contiguous(); };
  for (const auto& item : model_->named_parameters(true)) out.push_back({"model." + item.key(), host(item.value())});
  for (const auto& item : reference_->named_parameters(true)) out.push_back({"reference." + item.key(), host(item.value())});
  for (std::size_t i = 0; i < optimizer_.parameters().size(); ++i) {
    out.push_back({"optimizer.m." + optimizer_.parameters()[i].first, host(optimizer_.firstMoments()[i])});
    out.push_back({"optimizer.v." + optimizer_.parameters()[i].first, host(optimizer_.secondMoments()[i])});
  }
  return out;
}

std::string Policy::ImportTensors(const std::vector<NamedView>& tensors) {
  // Every destination by name, so a checkpoint with a missing, extra or wrongly sized tensor is
  // rejected before anything is overwritten.
  std::vector<std::pair<std::string, torch::Tensor>> targets;
  for (const auto& item : model_->named_parameters(true)) targets.emplace_back("model." + item.key(), item.value());
  for (const auto& item : reference_->named_parameters(true)) targets.emplace_back("reference." + item.key(), item.value());
  for (std::size_t i = 0; i < optimizer_.parameters().size(); ++i) {
    targets.emplace_back("optimizer.m." + optimizer_.parameters()[i].first, optimizer_.firstMoments()[i]);
    targets.emplace_back("optimizer.v." + optimizer_.parameters()[i].first, optimizer_.secondMoments()[i]);
  }
  std::vector<const NamedView*> sources;
  for (const auto& [name, target] : targets) {
    auto found = std::find_if(tensors.begin(), tensors.end(), [&](const NamedView& v) { return v.name == name; });
    if (found == tensors.end()) return "tensor '" + name + "' is missing";
    if (found->length != static_cast<std::size_t>(target.numel()))
      return "tensor '" + name + "' has " + std::to_string(found->length) + " elements but the model needs " +
             std::to_string(target.numel());
    sources.push_back(&*found);
  }
  if (tensors.size() != targets.size()) {
    for (const NamedView& view : tensors) {
      bool known = std::any_of(targets.begin(), targets.end(), [&](const auto& t) { return t.first == view.name; });
      if (!known) return "tensor '" + view.name + "' does not belong to this model";
    }
  }
  torch::NoGradGuard noGrad;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    torch::Tensor& target = targets[i].second;
    torch::Tensor source = torch::from_blob(const_cast<float*>(sources[i]->data), target.sizes(), torch::kFloat);
    target.copy_(source);
  }
  return "";
}

std::string Policy::SamplerState() const {
  std::ostringstream out;
  out << sampler_;
  return out.str();
}

bool Policy::SetSamplerState(const std::string& state) {
  std::istringstream in(state);
  std::mt19937_64 restored;
  in >> restored;
  if (in.fail()) return false;
  sampler_ = restored;
  return true;
}

}  // namespace dyco::runner
