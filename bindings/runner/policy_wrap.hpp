// The JavaScript class behind lib/policy.ts: a handle on a native runner::Policy whose methods each
// return a Promise and run on a libuv worker (KernelCall/RunAsync, as the kernels' async variants).
#pragma once
#include <napi.h>

#include <memory>

#include "kernel_call.hpp"
#include "policy.hpp"

namespace dyco::bind {

class PolicyWrap : public Napi::ObjectWrap<PolicyWrap> {
 public:
  // Registers the class and `createPolicy(config, options)` on exports.
  static void Register(Napi::Env env, Napi::Object exports);

  explicit PolicyWrap(const Napi::CallbackInfo& info);
  // The policy, or a thrown Error when dispose() was called.
  std::shared_ptr<runner::Policy> Get(Napi::Env env, const char* function) const;

 private:
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  // Every other method: a Promise for the call that `kPrepare` reads (policy_calls.hpp).
  template <Prepare kPrepare>
  Napi::Value Call(const Napi::CallbackInfo& info) {
    return RunAsync(info, kPrepare);
  }

  std::shared_ptr<runner::Policy> policy_;
};

}  // namespace dyco::bind
