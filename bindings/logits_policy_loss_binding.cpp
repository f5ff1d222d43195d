// logitsPolicyLoss({ logits, dtype?, targets, oldLogp?, refLogp?, advantages, mask, batch, steps,
// vocab, temperature? }, config, { inPlace?, gradLogits? }) (issue 7: the policy loss from logits).
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
  Float32Output logp, grad;  // grad: allocated when neither in place nor given an array
  // The array the gradient goes to when it is not `grad`: the logits (in place) or options.gradLogits
  // (held by a reference: a napi_value would not outlive Prepare's scope).
  Napi::ObjectReference target;
  void* targetData = nullptr;
  PolicyLossMetrics metrics;

  Status Run() override {
    LogitsPolicyLossOutputs out;
    out.logp = logp.data;
    out.inPlace = inPlace;
    out.gradLogits = targetData ? targetData : static_cast<void*>(grad.data);
    return LogitsPolicyLoss(args.inputs, config, out, &metrics);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("loss", metrics.loss);
    SetPolicyLossMetrics(result, metrics);
    result.Set("logp", logp.Value());
    result.Set("gradLogits", targetData ? target.Value() : grad.Value());
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
  const LogitsPolicyLossInputs& in = call->args.inputs;
  const std::size_t tokens = in.batch * in.steps, entries = tokens * in.vocab;
  ArrayView<float> given = args.Float32(options, "gradLogits", "options", true);
  if (call->inPlace) {
    if (given) args.ThrowRange("options.gradLogits cannot be combined with options.inPlace (which writes the gradient over inputs.logits)");
    call->target = Napi::Persistent(call->args.logits);
    call->targetData = const_cast<void*>(in.logits);
  } else if (given) {
    args.ExpectLength(given.length, entries, "options.gradLogits", "inputs.batch × inputs.steps × inputs.vocab");
    const auto* logitsBegin = static_cast<const char*>(in.logits);
    const auto* logitsEnd = logitsBegin + entries * LogitsDtypeSize(in.dtype);
    const auto* gradBegin = reinterpret_cast<const char*>(given.data);
    const auto* gradEnd = gradBegin + entries * sizeof(float);
    if (entries > 0 && gradBegin < logitsEnd && logitsBegin < gradEnd)
      args.ThrowRange("options.gradLogits overlaps inputs.logits (use options.inPlace to write the gradient over the logits)");
    call->target = Napi::Persistent(given.handle);
    call->targetData = given.data;
  }
  call->logp.Allocate(info.Env(), tokens);
  if (!call->targetData) call->grad.Allocate(info.Env(), entries);
  return call;
}

}  // namespace

void RegisterLogitsPolicyLoss(Napi::Env env, Napi::Object exports) {
  ExportKernel(env, exports, "logitsPolicyLoss", PrepareLogitsPolicyLoss, true);
}

}  // namespace dyco::bind
