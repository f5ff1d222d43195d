#include "coordination.hpp"

#include <algorithm>
#include <cmath>

#include "checks.hpp"
#include "moments.hpp"
#include "parallel.hpp"

namespace dyco {
namespace {

constexpr double kMinStd = 1e-8;  // method §4: ĉ = 0 when std ≤ 1e-8

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace

Status CoordinationScores(const CoordinationInputs& in, double tauVis, double tauTxt, CoordinationOutputs out) {
  std::size_t n = in.batch * in.steps;
  if (Status s = CheckMask("mask", in.mask, n); !s.ok) return s;
  // Only the values a role is decided from are checked: unmasked tokens after step 0.
  const char* names[] = {"frVis", "frTxt", "ratioVis", "ratioTxt"};
  const float* arrays[] = {in.frVis, in.frTxt, in.ratioVis, in.ratioTxt};
  for (std::size_t i = 0; i < n; ++i) {
    if (i % in.steps == 0 || (in.mask && !in.mask[i])) continue;
    for (int a = 0; a < 4; ++a)
      if (!std::isfinite(arrays[a][i])) return Status::Invalid(names[a], i, arrays[a][i], kExpectFinite);
  }
  ParallelFor(in.batch, static_cast<double>(in.steps), [&](std::size_t begin, std::size_t end) {
    for (std::size_t b = begin; b < end; ++b) {
      double alignmentSum = 0.0;
      std::size_t active = 0;
      for (std::size_t t = 0; t < in.steps; ++t) {
        std::size_t i = b * in.steps + t;
        std::int8_t role = kRoleNeutral;
        if (t > 0 && (!in.mask || in.mask[i])) {
          double shift = static_cast<double>(in.frVis[i]) - static_cast<double>(in.frTxt[i]);
          if (shift > tauVis) role = kRoleVision;
          else if (shift < -tauTxt) role = kRoleText;
        }
        float alignment = role == kRoleVision ? in.ratioVis[i] : role == kRoleText ? in.ratioTxt[i] : 0.0f;
        out.roles[i] = role;
        out.alignment[i] = alignment;
        if (role != kRoleNeutral) {
          alignmentSum += alignment;
          ++active;
        }
      }
      out.sequenceScore[b] =
          active ? static_cast<float>(Sigmoid(alignmentSum / static_cast<double>(active))) : 0.5f;
    }
  });
  return Status::Ok();
}

Status NormalizeScores(const float* scores, std::size_t n, std::size_t groupSize, float* out) {
  if (Status s = CheckFinite("scores", scores, n); !s.ok) return s;
  std::size_t group = groupSize == 0 ? n : groupSize;
  for (std::size_t start = 0; start < n; start += group) {
    Moments m = MeanAndStd(scores + start, group);
    for (std::size_t i = start; i < start + group; ++i)
      out[i] = m.std > kMinStd ? static_cast<float>(std::tanh((scores[i] - m.mean) / m.std)) : 0.0f;
  }
  return Status::Ok();
}

Status ReweightAdvantages(const float* advantages, std::size_t count, const float* normalizedScores,
                          std::size_t batch, const ReweightOptions& options, float* out) {
  if (Status s = CheckFinite("advantages", advantages, count); !s.ok) return s;
  if (Status s = CheckFinite("normalizedScores", normalizedScores, batch); !s.ok) return s;
  std::size_t perSequence = batch ? count / batch : 0;
  for (std::size_t b = 0; b < batch; ++b) {
    double score = normalizedScores[b];
    double length = options.lengths ? static_cast<double>(options.lengths[b]) : 0.0;
    if (options.minLength > 0 && length < static_cast<double>(options.minLength)) score = -1.0;
    double weight = std::clamp(1.0 + options.alpha * score, options.min, options.max);
    if (options.scaleByLength) weight *= std::min(length / static_cast<double>(options.minLength), 1.0);
    for (std::size_t j = b * perSequence; j < (b + 1) * perSequence; ++j)
      out[j] = static_cast<float>(static_cast<double>(advantages[j]) * weight);
  }
  return Status::Ok();
}

}  // namespace dyco
