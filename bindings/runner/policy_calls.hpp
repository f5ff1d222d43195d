// One KernelCall per Policy method: Prepare reads and checks the arguments on the JavaScript thread,
// Run does the LibTorch work on a worker (holding the policy's busy lock, LibTorch errors turned
// into exceptions with LibTorch's message), Result converts the outputs.
#pragma once
#include <napi.h>

#include <memory>

#include "kernel_call.hpp"

namespace dyco::bind {

std::unique_ptr<KernelCall> PrepareCreatePolicy(const Napi::CallbackInfo& info);
std::unique_ptr<KernelCall> PrepareGenerate(const Napi::CallbackInfo& info);
std::unique_ptr<KernelCall> PrepareLogprobs(const Napi::CallbackInfo& info);
std::unique_ptr<KernelCall> PrepareTrainStep(const Napi::CallbackInfo& info);
std::unique_ptr<KernelCall> PrepareSftStep(const Napi::CallbackInfo& info);
std::unique_ptr<KernelCall> PrepareGradients(const Napi::CallbackInfo& info);
std::unique_ptr<KernelCall> PrepareSyncReference(const Napi::CallbackInfo& info);
std::unique_ptr<KernelCall> PrepareExportState(const Napi::CallbackInfo& info);
std::unique_ptr<KernelCall> PrepareImportState(const Napi::CallbackInfo& info);

// The constructor createPolicy's result is built with (set once by PolicyWrap::Register).
void SetPolicyConstructor(Napi::Env env, Napi::Function constructor);

}  // namespace dyco::bind
