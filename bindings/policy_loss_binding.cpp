// policyLoss({ logp, oldLogp?, refLogp?, advantages, mask, batch, steps }, config, options?) (method §6).
#include "kernels.hpp"
#include "operands.hpp"
#include "policy_loss.hpp"
#include "policy_loss_config.hpp"

namespace dyco::bind {
namespace {

struct PolicyLossCall : KernelCall {
  ArrayOperand logp, oldLogp, refLogp, advantages, mask;
  std::size_t batch = 0, steps = 0;
  PolicyLossConfig config;
  Device device = Device::kCpu;
  PlacedFloat32 grad;
  PolicyLossMetrics metrics;

  Status Run() override {
    const bool perToken = advantages.length != batch;
    if (device == Device::kCuda) {
      cuda::PolicyLossOperands in{logp.operand, oldLogp.operand, refLogp.operand, advantages.operand, mask.operand,
                                  perToken, batch, steps};
      return cuda::StagedPolicyLoss(in, config, grad.Destination(), &metrics);
    }
    std::vector<float> hostLogp, hostOld, hostRef;
    PolicyLossInputs in{HostFloats(logp, hostLogp), HostFloats(oldLogp, hostOld), HostFloats(refLogp, hostRef),
                        static_cast<const float*>(advantages.operand.data), perToken,
                        static_cast<const std::uint8_t*>(mask.operand.data), batch, steps};
    return PolicyLoss(in, config, grad.data(), &metrics);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("loss", metrics.loss);
    result.Set("grad", grad.Value(env));
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
  call->logp = ReadArray(args, inputs.Get("logp"), "inputs.logp", ArrayKind::kFloat, false);
  args.ExpectLength(call->logp.length, n, "inputs.logp", tokens);
  call->oldLogp = ReadArray(args, inputs.Get("oldLogp"), "inputs.oldLogp", ArrayKind::kFloat, true);
  if (call->oldLogp) args.ExpectLength(call->oldLogp.length, n, "inputs.oldLogp", tokens);
  call->refLogp = ReadArray(args, inputs.Get("refLogp"), "inputs.refLogp", ArrayKind::kFloat, true);
  if (call->refLogp) args.ExpectLength(call->refLogp.length, n, "inputs.refLogp", tokens);
  call->advantages = ReadArray(args, inputs.Get("advantages"), "inputs.advantages", ArrayKind::kFloat32, false);
  if (call->advantages.length != call->batch && call->advantages.length != n)
    args.ThrowRange("inputs.advantages has " + std::to_string(call->advantages.length) +
                    " elements but must have inputs.batch (" + std::to_string(call->batch) +
                    ", per sequence) or inputs.batch × inputs.steps (" + std::to_string(n) + ", per token)");
  call->mask = ReadArray(args, inputs.Get("mask"), "inputs.mask", ArrayKind::kUint8, false);
  args.ExpectLength(call->mask.length, n, "inputs.mask", tokens);
  call->config = ReadPolicyLossConfig(args, config, "config");
  Napi::Object options = args.Object(2, "options", true);
  const std::initializer_list<const ArrayOperand*> operands = {&call->logp, &call->oldLogp, &call->refLogp,
                                                               &call->advantages, &call->mask};
  call->device = ResolveDevice(args, options, "options", operands);
  call->grad.Allocate(info.Env(), n, AnyOnDevice(operands));
  for (const ArrayOperand* op : operands) call->Keep(op->handle);
  return call;
}

}  // namespace

void RegisterPolicyLoss(Napi::Env env, Napi::Object exports) {
  ExportKernel(env, exports, "policyLoss", PreparePolicyLoss, true);
}

}  // namespace dyco::bind
