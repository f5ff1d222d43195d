#include "policy_loss.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "checks.hpp"
#include "parallel.hpp"

namespace dyco {
namespace {

// Value of the per-token surrogate (what is maximised) and its derivative with respect to r.
struct Surrogate {
  double value;
  double dValue;  // ∂value/∂r
  bool clippedLow;
  bool clippedHigh;
};

// PPO clip: min(r̃·A, clip(r, 1−εl, 1+εh)·A), r̃ = min(r, δ) with a two-sided clip. At a tie the
// unclipped branch is taken; inside the clip range both branches have derivative A.
Surrogate ClippedSurrogate(double r, double advantage, const PolicyLossConfig& c) {
  double low = 1.0 - c.epsLow, high = 1.0 + c.epsHigh;
  Surrogate s{0.0, 0.0, r < low && advantage < 0.0, r > high && advantage > 0.0};
  if (advantage == 0.0) return s;  // avoids 0·∞ when r overflows
  bool capped = c.hasDelta && r > c.delta;
  double unclipped = (capped ? c.delta : r) * advantage;
  double clipped = std::clamp(r, low, high) * advantage;
  if (unclipped <= clipped) {
    s.value = unclipped;
    s.dValue = capped ? 0.0 : advantage;
  } else {
    s.value = clipped;
    s.dValue = (r >= low && r <= high) ? advantage : 0.0;
  }
  return s;
}

// SAPO soft gate: (4/τ)·σ(τ(r − 1))·A, τ = τ_pos for A > 0 else τ_neg; ∂/∂r = 4σ(1−σ)·A.
Surrogate SoftGateSurrogate(double r, double advantage, const PolicyLossConfig& c) {
  double tau = advantage > 0.0 ? c.tauPos : c.tauNeg;
  double gate = 1.0 / (1.0 + std::exp(-tau * (r - 1.0)));
  return {4.0 / tau * gate * advantage, 4.0 * gate * (1.0 - gate) * advantage, false, false};
}

// Per-sequence partial results, summed in sequence order afterwards so the result is independent
// of how sequences were split over threads.
struct SequencePartial {
  double loss = 0.0;
  double kl = 0.0;
  double ratio = 0.0;
  std::size_t clippedLow = 0;
  std::size_t clippedHigh = 0;
};

}  // namespace

PolicyLossConfig DefaultPolicyLossConfig(PolicyAlgorithm algorithm) {
  PolicyLossConfig c;
  c.algorithm = algorithm;
  switch (algorithm) {
    case PolicyAlgorithm::kDapo:
      c.epsHigh = 0.28;
      c.beta = 0.0;
      break;
    case PolicyAlgorithm::kGspo:
      c.epsLow = 3e-4;
      c.epsHigh = 4e-4;
      c.beta = 0.005;
      c.importanceLevel = ImportanceLevel::kSequence;
      break;
    default:
      break;
  }
  return c;
}

Status PolicyLoss(const PolicyLossInputs& in, const PolicyLossConfig& config, float* grad, PolicyLossMetrics* metrics) {
  const std::size_t batch = in.batch, steps = in.steps, n = batch * steps;
  if (Status s = CheckMask("mask", in.mask, n); !s.ok) return s;
  if (Status s = CheckFinite("logp", in.logp, n, in.mask); !s.ok) return s;
  if (Status s = CheckFinite("oldLogp", in.oldLogp, n, in.mask); !s.ok) return s;
  if (Status s = CheckFinite("refLogp", in.refLogp, n, in.mask); !s.ok) return s;
  if (in.perTokenAdvantages) {
    if (Status s = CheckFinite("advantages", in.advantages, n, in.mask); !s.ok) return s;
  }

  // Token counts decide the reduction weights before any loss is computed.
  std::vector<std::size_t> lengths(batch, 0);
  std::size_t totalTokens = 0;
  for (std::size_t b = 0; b < batch; ++b) {
    for (std::size_t t = 0; t < steps; ++t) lengths[b] += in.mask[b * steps + t];
    totalTokens += lengths[b];
    // A per-sequence advantage is read only when its sequence has an unmasked token.
    if (!in.perTokenAdvantages && lengths[b] > 0 && !std::isfinite(in.advantages[b]))
      return Status::Invalid("advantages", b, in.advantages[b], kExpectFinite);
  }
  const bool softGate = config.algorithm == PolicyAlgorithm::kSapo;
  const bool sequenceLevel = config.importanceLevel == ImportanceLevel::kSequence;
  const double maxLength = static_cast<double>(config.maxCompletionLength ? config.maxCompletionLength : steps);
  auto reductionWeight = [&](std::size_t b) -> double {
    switch (config.algorithm) {
      case PolicyAlgorithm::kBnpo:
      case PolicyAlgorithm::kDapo:
        return 1.0 / static_cast<double>(std::max<std::size_t>(totalTokens, 1));
      case PolicyAlgorithm::kDrGrpo:
        return 1.0 / (static_cast<double>(batch) * maxLength);
      default:  // grpo, gspo, sapo: mean over sequences of the per-sequence token mean
        return 1.0 / (static_cast<double>(batch) * static_cast<double>(std::max<std::size_t>(lengths[b], 1)));
    }
  };

  std::vector<SequencePartial> partials(batch);
  ParallelFor(batch, 8.0 * static_cast<double>(steps), [&](std::size_t begin, std::size_t end) {
    for (std::size_t b = begin; b < end; ++b) {
      const std::size_t row = b * steps;
      SequencePartial& part = partials[b];
      if (lengths[b] == 0) {
        std::fill(grad + row, grad + row + steps, 0.0f);
        continue;
      }
      const double weight = reductionWeight(b);
      const double invLength = 1.0 / static_cast<double>(lengths[b]);
      // Sequence-level ratio: exp of the mean log-ratio over the sequence's tokens (GSPO).
      double sequenceRatio = 1.0;
      if (sequenceLevel && in.oldLogp) {
        double meanLogRatio = 0.0;
        for (std::size_t t = 0; t < steps; ++t)
          if (in.mask[row + t]) meanLogRatio += static_cast<double>(in.logp[row + t]) - in.oldLogp[row + t];
        sequenceRatio = std::exp(meanLogRatio * invLength);
      }
      // Σ_t weight·(−∂value_t/∂r): the sequence-level ratio's gradient flows through the mean.
      double sequenceGradSum = 0.0;
      for (std::size_t t = 0; t < steps; ++t) {
        const std::size_t i = row + t;
        if (!in.mask[i]) {
          grad[i] = 0.0f;
          continue;
        }
        const double logp = in.logp[i];
        double r = sequenceRatio;
        if (!sequenceLevel) r = in.oldLogp ? std::exp(logp - static_cast<double>(in.oldLogp[i])) : 1.0;
        const double advantage = in.perTokenAdvantages ? in.advantages[i] : in.advantages[b];
        Surrogate s = softGate ? SoftGateSurrogate(r, advantage, config) : ClippedSurrogate(r, advantage, config);

        double kl = 0.0, dKl = 0.0;
        if (in.refLogp) {
          double diff = static_cast<double>(in.refLogp[i]) - logp;
          double e = std::exp(diff);
          kl = e - diff - 1.0;
          dKl = 1.0 - e;
        }
        part.loss += weight * (-s.value + config.beta * kl);
        part.kl += kl;
        part.ratio += r;
        part.clippedLow += s.clippedLow;
        part.clippedHigh += s.clippedHigh;

        double dRatio = s.dValue == 0.0 ? 0.0 : -s.dValue * weight;  // ∂loss/∂r_t
        double g = weight * config.beta * dKl;
        if (sequenceLevel) {
          sequenceGradSum += dRatio;
        } else if (dRatio != 0.0) {
          g += dRatio * r;  // ∂r/∂ℓ = r
        }
        grad[i] = static_cast<float>(g);
      }
      if (sequenceLevel && sequenceGradSum != 0.0) {
        // ∂s_b/∂ℓ_t = s_b·m_t/L_b for every unmasked token of the sequence.
        const double shared = sequenceGradSum * sequenceRatio * invLength;
        for (std::size_t t = 0; t < steps; ++t)
          if (in.mask[row + t]) grad[row + t] = static_cast<float>(static_cast<double>(grad[row + t]) + shared);
      }
    }
  });

  PolicyLossMetrics m;
  SequencePartial total;
  for (const SequencePartial& part : partials) {
    total.loss += part.loss;
    total.kl += part.kl;
    total.ratio += part.ratio;
    total.clippedLow += part.clippedLow;
    total.clippedHigh += part.clippedHigh;
  }
  m.loss = total.loss;
  if (totalTokens > 0) {
    double count = static_cast<double>(totalTokens);
    m.kl = total.kl / count;
    m.ratioMean = total.ratio / count;
    m.clipFractionLow = static_cast<double>(total.clippedLow) / count;
    m.clipFractionHigh = static_cast<double>(total.clippedHigh) / count;
  }
  *metrics = m;
  return Status::Ok();
}

}  // namespace dyco
