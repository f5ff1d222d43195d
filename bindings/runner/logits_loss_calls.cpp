#include "logits_loss_calls.hpp"

#include <torch/torch.h>

#include <stdexcept>
#include <string>

#include "arguments.hpp"
#include "kernel_call.hpp"
#include "logits_inputs.hpp"
#include "logits_policy_loss_autograd.hpp"
#include "policy_loss_config.hpp"
#include "reference_logits_loss.hpp"

namespace dyco::bind {
namespace {

torch::ScalarType TorchDtype(DType dtype) {
  switch (dtype) {
    case DType::kFloat16: return torch::kHalf;
    case DType::kBFloat16: return torch::kBFloat16;
    default: return torch::kFloat;
  }
}

struct LogitsLossTorchCall : KernelCall {
  LogitsLossArguments args;
  PolicyLossConfig config;
  bool node = false;     // the runner's autograd node instead of the ATen composite
  bool inPlace = false;  // node: let it overwrite (a copy of) the logits
  bool returnGradient = true;
  double loss = 0.0;
  PolicyLossMetrics metrics;
  torch::Tensor logp, grad;

  Status Run() override {
    const LogitsPolicyLossInputs& in = args.inputs;
    const auto B = static_cast<std::int64_t>(in.batch), T = static_cast<std::int64_t>(in.steps),
               V = static_cast<std::int64_t>(in.vocab);
    try {
      torch::Tensor logits = torch::from_blob(const_cast<void*>(in.logits), {B, T, V}, TorchDtype(in.dtype));
      torch::Tensor targets = torch::from_blob(const_cast<std::int32_t*>(in.targets), {B, T}, torch::kInt).to(torch::kLong);
      if (node) {
        runner::PolicyLossTerms terms{in.oldLogp, in.refLogp, in.advantages, in.perTokenAdvantages, in.mask, config};
        runner::LogitsLossOptions options;
        options.temperature = in.temperature;
        options.targets = in.targets;
        options.targetTensor = targets;
        options.overwriteLogits = inPlace;
        torch::Tensor leaf = logits.detach().requires_grad_(true);
        // In place, the node writes over its input: give it a copy, never the caller's array.
        torch::Tensor input = inPlace ? leaf.clone() : leaf;
        torch::Tensor value = runner::FusedLogitsPolicyLoss(input, terms, options, &metrics);
        value.backward();
        loss = value.item<double>();
        if (returnGradient) grad = leaf.grad().to(torch::kFloat).contiguous();
        return Status::Ok();
      }
      runner::ReferenceLossInputs terms;
      auto host = [](const float* data, std::int64_t n) { return torch::from_blob(const_cast<float*>(data), {n}, torch::kFloat); };
      if (in.oldLogp) terms.oldLogp = host(in.oldLogp, B * T).view({B, T});
      if (in.refLogp) terms.refLogp = host(in.refLogp, B * T).view({B, T});
      terms.advantages = in.perTokenAdvantages ? host(in.advantages, B * T).view({B, T}) : host(in.advantages, B);
      terms.mask = torch::from_blob(const_cast<std::uint8_t*>(in.mask), {B, T}, torch::kUInt8).to(torch::kFloat);
      runner::ReferenceLogitsLossResult result =
          runner::ReferenceLogitsPolicyLoss(logits, targets, in.temperature, terms, config, /*backward=*/true);
      loss = result.loss;
      logp = (result.logp * terms.mask).contiguous();
      if (returnGradient) grad = result.gradLogits.contiguous();
    } catch (const runner::StatusException& e) {
      return e.status;
    } catch (const c10::Error& e) {
      throw std::runtime_error(std::string("LibTorch: ") + e.what_without_backtrace());
    }
    return Status::Ok();
  }

  Napi::Value Result(Napi::Env env) override {
    auto copy = [&](const torch::Tensor& t) -> Napi::Value {
      if (!t.defined()) return env.Undefined();
      Napi::Float32Array array = Napi::Float32Array::New(env, static_cast<std::size_t>(t.numel()));
      std::copy(t.data_ptr<float>(), t.data_ptr<float>() + t.numel(), array.Data());
      return array;
    };
    Napi::Object out = Napi::Object::New(env);
    out.Set("loss", loss);
    out.Set("logp", copy(logp));
    out.Set("gradLogits", copy(grad));
    if (node) SetPolicyLossMetrics(out, metrics);
    return out;
  }
};

std::unique_ptr<KernelCall> PrepareLogitsLossTorch(const Napi::CallbackInfo& info) {
  Arguments args(info, "logitsPolicyLossTorch");
  auto call = std::make_unique<LogitsLossTorchCall>();
  call->function = args.function();
  call->args = ReadLogitsLossInputs(args, args.Object(0, "inputs"), "inputs", *call);
  call->config = ReadPolicyLossConfig(args, args.Object(1, "config"), "config");
  Napi::Object options = args.Object(2, "options", true);
  call->node = args.Choice(options, "implementation", "options", {"composite", "node"}, "composite") == "node";
  call->inPlace = args.Boolean(options, "inPlace", "options", false);
  call->returnGradient = args.Boolean(options, "returnGradient", "options", true);
  return call;
}

}  // namespace

void RegisterLogitsLossCalls(Napi::Env env, Napi::Object exports) {
  ExportKernel(env, exports, "logitsPolicyLossTorch", PrepareLogitsLossTorch, true);
}

}  // namespace dyco::bind
