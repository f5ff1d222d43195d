#include "policy_loss.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "checks.hpp"
#include "parallel.hpp"
#include "policy_loss_loop.hpp"
#include "simd_loops.hpp"
#include "vector_math.hpp"

namespace dyco {
namespace {

// The exact report for a failed run: the first bad value in argument order.
Status LocateInvalid(const PolicyLossInputs& in, const std::vector<std::size_t>& lengths) {
  const std::size_t n = in.batch * in.steps;
  if (Status s = CheckFinite("logp", in.logp, n, in.mask); !s.ok) return s;
  if (Status s = CheckFinite("oldLogp", in.oldLogp, n, in.mask); !s.ok) return s;
  if (Status s = CheckFinite("refLogp", in.refLogp, n, in.mask); !s.ok) return s;
  if (in.perTokenAdvantages) return CheckFinite("advantages", in.advantages, n, in.mask);
  for (std::size_t b = 0; b < in.batch; ++b)
    if (lengths[b] > 0 && !std::isfinite(in.advantages[b]))
      return Status::Invalid("advantages", b, in.advantages[b], kExpectFinite);
  return Status::Ok();
}

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

  // Token counts decide the reduction weights before any loss is computed.
  std::vector<std::size_t> lengths(batch, 0);
  std::size_t totalTokens = 0;
  for (std::size_t b = 0; b < batch; ++b) {
    std::size_t count = 0;
    const std::uint8_t* mask = in.mask + b * steps;
#pragma omp simd reduction(+ : count)
    for (std::size_t t = 0; t < steps; ++t) count += mask[t];
    lengths[b] = count;
    totalTokens += count;
  }
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
  const bool softGate = config.algorithm == PolicyAlgorithm::kSapo;
  const SequenceLoopFn loop = Loops().policyLoss[softGate][sequenceLevel][in.perTokenAdvantages];

  std::vector<SequencePartial> partials(batch);
  ParallelFor(batch, 16.0 * static_cast<double>(steps), [&](std::size_t begin, std::size_t end) {
    for (std::size_t b = begin; b < end; ++b) {
      const std::size_t row = b * steps;
      SequencePartial& part = partials[b];
      if (lengths[b] == 0) {  // contributes nothing and reads nothing
        std::fill(grad + row, grad + row + steps, 0.0f);
        continue;
      }
      const float* logp = in.logp + row;
      SequenceView view{logp,
                        in.oldLogp ? in.oldLogp + row : logp,
                        in.refLogp ? in.refLogp + row : logp,
                        in.perTokenAdvantages ? in.advantages + row : nullptr,
                        in.perTokenAdvantages ? 0.0 : static_cast<double>(in.advantages[b]),
                        in.mask + row,
                        steps,
                        reductionWeight(b),
                        1.0};
      const double invLength = 1.0 / static_cast<double>(lengths[b]);
      if (sequenceLevel) {
        // GSPO's ratio: exp of the mean log-ratio over the sequence's unmasked tokens.
        double logRatioSum = 0.0;
#pragma omp simd reduction(+ : logRatioSum)
        for (std::size_t t = 0; t < steps; ++t) {
          const double d = static_cast<double>(view.logp[t]) - view.oldLogp[t];
          logRatioSum += view.mask[t] ? d : 0.0;
        }
        view.ratio = VecExp(logRatioSum * invLength);
      }
      const double dRatioSum = loop(view, config, grad + row, part);
      if (sequenceLevel && dRatioSum != 0.0) {
        // ∂s_b/∂ℓ_t = s_b·m_t/L_b: the ratio's gradient is shared by every unmasked token.
        const double shared = dRatioSum * view.ratio * invLength;
        float* g = grad + row;
#pragma omp simd
        for (std::size_t t = 0; t < steps; ++t)
          g[t] = view.mask[t] ? static_cast<float>(static_cast<double>(g[t]) + shared) : 0.0f;
      }
    }
  });

  SequencePartial total;
  for (const SequencePartial& part : partials) {
    total.loss += part.loss;
    total.kl += part.kl;
    total.ratio += part.ratio;
    total.clippedLow += part.clippedLow;
    total.clippedHigh += part.clippedHigh;
    total.invalid = total.invalid || part.invalid;
  }
  if (total.invalid) return LocateInvalid(in, lengths);
  PolicyLossMetrics m;
  m.loss = total.loss;
  if (totalTokens > 0) {
    const double count = static_cast<double>(totalTokens);
    m.kl = total.kl / count;
    m.ratioMean = total.ratio / count;
    m.clipFractionLow = total.clippedLow / count;
    m.clipFractionHigh = total.clippedHigh / count;
  }
  *metrics = m;
  return Status::Ok();
}

}  // namespace dyco
