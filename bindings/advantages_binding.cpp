// groupAdvantages(rewards, { groupSize, scale?, eps? }) (method §5).
#include "advantages.hpp"
#include "arguments.hpp"
#include "kernel_call.hpp"
#include "kernels.hpp"

namespace dyco::bind {
namespace {

struct GroupAdvantagesCall : KernelCall {
  ArrayView<float> rewards;
  std::size_t groupSize = 1;
  AdvantageScale scale = AdvantageScale::kGroup;
  double eps = 1e-4;
  Float32Output out;
  Status Run() override { return GroupAdvantages(rewards.data, rewards.length, groupSize, scale, eps, out.data); }
  Napi::Value Result(Napi::Env) override { return out.Value(); }
};

std::unique_ptr<KernelCall> PrepareGroupAdvantages(const Napi::CallbackInfo& info) {
  Arguments args(info, "groupAdvantages");
  auto call = std::make_unique<GroupAdvantagesCall>();
  call->function = args.function();
  call->rewards = args.Float32(0, "rewards");
  Napi::Object options = args.Object(1, "options");
  call->groupSize = args.Size(options, "groupSize", "options", 1);
  if (call->rewards.length % call->groupSize != 0)
    args.ThrowRange("options.groupSize (" + std::to_string(call->groupSize) + ") must divide rewards.length (" +
                    std::to_string(call->rewards.length) + ")");
  std::string scale = args.Choice(options, "scale", "options", {"group", "batch", "none"}, "group");
  call->scale = scale == "batch" ? AdvantageScale::kBatch : scale == "none" ? AdvantageScale::kNone : AdvantageScale::kGroup;
  call->eps = args.Number(options, "eps", "options", 1e-4);
  if (call->eps < 0) args.ThrowRange("options.eps must be ≥ 0 (got " + std::to_string(call->eps) + ")");
  call->out.Allocate(info.Env(), call->rewards.length);
  call->Keep(call->rewards.handle);
  return call;
}

}  // namespace

void RegisterAdvantages(Napi::Env env, Napi::Object exports) {
  ExportKernel(env, exports, "groupAdvantages", PrepareGroupAdvantages, false);
}

}  // namespace dyco::bind
