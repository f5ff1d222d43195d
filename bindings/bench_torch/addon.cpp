// dyco_bench_torch.node: the GPU benchmark's LibTorch baselines (native/bench_torch/), built only
// where LibTorch and CUDA are both found; the kernel addon never links LibTorch.
//   info() → { version, cuda, device? }
//   time(kernel, params, { warmup, reps }) → milliseconds per rep (CUDA events)
//   peakMemory(kernel, params) → peak extra device bytes of one run (−1: not measurable here)
#include <napi.h>

#include <exception>
#include <functional>
#include <stdexcept>

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

// The composite named by `kernel` with `params` (on the GPU, seeded).
std::function<void()> Composite(const Arguments& args, const std::string& kernel, const Napi::Object& params) {
  auto size = [&](const char* key) { return static_cast<std::int64_t>(args.Size(params, key, "params", 1)); };
  auto config = [&] {
    Napi::Value value = params.Get("config");
    if (!value.IsObject()) args.ThrowType("params.config must be an object (got " + Describe(value) + ")");
    return ReadPolicyLossConfig(args, value.As<Napi::Object>(), "params.config");
  };
  if (!bench::Info().cuda) throw std::runtime_error("LibTorch sees no CUDA device");
  if (kernel == "fisherRao") return bench::FisherRaoComposite(size("rows"), size("cols"));
  if (kernel == "fisherRaoAdjacent") return bench::FisherRaoAdjacentComposite(size("batch"), size("steps"), size("width"));
  if (kernel == "attentionStats")
    return bench::AttentionStatsComposite(size("batch"), size("steps"), size("keys"), size("other"), size("vision"), size("prompt"));
  if (kernel == "policyLoss") return bench::PolicyLossComposite(config(), size("batch"), size("steps"));
  if (kernel == "logitsPolicyLoss") {
    const std::string dtype = args.Choice(params, "dtype", "params", {"float32", "float16", "bfloat16"}, "float32");
    return bench::LogitsPolicyLossComposite(config(), size("batch"), size("steps"), size("vocab"), dtype,
                                            args.Number(params, "temperature", "params", 1.0));
  }
  args.ThrowRange("kernel must be 'fisherRao', 'fisherRaoAdjacent', 'attentionStats', 'policyLoss' or 'logitsPolicyLoss' (got '" +
                  kernel + "')");
  return {};
}

Napi::Value PeakMemory(const Napi::CallbackInfo& info) {
  Arguments args(info, "peakMemory");
  if (!info[0].IsString()) args.ThrowType("kernel must be a string (got " + Describe(info[0]) + ")");
  const std::string kernel = info[0].As<Napi::String>().Utf8Value();
  Napi::Object params = args.Object(1, "params");
  try {
    return Napi::Number::New(info.Env(), bench::PeakExtraBytes(Composite(args, kernel, params)));
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), "peakMemory(" + kernel + "): " + e.what());
  }
}

Napi::Value Time(const Napi::CallbackInfo& info) {
  Arguments args(info, "time");
  if (!info[0].IsString()) args.ThrowType("kernel must be a string (got " + Describe(info[0]) + ")");
  const std::string kernel = info[0].As<Napi::String>().Utf8Value();
  Napi::Object params = args.Object(1, "params");
  Napi::Object options = args.Object(2, "options", true);
  const int warmup = static_cast<int>(args.Integer(options, "warmup", "options", 0, 1000, 3));
  const int reps = static_cast<int>(args.Integer(options, "reps", "options", 1, 100000, 10));
  try {
    const std::function<void()> run = Composite(args, kernel, params);
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
  exports.Set("peakMemory", Napi::Function::New(env, dyco::bind::PeakMemory, "peakMemory"));
  return exports;
}
NODE_API_MODULE(dyco_bench_torch, InitBenchTorch)
