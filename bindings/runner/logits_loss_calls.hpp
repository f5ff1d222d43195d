// logitsPolicyLossTorch(inputs, config, options): the logits-level policy loss on host arrays through
// LibTorch, for the tests and bench/logits-loss.ts: the ATen composite (implementation 'composite')
// or the runner's autograd node around the logits kernel ('node').
#pragma once
#include <napi.h>

namespace dyco::bind {

void RegisterLogitsLossCalls(Napi::Env env, Napi::Object exports);

}  // namespace dyco::bind
