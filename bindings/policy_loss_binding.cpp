// policyLoss({ logp, oldLogp?, refLogp?, advantages, mask, batch, steps }, config) (method §6).
#include "arguments.hpp"
#include "kernel_call.hpp"
#include "kernels.hpp"
#include "policy_loss.hpp"

namespace dyco::bind {
namespace {

struct PolicyLossCall : KernelCall {
  ArrayView<float> logp, oldLogp, refLogp, advantages;
  ArrayView<std::uint8_t> mask;
  std::size_t batch = 0, steps = 0;
  PolicyLossConfig config;
  Float32Output grad;
  PolicyLossMetrics metrics;

  Status Run() override {
    PolicyLossInputs in{logp.data, oldLogp.data, refLogp.data, advantages.data,
                        advantages.length != batch, mask.data, batch, steps};
    return PolicyLoss(in, config, grad.data, &metrics);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("loss", metrics.loss);
    result.Set("grad", grad.Value());
    result.Set("clipFractionLow", metrics.clipFractionLow);
    result.Set("clipFractionHigh", metrics.clipFractionHigh);
    result.Set("kl", metrics.kl);
    result.Set("ratioMean", metrics.ratioMean);
    return result;
  }
};

PolicyAlgorithm ParseAlgorithm(const std::string& name) {
  if (name == "bnpo") return PolicyAlgorithm::kBnpo;
  if (name == "dr_grpo") return PolicyAlgorithm::kDrGrpo;
  if (name == "dapo") return PolicyAlgorithm::kDapo;
  if (name == "gspo") return PolicyAlgorithm::kGspo;
  if (name == "sapo") return PolicyAlgorithm::kSapo;
  return PolicyAlgorithm::kGrpo;
}

// Starts from the algorithm's defaults (native/policy_loss.cpp) and applies the fields given.
PolicyLossConfig ReadConfig(const Arguments& args, const Napi::Object& c) {
  std::string algorithm =
      args.Choice(c, "algorithm", "config", {"grpo", "bnpo", "dr_grpo", "dapo", "gspo", "sapo"}, nullptr);
  PolicyLossConfig config = DefaultPolicyLossConfig(ParseAlgorithm(algorithm));
  config.epsLow = args.Number(c, "epsLow", "config", config.epsLow);
  config.epsHigh = args.Number(c, "epsHigh", "config", config.epsHigh);
  if (config.epsLow < 0 || config.epsLow >= 1) args.ThrowRange("config.epsLow must be in [0, 1) (got " + std::to_string(config.epsLow) + ")");
  if (config.epsHigh < 0) args.ThrowRange("config.epsHigh must be ≥ 0 (got " + std::to_string(config.epsHigh) + ")");
  config.beta = args.Number(c, "beta", "config", config.beta);
  if (config.beta < 0) args.ThrowRange("config.beta must be ≥ 0 (got " + std::to_string(config.beta) + ")");
  if (!c.Get("delta").IsUndefined()) {
    config.hasDelta = true;
    config.delta = args.Number(c, "delta", "config", 0.0);
    if (config.delta <= 1) args.ThrowRange("config.delta must be > 1 (got " + std::to_string(config.delta) + ")");
  }
  std::string level = args.Choice(c, "importanceLevel", "config", {"token", "sequence"},
                                  config.importanceLevel == ImportanceLevel::kSequence ? "sequence" : "token");
  config.importanceLevel = level == "sequence" ? ImportanceLevel::kSequence : ImportanceLevel::kToken;
  if (config.algorithm == PolicyAlgorithm::kGspo && config.importanceLevel != ImportanceLevel::kSequence)
    args.ThrowRange("config.importanceLevel must be 'sequence' for gspo (use grpo for token-level ratios)");
  config.tauPos = args.Number(c, "tauPos", "config", config.tauPos);
  config.tauNeg = args.Number(c, "tauNeg", "config", config.tauNeg);
  if (config.tauPos <= 0) args.ThrowRange("config.tauPos must be > 0 (got " + std::to_string(config.tauPos) + ")");
  if (config.tauNeg <= 0) args.ThrowRange("config.tauNeg must be > 0 (got " + std::to_string(config.tauNeg) + ")");
  config.maxCompletionLength = args.Size(c, "maxCompletionLength", "config", 1, 0);
  return config;
}

std::unique_ptr<KernelCall> PreparePolicyLoss(const Napi::CallbackInfo& info) {
  Arguments args(info, "policyLoss");
  auto call = std::make_unique<PolicyLossCall>();
  call->function = args.function();
  Napi::Object inputs = args.Object(0, "inputs");
  Napi::Object config = args.Object(1, "config");
  call->batch = args.Size(inputs, "batch", "inputs");
  call->steps = args.Size(inputs, "steps", "inputs");
  std::size_t n = CheckedProduct(call->batch, call->steps);
  const std::string tokens = "inputs.batch × inputs.steps";
  call->logp = args.Float32(inputs, "logp", "inputs", false);
  args.ExpectLength(call->logp.length, n, "inputs.logp", tokens);
  call->oldLogp = args.Float32(inputs, "oldLogp", "inputs", true);
  if (call->oldLogp) args.ExpectLength(call->oldLogp.length, n, "inputs.oldLogp", tokens);
  call->refLogp = args.Float32(inputs, "refLogp", "inputs", true);
  if (call->refLogp) args.ExpectLength(call->refLogp.length, n, "inputs.refLogp", tokens);
  call->advantages = args.Float32(inputs, "advantages", "inputs", false);
  if (call->advantages.length != call->batch && call->advantages.length != n)
    args.ThrowRange("inputs.advantages has " + std::to_string(call->advantages.length) +
                    " elements but must have inputs.batch (" + std::to_string(call->batch) +
                    ", per sequence) or inputs.batch × inputs.steps (" + std::to_string(n) + ", per token)");
  call->mask = args.Uint8(inputs, "mask", "inputs", false);
  args.ExpectLength(call->mask.length, n, "inputs.mask", tokens);
  call->config = ReadConfig(args, config);
  call->grad.Allocate(info.Env(), n);
  for (const auto* view : {&call->logp, &call->oldLogp, &call->refLogp, &call->advantages}) call->Keep(view->handle);
  call->Keep(call->mask.handle);
  return call;
}

}  // namespace

void RegisterPolicyLoss(Napi::Env env, Napi::Object exports) {
  ExportKernel(env, exports, "policyLoss", PreparePolicyLoss, true);
}

}  // namespace dyco::bind
