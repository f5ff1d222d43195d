// Fused policy losses of method §6: loss, ∂loss/∂logp and metrics in one pass over the tokens.
#pragma once
#include <cstddef>
#include <cstdint>

#include "status.hpp"

namespace dyco {

enum class PolicyAlgorithm { kGrpo, kBnpo, kDrGrpo, kDapo, kGspo, kSapo };
enum class ImportanceLevel { kToken, kSequence };

struct PolicyLossConfig {
  PolicyAlgorithm algorithm = PolicyAlgorithm::kGrpo;
  double epsLow = 0.2;
  double epsHigh = 0.2;
  bool hasDelta = false;
  double delta = 0.0;  // two-sided clip: the unclipped branch uses min(r, delta)
  double beta = 0.04;  // k3 KL coefficient
  ImportanceLevel importanceLevel = ImportanceLevel::kToken;
  double tauPos = 1.0;   // SAPO gate temperature for A > 0
  double tauNeg = 1.05;  // SAPO gate temperature for A ≤ 0
  std::size_t maxCompletionLength = 0;  // Dr.GRPO normaliser; 0 means `steps`
};

// The reference defaults for an algorithm (method §6); gspo has its own clip range and KL weight and
// is sequence-level.
PolicyLossConfig DefaultPolicyLossConfig(PolicyAlgorithm algorithm);

struct PolicyLossInputs {
  const float* logp;       // ℓ, batch × steps
  const float* oldLogp;    // ℓ_old, or null for ℓ detached (ratio 1)
  const float* refLogp;    // ℓ_ref, or null for no KL term
  const float* advantages;  // batch entries, or batch × steps when perTokenAdvantages
  bool perTokenAdvantages;
  const std::uint8_t* mask;  // batch × steps of 0/1
  std::size_t batch;
  std::size_t steps;
};

struct PolicyLossMetrics {
  double loss = 0.0;
  double clipFractionLow = 0.0;
  double clipFractionHigh = 0.0;
  double kl = 0.0;
  double ratioMean = 0.0;
};

// Writes ∂loss/∂ℓ to grad (batch × steps; 0 on masked tokens) and the loss and metrics to metrics.
// Checks the mask (0/1) and that every value read on an unmasked token is finite.
Status PolicyLoss(const PolicyLossInputs& in, const PolicyLossConfig& config, float* grad, PolicyLossMetrics* metrics);

}  // namespace dyco
