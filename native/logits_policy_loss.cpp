#include "logits_policy_loss.hpp"

#include <cfloat>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "checks.hpp"
#include "failure.hpp"
#include "half_float.hpp"
#include "parallel.hpp"
#include "simd_loops.hpp"

namespace dyco {
namespace {

// Work per vocabulary entry, for ParallelFor's threshold: a widening, an exp and a few compares.
constexpr double kEntryCost = 8.0;

float LoadLogit(const void* logits, DType dtype, std::size_t index) {
  switch (dtype) {
    case DType::kFloat16: return Float16ToFloat(static_cast<const std::uint16_t*>(logits)[index]);
    case DType::kBFloat16: return BFloat16ToFloat(static_cast<const std::uint16_t*>(logits)[index]);
    default: return static_cast<const float*>(logits)[index];
  }
}

void StoreGradient(void* out, DType dtype, bool inPlace, std::size_t index, double value) {
  const float v = static_cast<float>(value);
  if (!inPlace || dtype == DType::kFloat32) {
    static_cast<float*>(out)[index] = v;
  } else {
    static_cast<std::uint16_t*>(out)[index] = dtype == DType::kFloat16 ? FloatToFloat16(v) : FloatToBFloat16(v);
  }
}

}  // namespace

Status InvalidLogitsRow(const void* rowLogits, DType dtype, std::size_t vocab, std::size_t steps, std::size_t row,
                        std::int32_t target) {
  const std::size_t V = vocab, first = row * V;
  for (std::size_t v = 0; v < V; ++v) {
    const float x = LoadLogit(rowLogits, dtype, v);
    if (!(x <= FLT_MAX)) return Status::Invalid("logits", first + v, x, "a finite number or -Infinity");
  }
  const std::size_t b = row / steps, t = row % steps;
  const std::string where = "row (b = " + std::to_string(b) + ", t = " + std::to_string(t) + ")";
  bool anyFinite = false;
  for (std::size_t v = 0; v < V && !anyFinite; ++v) anyFinite = LoadLogit(rowLogits, dtype, v) > -INFINITY;
  if (!anyFinite)
    return Status::Invalid("logits", first, -INFINITY,
                           "finite somewhere in an unmasked row, but " + where + " is -Infinity throughout");
  const std::size_t at = static_cast<std::size_t>(target);
  return Status::Invalid("logits", first + at, LoadLogit(rowLogits, dtype, at),
                         "finite at the target token of an unmasked row (" + where + ": its log-prob would be -Infinity)");
}

Status LogitsPolicyLoss(const LogitsPolicyLossInputs& in, const PolicyLossConfig& config,
                        const LogitsPolicyLossOutputs& out, PolicyLossMetrics* metrics) {
  const std::size_t rows = in.batch * in.steps, V = in.vocab;
  if (!(in.temperature > 0.0) || !std::isfinite(in.temperature))
    return Status::Invalid("temperature", 0, in.temperature, "a finite number > 0");
  if (V == 0) return Status::Invalid("vocab", 0, 0.0, "an integer ≥ 1");
  if (out.gradLogits && out.inPlace && out.gradLogits != in.logits)
    return Status::Invalid("gradLogits", 0, 0.0, "the logits buffer itself when written in place");
  if (Status s = CheckMask("mask", in.mask, rows); !s.ok) return s;
  for (std::size_t i = 0; i < rows; ++i) {
    if (in.mask[i] && (in.targets[i] < 0 || static_cast<std::size_t>(in.targets[i]) >= V))
      return Status::Invalid("targets", i, in.targets[i], "a token id in [0, " + std::to_string(V) + ")");
  }

  // Phase 1: ℓ per unmasked row, and what phase 3 needs to rebuild its softmax (O(rows) floats).
  const SimdLoops& loops = Loops();
  const LogitsRowStatsFn rowStats = loops.logitsRowStats[static_cast<int>(in.dtype)];
  const double invT = 1.0 / in.temperature;
  const float invTf = static_cast<float>(invT);
  const std::size_t elementSize = ElementBytes(in.dtype);
  const char* logitsBytes = static_cast<const char*>(in.logits);
  std::vector<float> rowMax(rows), rowLogSum(rows);
  FirstFailure failure;
  ParallelFor(rows, kEntryCost * static_cast<double>(V), [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      if (!in.mask[i]) {
        out.logp[i] = 0.0f;
        continue;
      }
      const LogitsRowStats stats = rowStats(logitsBytes + i * V * elementSize, V, invTf);
      const float target = LoadLogit(in.logits, in.dtype, i * V + static_cast<std::size_t>(in.targets[i]));
      if (stats.invalid || !(stats.max > -INFINITY) || !(target > -INFINITY)) {
        failure.Record(i);
        continue;
      }
      const double logSum = std::log(stats.sum);
      rowMax[i] = stats.max;
      rowLogSum[i] = static_cast<float>(logSum);
      out.logp[i] = static_cast<float>((static_cast<double>(target) - stats.max) * invT - logSum);
    }
  });
  if (failure.any()) {
    const std::size_t row = failure.item();
    return InvalidLogitsRow(logitsBytes + row * V * elementSize, in.dtype, V, in.steps, row, in.targets[row]);
  }

  // Phase 2: the policy loss on ℓ, shared with policyLoss.
  std::vector<float> gradLogp(rows);
  PolicyLossInputs lossInputs{out.logp, in.oldLogp, in.refLogp, in.advantages, in.perTokenAdvantages,
                              in.mask,  in.batch,   in.steps};
  if (Status s = PolicyLoss(lossInputs, config, gradLogp.data(), metrics); !s.ok) return s;
  if (!out.gradLogits) return Status::Ok();

  // Phase 3: ∂loss/∂x_v = g·(1[v = target] − softmax_v)/T.
  const LogitsRowGradientFn rowGradient = loops.logitsRowGradient[static_cast<int>(in.dtype)][out.inPlace ? 1 : 0];
  const std::size_t outSize = out.inPlace ? elementSize : sizeof(float);
  char* outBytes = static_cast<char*>(out.gradLogits);
  ParallelFor(rows, kEntryCost * static_cast<double>(V), [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      char* outRow = outBytes + i * V * outSize;
      const double g = gradLogp[i];
      if (!in.mask[i] || g == 0.0) {  // masked, or a clipped token: the whole row's gradient is 0
        std::memset(outRow, 0, V * outSize);
        continue;
      }
      rowGradient(logitsBytes + i * V * elementSize, outRow, V, rowMax[i], invTf, rowLogSum[i],
                  static_cast<float>(-g * invT));
      const double logp = out.logp[i];
      StoreGradient(outRow, in.dtype, out.inPlace, static_cast<std::size_t>(in.targets[i]), g * invT * -std::expm1(logp));
    }
  });
  return Status::Ok();
}

}  // namespace dyco
