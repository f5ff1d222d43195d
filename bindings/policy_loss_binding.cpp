// policyLoss({ logp, oldLogp?, refLogp?, advantages, mask, batch, steps }, config) (method §6).
#include "arguments.hpp"
#include "kernel_call.hpp"
#include "kernels.hpp"
#include "policy_loss.hpp"
#include "policy_loss_config.hpp"

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
    SetPolicyLossMetrics(result, metrics);
    return result;
  }
};

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
  call->config = ReadPolicyLossConfig(args, config, "config");
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
