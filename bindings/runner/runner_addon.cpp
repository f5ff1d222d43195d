// Module entry of dyco_runner.node, the LibTorch model runner (a separate addon, so the kernel
// addon never depends on LibTorch).
#include <napi.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "logits_loss_calls.hpp"
#include "policy_wrap.hpp"

namespace dyco::bind {
namespace {

Napi::Value TorchInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("version", std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                         std::to_string(TORCH_VERSION_PATCH));
  bool cuda = torch::cuda::is_available();
  out.Set("cuda", cuda);
  out.Set("cudaDevices", cuda ? static_cast<double>(torch::cuda::device_count()) : 0.0);
  out.Set("threads", static_cast<double>(torch::get_num_threads()));
  return out;
}

}  // namespace

Napi::Object InitRunner(Napi::Env env, Napi::Object exports) {
  exports.Set("torchInfo", Napi::Function::New(env, TorchInfo, "torchInfo"));
  PolicyWrap::Register(env, exports);
  RegisterLogitsLossCalls(env, exports);
  return exports;
}

}  // namespace dyco::bind

static Napi::Object InitDycoRunner(Napi::Env env, Napi::Object exports) { return dyco::bind::InitRunner(env, exports); }
NODE_API_MODULE(dyco_runner, InitDycoRunner)
