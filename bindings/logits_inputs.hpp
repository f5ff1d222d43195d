// Reads the inputs object of logitsPolicyLoss (shared by the kernel addon and the runner's LibTorch
// composite used as its test oracle and benchmark baseline): the logits as a Float32Array, or as a
// Uint16Array of float16/bfloat16 bit patterns with `dtype` saying which, plus the policy-loss terms.
#pragma once
#include <napi.h>

#include "arguments.hpp"
#include "kernel_call.hpp"
#include "logits_policy_loss.hpp"

namespace dyco::bind {

struct LogitsLossArguments {
  LogitsPolicyLossInputs inputs{};  // pointers into the JavaScript arrays, kept alive by the call
  Napi::Object logits;              // the logits array (valid in Prepare's scope only; the call keeps it alive)
};

LogitsLossArguments ReadLogitsLossInputs(const Arguments& args, const Napi::Object& inputs, const char* owner,
                                         KernelCall& call);

}  // namespace dyco::bind
