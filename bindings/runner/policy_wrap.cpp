#include "policy_wrap.hpp"

#include <sstream>

#include "kernel_call.hpp"
#include "policy_calls.hpp"

namespace dyco::bind {
namespace {

Napi::Object ConfigValue(Napi::Env env, const runner::TinyVLConfig& c) {
  Napi::Object out = Napi::Object::New(env);
  auto set = [&](const char* key, double value) { out.Set(key, value); };
  set("vocabSize", static_cast<double>(c.vocabSize));
  set("hidden", static_cast<double>(c.hidden));
  set("layers", static_cast<double>(c.layers));
  set("heads", static_cast<double>(c.heads));
  set("kvHeads", static_cast<double>(c.kvHeads));
  set("intermediate", static_cast<double>(c.intermediate));
  set("maxContext", static_cast<double>(c.maxContext));
  set("ropeTheta", c.ropeTheta);
  set("rmsEps", c.rmsEps);
  set("imageHeight", static_cast<double>(c.imageHeight));
  set("imageWidth", static_cast<double>(c.imageWidth));
  set("imageChannels", static_cast<double>(c.imageChannels));
  set("patchSize", static_cast<double>(c.patchSize));
  set("visionLayers", static_cast<double>(c.visionLayers));
  set("imageTokenId", static_cast<double>(c.imageTokenId));
  set("attentionLayer", static_cast<double>(c.attentionLayer));
  return out;
}

}  // namespace

void PolicyWrap::Register(Napi::Env env, Napi::Object exports) {
  Napi::Function constructor = DefineClass(
      env, "NativePolicy",
      {
          InstanceMethod<&PolicyWrap::Info>("info"),
          InstanceMethod<&PolicyWrap::Dispose>("dispose"),
          InstanceMethod<&PolicyWrap::Call<PrepareGenerate>>("generate"),
          InstanceMethod<&PolicyWrap::Call<PrepareLogprobs>>("logprobs"),
          InstanceMethod<&PolicyWrap::Call<PrepareTrainStep>>("trainStep"),
          InstanceMethod<&PolicyWrap::Call<PrepareSftStep>>("sftStep"),
          InstanceMethod<&PolicyWrap::Call<PrepareGradients>>("gradients"),
          InstanceMethod<&PolicyWrap::Call<PrepareSyncReference>>("syncReference"),
          InstanceMethod<&PolicyWrap::Call<PrepareExportState>>("exportState"),
          InstanceMethod<&PolicyWrap::Call<PrepareImportState>>("importState"),
      });
  SetPolicyConstructor(env, constructor);
  exports.Set("NativePolicy", constructor);
  exports.Set("createPolicy", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { return RunAsync(info, PrepareCreatePolicy); }, "createPolicy"));
}

PolicyWrap::PolicyWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PolicyWrap>(info) {
  // Only createPolicy constructs instances, passing the native policy as an External.
  if (info.Length() != 1 || !info[0].IsExternal())
    throw Napi::TypeError::New(info.Env(), "NativePolicy cannot be constructed directly; use Policy.create or Policy.load");
  policy_ = *info[0].As<Napi::External<std::shared_ptr<runner::Policy>>>().Data();
}

std::shared_ptr<runner::Policy> PolicyWrap::Get(Napi::Env env, const char* function) const {
  if (!policy_) throw Napi::Error::New(env, std::string(function) + ": the policy was disposed");
  return policy_;
}

Napi::Value PolicyWrap::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<runner::Policy> policy = Get(env, "Policy.info");
  Napi::Object out = Napi::Object::New(env);
  out.Set("config", ConfigValue(env, policy->config()));
  std::ostringstream device;
  device << policy->device();
  out.Set("device", device.str());
  out.Set("parameters", static_cast<double>(policy->ParameterCount()));
  const runner::AdamWOptions& o = policy->optimizerOptions();
  Napi::Object optimizer = Napi::Object::New(env);
  optimizer.Set("learningRate", o.learningRate);
  optimizer.Set("beta1", o.beta1);
  optimizer.Set("beta2", o.beta2);
  optimizer.Set("eps", o.eps);
  optimizer.Set("weightDecay", o.weightDecay);
  optimizer.Set("maxGradNorm", o.maxGradNorm);
  out.Set("optimizer", optimizer);
  return out;
}

Napi::Value PolicyWrap::Dispose(const Napi::CallbackInfo& info) {
  // A call still running holds its own reference, so the model is freed when it finishes.
  policy_.reset();
  return info.Env().Undefined();
}

}  // namespace dyco::bind
