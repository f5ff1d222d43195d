// logitsPolicyLoss({ logits, dtype?, targets, oldLogp?, refLogp?, advantages, mask, batch, steps,
// vocab, temperature? }, config, { inPlace? }) (issue 7: the policy loss from logits).
#include "arguments.hpp"
#include "kernel_call.hpp"
#include "kernels.hpp"
#include "logits_inputs.hpp"
#include "logits_policy_loss.hpp"
#include "policy_loss_config.hpp"

namespace dyco::bind {
namespace {

struct LogitsPolicyLossCall : KernelCall {
  LogitsLossArguments args;
  PolicyLossConfig config;
  bool inPlace = false;
  Float32Output logp, grad;  // grad: only when not in place
  Napi::ObjectReference logits;  // returned as gradLogits in place (a napi_value would not outlive Prepare's scope)
  PolicyLossMetrics metrics;

  Status Run() override {
    LogitsPolicyLossOutputs out;
    out.logp = logp.data;
    out.inPlace = inPlace;
    out.gradLogits = inPlace ? const_cast<void*>(args.inputs.logits) : static_cast<void*>(grad.data);
    return LogitsPolicyLoss(args.inputs, config, out, &metrics);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("loss", metrics.loss);
    result.Set("clipFractionLow", metrics.clipFractionLow);
    result.Set("clipFractionHigh", metrics.clipFractionHigh);
    result.Set("kl", metrics.kl);
    result.Set("ratioMean", metrics.ratioMean);
    result.Set("logp", logp.Value());
    result.Set("gradLogits", inPlace ? logits.Value() : grad.Value());
    return result;
  }
};

std::unique_ptr<KernelCall> PrepareLogitsPolicyLoss(const Napi::CallbackInfo& info) {
  Arguments args(info, "logitsPolicyLoss");
  auto call = std::make_unique<LogitsPolicyLossCall>();
  call->function = args.function();
  Napi::Object inputs = args.Object(0, "inputs");
  Napi::Object config = args.Object(1, "config");
  Napi::Object options = args.Object(2, "options", true);
  call->args = ReadLogitsLossInputs(args, inputs, "inputs", *call);
  call->config = ReadPolicyLossConfig(args, config, "config");
  call->inPlace = args.Boolean(options, "inPlace", "options", false);
  if (call->inPlace) call->logits = Napi::Persistent(call->args.logits);
  const std::size_t tokens = call->args.inputs.batch * call->args.inputs.steps;
  call->logp.Allocate(info.Env(), tokens);
  if (!call->inPlace) call->grad.Allocate(info.Env(), tokens * call->args.inputs.vocab);
  return call;
}

}  // namespace

void RegisterLogitsPolicyLoss(Napi::Env env, Napi::Object exports) {
  ExportKernel(env, exports, "logitsPolicyLoss", PrepareLogitsPolicyLoss, true);
}

}  // namespace dyco::bind
