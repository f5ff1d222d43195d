#include "policy_calls.hpp"

#include <torch/torch.h>

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "arguments.hpp"
#include "policy.hpp"
#include "policy_loss_config.hpp"
#include "policy_wrap.hpp"
#include "runner_inputs.hpp"

namespace dyco::bind {
namespace {

struct RunnerData {
  Napi::FunctionReference policyConstructor;
};

template <typename T, typename ArrayType>
Napi::Value Copy(Napi::Env env, const std::vector<T>& values) {
  ArrayType array = ArrayType::New(env, values.size());
  std::copy(values.begin(), values.end(), array.Data());
  return array;
}
Napi::Value Float32(Napi::Env env, const std::vector<float>& v) { return Copy<float, Napi::Float32Array>(env, v); }
Napi::Value Int32(Napi::Env env, const std::vector<std::int32_t>& v) { return Copy<std::int32_t, Napi::Int32Array>(env, v); }
Napi::Value Uint8(Napi::Env env, const std::vector<std::uint8_t>& v) { return Copy<std::uint8_t, Napi::Uint8Array>(env, v); }

Napi::Value AttentionValue(Napi::Env env, const runner::AttentionMaps& maps) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("keys", static_cast<double>(maps.keys));
  out.Set("rows", Float32(env, maps.rows));
  out.Set("lengths", Int32(env, maps.lengths));
  out.Set("modality", Uint8(env, maps.modality));
  return out;
}

Napi::Value StepValue(Napi::Env env, const runner::StepResult& step, bool policyLoss) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("loss", step.loss.loss);
  if (policyLoss) SetPolicyLossMetrics(out, step.loss);
  out.Set("gradNorm", step.gradNorm);
  out.Set("learningRate", step.learningRate);
  out.Set("step", static_cast<double>(step.step));
  return out;
}

// Base of every method call: holds the policy and its busy lock while the work runs.
struct PolicyCall : KernelCall {
  std::shared_ptr<runner::Policy> policy;
  virtual Status Work() = 0;

  Status Run() final {
    std::unique_lock<std::mutex> lock(policy->busy(), std::try_to_lock);
    if (!lock.owns_lock())
      throw std::runtime_error("another call is still running on this policy; await it first");
    try {
      return Work();
    } catch (const c10::Error& e) {
      throw std::runtime_error(std::string("LibTorch: ") + e.what_without_backtrace());
    }
  }
};

// The policy behind `this`, and the call kept alive with it.
template <typename Call>
std::unique_ptr<Call> Begin(const Napi::CallbackInfo& info, const Arguments& args) {
  auto call = std::make_unique<Call>();
  call->function = args.function();
  PolicyWrap* wrap = Napi::ObjectWrap<PolicyWrap>::Unwrap(info.This().As<Napi::Object>());
  call->policy = wrap->Get(info.Env(), args.function());
  call->Keep(info.This().As<Napi::Object>());
  return call;
}

// Calls on a training batch (prompts + completions), read from argument 0.
struct BatchCall : PolicyCall {
  runner::PromptInputs prompts;
  runner::CompletionInputs completions;

  void ReadBatch(const Arguments& args) {
    const runner::TinyVLConfig& config = policy->config();
    Napi::Object batch = args.Object(0, "batch");
    prompts = ReadPrompts(args, batch, "batch", config, *this);
    completions = ReadCompletions(args, batch, "batch", config, prompts, *this);
  }
};

// Calls that also evaluate the policy loss: advantages, old/ref log-probs and the loss config from
// argument 1.
struct LossCall : BatchCall {
  runner::PolicyLossTerms terms;

  void ReadBatchAndLoss(const Arguments& args) {
    ReadBatch(args);
    const std::size_t sequences = prompts.prompts.size() * static_cast<std::size_t>(prompts.groupSize);
    terms = ReadLossTerms(args, args.Object(1, "options"), "options", sequences,
                          static_cast<std::size_t>(completions.steps), completions.mask, *this);
  }
};

// ---------------------------------------------------------------------------------------------
struct CreateCall : KernelCall {
  runner::TinyVLConfig config;
  runner::AdamWOptions optimizer;
  torch::Device device = torch::kCPU;
  std::uint64_t seed = 0;
  std::shared_ptr<runner::Policy> policy;

  Status Run() override {
    try {
      policy = std::make_shared<runner::Policy>(config, device, seed, optimizer);
    } catch (const c10::Error& e) {
      throw std::runtime_error(std::string("LibTorch: ") + e.what_without_backtrace());
    }
    return Status::Ok();
  }
  Napi::Value Result(Napi::Env env) override {
    auto* holder = new std::shared_ptr<runner::Policy>(policy);
    auto external = Napi::External<std::shared_ptr<runner::Policy>>::New(
        env, holder, [](Napi::Env, std::shared_ptr<runner::Policy>* p) { delete p; });
    return env.GetInstanceData<RunnerData>()->policyConstructor.New({external});
  }
};

}  // namespace

void SetPolicyConstructor(Napi::Env env, Napi::Function constructor) {
  auto* data = new RunnerData{Napi::Persistent(constructor)};
  env.SetInstanceData<RunnerData>(data);
}

std::unique_ptr<KernelCall> PrepareCreatePolicy(const Napi::CallbackInfo& info) {
  Arguments args(info, "Policy.create");
  auto call = std::make_unique<CreateCall>();
  call->function = args.function();
  call->config = ReadModelConfig(args, args.Object(0, "config", true), "config");
  Napi::Object options = args.Object(1, "options", true);
  std::string device = args.Choice(options, "device", "options", {"auto", "cpu", "cuda"}, "auto");
  const bool cuda = torch::cuda::is_available();
  if (device == "cuda" && !cuda)
    throw Napi::Error::New(info.Env(), "Policy.create: options.device is 'cuda' but LibTorch sees no CUDA device "
                                       "(this LibTorch build has no CUDA support, or no GPU/driver is present); "
                                       "use 'auto' to fall back to the CPU");
  call->device = (device == "cuda" || (device == "auto" && cuda)) ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  call->seed = static_cast<std::uint64_t>(args.Size(options, "seed", "options", 0, 0));
  call->optimizer = ReadOptimizerOptions(args, options, "options");
  return call;
}

// ---------------------------------------------------------------------------------------------
namespace {
struct GenerateCall : PolicyCall {
  runner::PromptInputs prompts;
  runner::GenerateOptions options;
  runner::Rollout rollout;

  Status Work() override { return policy->Generate(prompts, options, &rollout); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("batch", static_cast<double>(rollout.batch));
    out.Set("steps", static_cast<double>(rollout.steps));
    out.Set("tokens", Int32(env, rollout.tokens));
    out.Set("mask", Uint8(env, rollout.mask));
    out.Set("lengths", Int32(env, rollout.lengths));
    out.Set("truncated", Uint8(env, rollout.truncated));
    out.Set("logprobs", Float32(env, rollout.logprobs));
    out.Set("ratioVis", Float32(env, rollout.ratioVis));
    out.Set("ratioTxt", Float32(env, rollout.ratioTxt));
    out.Set("frVis", Float32(env, rollout.frVis));
    out.Set("frTxt", Float32(env, rollout.frTxt));
    if (options.returnAttention) out.Set("attention", AttentionValue(env, rollout.attention));
    return out;
  }
};
}  // namespace

std::unique_ptr<KernelCall> PrepareGenerate(const Napi::CallbackInfo& info) {
  Arguments args(info, "Policy.generate");
  auto call = Begin<GenerateCall>(info, args);
  const runner::TinyVLConfig& config = call->policy->config();
  Napi::Object request = args.Object(0, "request");
  call->prompts = ReadPrompts(args, request, "request", config, *call);
  runner::GenerateOptions& o = call->options;
  o.maxNewTokens = static_cast<std::int64_t>(args.Size(request, "maxNewTokens", "request", 1));
  o.sampling.temperature = args.Number(request, "temperature", "request", 1.0);
  if (o.sampling.temperature < 0) args.ThrowRange("request.temperature must be ≥ 0 (0: greedy) (got " + std::to_string(o.sampling.temperature) + ")");
  o.sampling.topP = args.Number(request, "topP", "request", 1.0);
  if (!(o.sampling.topP > 0 && o.sampling.topP <= 1)) args.ThrowRange("request.topP must be in (0, 1] (got " + std::to_string(o.sampling.topP) + ")");
  o.eosId = args.Integer(request, "eosId", "request", -1, config.vocabSize - 1, -1);
  o.padId = args.Integer(request, "padId", "request", 0, config.vocabSize - 1, 0);
  o.statistics = args.Boolean(request, "statistics", "request", true);
  o.returnAttention = args.Boolean(request, "returnAttention", "request", false);
  CheckContext(args, config, call->prompts, static_cast<std::size_t>(o.maxNewTokens), "request.maxNewTokens");
  return call;
}

// ---------------------------------------------------------------------------------------------
namespace {
struct LogprobsCall : BatchCall {
  bool reference = false;
  bool returnAttention = false;
  std::vector<float> logprobs;
  runner::AttentionMaps attention;

  Status Work() override {
    logprobs = policy->Logprobs(prompts, completions, reference, returnAttention ? &attention : nullptr);
    return Status::Ok();
  }
  Napi::Value Result(Napi::Env env) override {
    if (!returnAttention) return Float32(env, logprobs);
    Napi::Object out = Napi::Object::New(env);
    out.Set("logprobs", Float32(env, logprobs));
    out.Set("attention", AttentionValue(env, attention));
    return out;
  }
};
}  // namespace

std::unique_ptr<KernelCall> PrepareLogprobs(const Napi::CallbackInfo& info) {
  Arguments args(info, "Policy.logprobs");
  auto call = Begin<LogprobsCall>(info, args);
  call->ReadBatch(args);
  Napi::Object options = args.Object(1, "options", true);
  call->reference = args.Choice(options, "model", "options", {"policy", "reference"}, "policy") == "reference";
  call->returnAttention = args.Boolean(options, "returnAttention", "options", false);
  return call;
}

// ---------------------------------------------------------------------------------------------
namespace {
struct TrainCall : LossCall {
  double learningRate = -1.0;
  runner::LossImplementation implementation = runner::LossImplementation::kLogits;
  runner::StepResult step;

  Status Work() override { return policy->TrainStep(prompts, completions, terms, learningRate, implementation, &step); }
  Napi::Value Result(Napi::Env env) override { return StepValue(env, step, true); }
};

// options.implementation: 'logits' (default: the logits-level kernel), 'fused' (log_softmax, then
// the log-prob-level kernel) or, where allowed, 'reference' (the ATen composite).
runner::LossImplementation ReadImplementation(const Arguments& args, const Napi::Object& options,
                                              std::initializer_list<const char*> allowed) {
  const std::string name = args.Choice(options, "implementation", "options", allowed, "logits");
  if (name == "fused") return runner::LossImplementation::kLogprobs;
  if (name == "reference") return runner::LossImplementation::kReference;
  return runner::LossImplementation::kLogits;
}

double ReadLearningRate(const Arguments& args, const Napi::Object& options) {
  double lr = args.Number(options, "learningRate", "options", -1.0);
  if (!options.Get("learningRate").IsUndefined() && lr < 0)
    args.ThrowRange("options.learningRate must be ≥ 0 (got " + std::to_string(lr) + ")");
  return lr;
}

}  // namespace

std::unique_ptr<KernelCall> PrepareTrainStep(const Napi::CallbackInfo& info) {
  Arguments args(info, "Policy.trainStep");
  auto call = Begin<TrainCall>(info, args);
  call->ReadBatchAndLoss(args);
  Napi::Object options = args.Object(1, "options");
  call->learningRate = ReadLearningRate(args, options);
  call->implementation = ReadImplementation(args, options, {"logits", "fused"});
  return call;
}

// ---------------------------------------------------------------------------------------------
namespace {
struct SftCall : BatchCall {
  double learningRate = -1.0;
  runner::StepResult step;

  Status Work() override {
    step = policy->SftStep(prompts, completions, learningRate);
    return Status::Ok();
  }
  Napi::Value Result(Napi::Env env) override { return StepValue(env, step, false); }
};
}  // namespace

std::unique_ptr<KernelCall> PrepareSftStep(const Napi::CallbackInfo& info) {
  Arguments args(info, "Policy.sftStep");
  auto call = Begin<SftCall>(info, args);
  call->ReadBatch(args);
  call->learningRate = ReadLearningRate(args, args.Object(1, "options", true));
  return call;
}

// ---------------------------------------------------------------------------------------------
namespace {
struct GradientsCall : LossCall {
  runner::LossImplementation implementation = runner::LossImplementation::kLogits;
  double loss = 0.0;
  std::vector<runner::NamedTensor> gradients;

  Status Work() override { return policy->Gradients(prompts, completions, terms, implementation, &loss, &gradients); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("loss", loss);
    Napi::Object grads = Napi::Object::New(env);
    for (const runner::NamedTensor& g : gradients) {
      torch::Tensor t = g.tensor.to(torch::kFloat).contiguous();
      Napi::Float32Array array = Napi::Float32Array::New(env, static_cast<std::size_t>(t.numel()));
      std::copy(t.data_ptr<float>(), t.data_ptr<float>() + t.numel(), array.Data());
      grads.Set(g.name, array);
    }
    out.Set("gradients", grads);
    return out;
  }
};
}  // namespace

std::unique_ptr<KernelCall> PrepareGradients(const Napi::CallbackInfo& info) {
  Arguments args(info, "Policy.gradients");
  auto call = Begin<GradientsCall>(info, args);
  call->ReadBatchAndLoss(args);
  call->implementation = ReadImplementation(args, args.Object(1, "options"), {"logits", "fused", "reference"});
  return call;
}

// ---------------------------------------------------------------------------------------------
namespace {
struct SyncReferenceCall : PolicyCall {
  Status Work() override {
    policy->SyncReference();
    return Status::Ok();
  }
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }
};

struct ExportCall : PolicyCall {
  std::vector<runner::NamedTensor> tensors;
  std::string sampler;
  std::int64_t step = 0;

  Status Work() override {
    tensors = policy->ExportTensors();
    sampler = policy->SamplerState();
    step = policy->OptimizerStep();
    return Status::Ok();
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array list = Napi::Array::New(env, tensors.size());
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      const torch::Tensor& t = tensors[i].tensor;
      Napi::Object entry = Napi::Object::New(env);
      entry.Set("name", tensors[i].name);
      Napi::Array shape = Napi::Array::New(env, static_cast<std::size_t>(t.dim()));
      for (std::int64_t d = 0; d < t.dim(); ++d) shape.Set(static_cast<std::uint32_t>(d), static_cast<double>(t.size(d)));
      entry.Set("shape", shape);
      Napi::Float32Array data = Napi::Float32Array::New(env, static_cast<std::size_t>(t.numel()));
      std::copy(t.data_ptr<float>(), t.data_ptr<float>() + t.numel(), data.Data());
      entry.Set("data", data);
      list.Set(static_cast<std::uint32_t>(i), entry);
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("tensors", list);
    out.Set("samplerState", sampler);
    out.Set("optimizerStep", static_cast<double>(step));
    return out;
  }
};

struct ImportCall : PolicyCall {
  std::vector<runner::NamedView> tensors;
  std::string sampler;
  std::int64_t step = 0;
  std::string problem;

  Status Work() override {
    problem = policy->ImportTensors(tensors);
    if (problem.empty() && !policy->SetSamplerState(sampler)) problem = "samplerState is not a sampler state";
    if (problem.empty()) policy->SetOptimizerStep(step);
    if (!problem.empty()) throw std::invalid_argument(problem);
    return Status::Ok();
  }
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }
};
}  // namespace

std::unique_ptr<KernelCall> PrepareSyncReference(const Napi::CallbackInfo& info) {
  Arguments args(info, "Policy.syncReference");
  return Begin<SyncReferenceCall>(info, args);
}

std::unique_ptr<KernelCall> PrepareExportState(const Napi::CallbackInfo& info) {
  Arguments args(info, "Policy.save");
  return Begin<ExportCall>(info, args);
}

std::unique_ptr<KernelCall> PrepareImportState(const Napi::CallbackInfo& info) {
  Arguments args(info, "Policy.load");
  auto call = Begin<ImportCall>(info, args);
  Napi::Object state = args.Object(0, "state");
  Napi::Value list = state.Get("tensors");
  if (!list.IsArray()) args.ThrowType("state.tensors must be an Array (got " + Describe(list) + ")");
  Napi::Array array = list.As<Napi::Array>();
  for (std::uint32_t i = 0; i < array.Length(); ++i) {
    std::string owner = "state.tensors[" + std::to_string(i) + "]";
    Napi::Value entryValue = array.Get(i);
    if (!entryValue.IsObject()) args.ThrowType(owner + " must be an object (got " + Describe(entryValue) + ")");
    Napi::Object entry = entryValue.As<Napi::Object>();
    Napi::Value name = entry.Get("name");
    if (!name.IsString()) args.ThrowType(owner + ".name must be a string (got " + Describe(name) + ")");
    ArrayView<float> data = args.Float32(entry, "data", owner.c_str(), false);
    call->Keep(data.handle);
    call->tensors.push_back({name.As<Napi::String>().Utf8Value(), data.data, data.length});
  }
  Napi::Value sampler = state.Get("samplerState");
  if (!sampler.IsString()) args.ThrowType("state.samplerState must be a string (got " + Describe(sampler) + ")");
  call->sampler = sampler.As<Napi::String>().Utf8Value();
  call->step = static_cast<std::int64_t>(args.Size(state, "optimizerStep", "state", 0));
  return call;
}

}  // namespace dyco::bind
