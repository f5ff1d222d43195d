// The registration function of each binding file, called once from the module's init.
#pragma once
#include <napi.h>

namespace dyco::bind {

void RegisterFisherRao(Napi::Env env, Napi::Object exports);
void RegisterAttentionStats(Napi::Env env, Napi::Object exports);
void RegisterCoordination(Napi::Env env, Napi::Object exports);
void RegisterAdvantages(Napi::Env env, Napi::Object exports);
void RegisterPolicyLoss(Napi::Env env, Napi::Object exports);
void RegisterLogitsPolicyLoss(Napi::Env env, Napi::Object exports);

}  // namespace dyco::bind
