// Reads the runner's JavaScript arguments into the plain structs of native/runner/, with the same
// error conventions as the kernel bindings. Arrays are read in place: every TypedArray is kept alive
// by the call (KernelCall::Keep) until the native work is done.
#pragma once
#include <napi.h>

#include "adamw.hpp"
#include "arguments.hpp"
#include "kernel_call.hpp"
#include "policy.hpp"
#include "tiny_vl_config.hpp"

namespace dyco::bind {

runner::TinyVLConfig ReadModelConfig(const Arguments& args, const Napi::Object& object, const char* owner);
runner::AdamWOptions ReadOptimizerOptions(const Arguments& args, const Napi::Object& object, const char* owner);

// images, prompts, groupSize of `object` (a generate request or a training batch).
runner::PromptInputs ReadPrompts(const Arguments& args, const Napi::Object& object, const char* owner,
                                 const runner::TinyVLConfig& config, KernelCall& call);

// tokens, mask, steps (and temperature) of a training batch with `batch` sequences; also checks that
// prompt plus completion fit in the context.
runner::CompletionInputs ReadCompletions(const Arguments& args, const Napi::Object& object, const char* owner,
                                         const runner::TinyVLConfig& config, const runner::PromptInputs& prompts,
                                         KernelCall& call);

// advantages, oldLogp?, refLogp?, loss config of trainStep's options.
runner::PolicyLossTerms ReadLossTerms(const Arguments& args, const Napi::Object& object, const char* owner,
                                      std::size_t batch, std::size_t steps, const std::uint8_t* mask, KernelCall& call);

// Fails with a RangeError when prompt (vision tokens included) + `steps` exceeds config.maxContext.
void CheckContext(const Arguments& args, const runner::TinyVLConfig& config, const runner::PromptInputs& prompts,
                  std::size_t steps, const std::string& stepsName);

}  // namespace dyco::bind
