#include "coordination.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "checks.hpp"
#include "failure.hpp"
#include "moments.hpp"
#include "parallel.hpp"
#include "simd_loops.hpp"

namespace dyco {
namespace {

constexpr double kMinStd = 1e-8;  // method §4: ĉ = 0 when std ≤ 1e-8

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace

Status CoordinationScores(const CoordinationInputs& in, double tauVis, double tauTxt, CoordinationOutputs out) {
  const std::size_t n = in.batch * in.steps, steps = in.steps;
  if (Status s = CheckMask("mask", in.mask, n); !s.ok) return s;
  FirstFailure failure;
  const SimdLoops& loops = Loops();
  ParallelFor(in.batch, 4.0 * static_cast<double>(steps), [&](std::size_t begin, std::size_t end) {
    for (std::size_t b = begin; b < end; ++b) {
      const std::size_t row = b * steps;
      CoordinationRow r = loops.coordinationRow(in.frVis + row, in.frTxt + row, in.ratioVis + row, in.ratioTxt + row,
                                                in.mask ? in.mask + row : nullptr, steps, tauVis, tauTxt,
                                                out.roles + row, out.alignment + row);
      if (r.invalid) failure.Record(b);
      out.sequenceScore[b] = r.active > 0.0 ? static_cast<float>(Sigmoid(r.alignmentSum / r.active)) : 0.5f;
    }
  });
  if (!failure.any()) return Status::Ok();
  // Name the first bad value of the first failing sequence.
  const char* names[] = {"frVis", "frTxt", "ratioVis", "ratioTxt"};
  const float* arrays[] = {in.frVis, in.frTxt, in.ratioVis, in.ratioTxt};
  for (std::size_t i = failure.item() * steps + 1; i < n; ++i) {
    if (i % steps == 0 || (in.mask && !in.mask[i])) continue;
    for (int a = 0; a < 4; ++a)
      if (!std::isfinite(arrays[a][i])) return Status::Invalid(names[a], i, arrays[a][i], kExpectFinite);
  }
  return Status::Ok();  // unreachable: the failing sequence holds a bad value
}

Status NormalizeScores(const float* scores, std::size_t n, std::size_t groupSize, float* out) {
  if (Status s = CheckFinite("scores", scores, n); !s.ok) return s;
  if (n == 0) return Status::Ok();
  const std::size_t group = groupSize == 0 ? n : groupSize, groups = n / group;
  std::vector<Moments> moments(groups);
  ParallelFor(groups, 2.0 * static_cast<double>(group), [&](std::size_t begin, std::size_t end) {
    for (std::size_t g = begin; g < end; ++g) moments[g] = MeanAndStd(scores + g * group, group);
  });
  // Split by elements rather than groups, so one large group still uses every thread.
  const SimdLoops& loops = Loops();
  ParallelFor(n, 30.0, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end;) {
      const std::size_t g = i / group, stop = std::min(end, (g + 1) * group);
      const Moments& m = moments[g];
      if (m.std > kMinStd) {
        loops.tanhStandardize(scores + i, stop - i, m.mean, 1.0 / m.std, out + i);
      } else {
        std::fill(out + i, out + stop, 0.0f);
      }
      i = stop;
    }
  });
  return Status::Ok();
}

Status ReweightAdvantages(const float* advantages, std::size_t count, const float* normalizedScores,
                          std::size_t batch, const ReweightOptions& options, float* out) {
  if (Status s = CheckFinite("advantages", advantages, count); !s.ok) return s;
  if (Status s = CheckFinite("normalizedScores", normalizedScores, batch); !s.ok) return s;
  std::size_t perSequence = batch ? count / batch : 0;
  ParallelFor(batch, static_cast<double>(perSequence), [&](std::size_t begin, std::size_t end) {
    for (std::size_t b = begin; b < end; ++b) {
      double score = normalizedScores[b];
      double length = options.lengths ? static_cast<double>(options.lengths[b]) : 0.0;
      if (options.minLength > 0 && length < static_cast<double>(options.minLength)) score = -1.0;
      double weight = std::clamp(1.0 + options.alpha * score, options.min, options.max);
      if (options.scaleByLength) weight *= std::min(length / static_cast<double>(options.minLength), 1.0);
      for (std::size_t j = b * perSequence; j < (b + 1) * perSequence; ++j)
        out[j] = static_cast<float>(static_cast<double>(advantages[j]) * weight);
    }
  });
  return Status::Ok();
}

}  // namespace dyco
