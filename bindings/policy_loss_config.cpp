// Reads a policyLoss config object (shared by the kernel addon and the runner's trainStep).
#include "policy_loss_config.hpp"

#include <string>

namespace dyco::bind {

namespace {

PolicyAlgorithm ParseAlgorithm(const std::string& name) {
  if (name == "bnpo") return PolicyAlgorithm::kBnpo;
  if (name == "dr_grpo") return PolicyAlgorithm::kDrGrpo;
  if (name == "dapo") return PolicyAlgorithm::kDapo;
  if (name == "gspo") return PolicyAlgorithm::kGspo;
  if (name == "sapo") return PolicyAlgorithm::kSapo;
  return PolicyAlgorithm::kGrpo;
}

}  // namespace

PolicyLossConfig ReadPolicyLossConfig(const Arguments& args, const Napi::Object& c, const char* owner) {
  std::string algorithm =
      args.Choice(c, "algorithm", owner, {"grpo", "bnpo", "dr_grpo", "dapo", "gspo", "sapo"}, nullptr);
  PolicyLossConfig config = DefaultPolicyLossConfig(ParseAlgorithm(algorithm));
  config.epsLow = args.Number(c, "epsLow", owner, config.epsLow);
  config.epsHigh = args.Number(c, "epsHigh", owner, config.epsHigh);
  if (config.epsLow < 0 || config.epsLow >= 1) args.ThrowRange(std::string(owner) + ".epsLow must be in [0, 1) (got " + std::to_string(config.epsLow) + ")");
  if (config.epsHigh < 0) args.ThrowRange(std::string(owner) + ".epsHigh must be ≥ 0 (got " + std::to_string(config.epsHigh) + ")");
  config.beta = args.Number(c, "beta", owner, config.beta);
  if (config.beta < 0) args.ThrowRange(std::string(owner) + ".beta must be ≥ 0 (got " + std::to_string(config.beta) + ")");
  if (!c.Get("delta").IsUndefined()) {
    config.hasDelta = true;
    config.delta = args.Number(c, "delta", owner, 0.0);
    if (config.delta <= 1) args.ThrowRange(std::string(owner) + ".delta must be > 1 (got " + std::to_string(config.delta) + ")");
  }
  std::string level = args.Choice(c, "importanceLevel", owner, {"token", "sequence"},
                                  config.importanceLevel == ImportanceLevel::kSequence ? "sequence" : "token");
  config.importanceLevel = level == "sequence" ? ImportanceLevel::kSequence : ImportanceLevel::kToken;
  if (config.algorithm == PolicyAlgorithm::kGspo && config.importanceLevel != ImportanceLevel::kSequence)
    args.ThrowRange(std::string(owner) + ".importanceLevel must be 'sequence' for gspo (use grpo for token-level ratios)");
  config.tauPos = args.Number(c, "tauPos", owner, config.tauPos);
  config.tauNeg = args.Number(c, "tauNeg", owner, config.tauNeg);
  if (config.tauPos <= 0) args.ThrowRange(std::string(owner) + ".tauPos must be > 0 (got " + std::to_string(config.tauPos) + ")");
  if (config.tauNeg <= 0) args.ThrowRange(std::string(owner) + ".tauNeg must be > 0 (got " + std::to_string(config.tauNeg) + ")");
  config.maxCompletionLength = args.Size(c, "maxCompletionLength", owner, 1, 0);
  return config;
}

void SetPolicyLossMetrics(Napi::Object& out, const PolicyLossMetrics& metrics) {
  out.Set("clipFractionLow", metrics.clipFractionLow);
  out.Set("clipFractionHigh", metrics.clipFractionHigh);
  out.Set("kl", metrics.kl);
  out.Set("ratioMean", metrics.ratioMean);
}

}  // namespace dyco::bind
