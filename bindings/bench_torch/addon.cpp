// dyco_bench_torch.node: the GPU benchmark's LibTorch baselines (native/bench_torch/), built only
// where LibTorch and CUDA are both found; the kernel addon never links LibTorch.
//   info() → { version, cuda, device? }
//   time(kernel, params, { warmup, reps }) → milliseconds per rep (CUDA events)
#include <napi.h>

#include <exception>

#include "../arguments.hpp"
#include "../policy_loss_config.hpp"
#include "bench_torch/composites.hpp"

namespace dyco::bind {
namespace {

Napi::Value Info(const Napi::CallbackInfo& info) {
  bench::TorchInfo torch = bench::Info();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("version", torch.version);
  out.Set("cuda", torch.cuda);
  if (!torch.device.empty()) out.Set("device", torch.device);
  return out;
}

Napi::Value Time(const Napi::CallbackInfo& info) {
  Arguments args(info, "time");
  if (!info[0].IsString()) args.ThrowType("kernel must be a string (got " + Describe(info[0]) + ")");
  const std::string kernel = info[0].As<Napi::String>().Utf8Value();
  Napi::Object params = args.Object(1, "params");
  Napi::Object options = args.Object(2, "options", true);
  const int warmup = static_cast<int>(args.Integer(options, "warmup", "options", 0, 1000, 3));
  const int reps = static_cast<int>(args.Integer(options, "reps", "options", 1, 100000, 10));
  auto size = [&](const char* key) { return static_cast<std::int64_t>(args.Size(params, key, "params", 1)); };
  std::function<void()> run;
  try {
    if (!bench::Info().cuda) throw std::runtime_error("LibTorch sees no CUDA device");
    if (kernel == "fisherRao") {
      run = bench::FisherRaoComposite(size("rows"), size("cols"));
    } else if (kernel == "fisherRaoAdjacent") {
      run = bench::FisherRaoAdjacentComposite(size("batch"), size("steps"), size("width"));
    } else if (kernel == "attentionStats") {
      run = bench::AttentionStatsComposite(size("batch"), size("steps"), size("keys"), size("other"), size("vision"), size("prompt"));
    } else if (kernel == "policyLoss") {
      Napi::Value config = params.Get("config");
      if (!config.IsObject()) args.ThrowType("params.config must be an object (got " + Describe(config) + ")");
      run = bench::PolicyLossComposite(ReadPolicyLossConfig(args, config.As<Napi::Object>(), "params.config"), size("batch"),
                                       size("steps"));
    } else {
      args.ThrowRange("kernel must be 'fisherRao', 'fisherRaoAdjacent', 'attentionStats' or 'policyLoss' (got '" + kernel + "')");
    }
    std::vector<double> ms = bench::TimeWithEvents(run, warmup, reps);
    Napi::Array out = Napi::Array::New(info.Env(), ms.size());
    for (std::size_t r = 0; r < ms.size(); ++r) out.Set(static_cast<uint32_t>(r), ms[r]);
    return out;
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), "time(" + kernel + "): " + e.what());
  }
}

}  // namespace
}  // namespace dyco::bind

static Napi::Object InitBenchTorch(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, dyco::bind::Info, "info"));
  exports.Set("time", Napi::Function::New(env, dyco::bind::Time, "time"));
  return exports;
}
NODE_API_MODULE(dyco_bench_torch, InitBenchTorch)
