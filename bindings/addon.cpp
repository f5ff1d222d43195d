// Module entry: registers every kernel binding plus capabilities() and the benchmark's copyMemory().
#include <napi.h>

#include "arguments.hpp"
#include "kernels.hpp"
#include "memory_copy.hpp"
#include "parallel.hpp"
#include "simd_loops.hpp"

namespace dyco::bind {
namespace {

Napi::Value Capabilities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object caps = Napi::Object::New(env);
  caps.Set("version", DYCO_VERSION);
  caps.Set("threads", static_cast<double>(ThreadCount()));
  // The CUDA kernels are not compiled in yet (DYCO_CUDA). LibTorch is the runner's business
  // (dyco_runner.node); lib/capabilities.ts adds its status.
  caps.Set("cuda", false);
  caps.Set("cudaDevices", 0);
  caps.Set("simd", Loops().isa);
  return caps;
}

// copyMemory(src, dst): the bandwidth roofline for bench/ (same thread pool as the kernels).
Napi::Value CopyMemoryBinding(const Napi::CallbackInfo& info) {
  Arguments args(info, "copyMemory");
  ArrayView<float> src = args.Float32(0, "src");
  ArrayView<float> dst = args.Float32(1, "dst");
  args.ExpectLength(dst.length, src.length, "dst", "src.length");
  CopyMemory(src.data, dst.data, src.length * sizeof(float));
  return info.Env().Undefined();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("capabilities", Napi::Function::New(env, Capabilities, "capabilities"));
  exports.Set("copyMemory", Napi::Function::New(env, CopyMemoryBinding, "copyMemory"));
  RegisterFisherRao(env, exports);
  RegisterAttentionStats(env, exports);
  RegisterCoordination(env, exports);
  RegisterAdvantages(env, exports);
  RegisterPolicyLoss(env, exports);
  RegisterLogitsPolicyLoss(env, exports);
  return exports;
}

}  // namespace dyco::bind

// NODE_API_MODULE pastes the init function's name into a symbol, so it needs an unqualified name.
static Napi::Object InitDycoRl(Napi::Env env, Napi::Object exports) { return dyco::bind::Init(env, exports); }
NODE_API_MODULE(dyco_rl, InitDycoRl)
