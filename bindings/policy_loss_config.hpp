// The loss configuration object of policyLoss and Policy.trainStep: starts from the algorithm's
// defaults (native/policy_loss.cpp) and applies the fields given, each checked and named as
// `<owner>.<field>` in errors. And the metrics part of every policy-loss result object.
#pragma once
#include <napi.h>

#include "arguments.hpp"
#include "policy_loss.hpp"

namespace dyco::bind {

PolicyLossConfig ReadPolicyLossConfig(const Arguments& args, const Napi::Object& config, const char* owner);

// Sets the metrics every policy-loss result carries besides the loss: clipFractionLow,
// clipFractionHigh, kl, ratioMean (policyLoss, logitsPolicyLoss, Policy.trainStep).
void SetPolicyLossMetrics(Napi::Object& out, const PolicyLossMetrics& metrics);

}  // namespace dyco::bind
