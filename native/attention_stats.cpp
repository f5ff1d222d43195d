#include "attention_stats.hpp"

#include <algorithm>

#include "checks.hpp"
#include "failure.hpp"
#include "parallel.hpp"
#include "row_math.hpp"

namespace dyco {
namespace {

constexpr double kEntryCost = 4.0;
constexpr double kRatioFloor = 1e-8;  // method §4: ρ = r / max(r_vis + r_txt, 1e-8)

// Mass of one row over a region's keys below `end`, with validity of every key read.
struct RegionMass {
  double sum = 0.0;
  bool valid = true;
  std::size_t count = 0;  // keys of the region below `end`
};

RegionMass MassBelow(const float* row, const std::vector<KeyRun>& region, std::size_t end) {
  RegionMass mass;
  for (const KeyRun& run : region) {
    if (run.begin >= end) break;
    std::size_t stop = std::min(run.end, end);
    Mass m = SumChecked(row + run.begin, stop - run.begin);
    mass.sum += m.sum;
    mass.valid = mass.valid && m.valid;
    mass.count += stop - run.begin;
  }
  return mass;
}

// Mass of the current row below `length`, split at `prefix` (≤ length): the part below `prefix`
// feeds the Fisher–Rao shift, the whole feeds the ratios. One read of the row serves both.
struct SplitMass {
  RegionMass prefix;
  RegionMass whole;
};

SplitMass MassSplit(const float* row, const std::vector<KeyRun>& region, std::size_t prefix, std::size_t length) {
  SplitMass split;
  for (const KeyRun& run : region) {
    if (run.begin >= length) break;
    std::size_t stop = std::min(run.end, length);
    std::size_t cut = std::clamp(prefix, run.begin, stop);
    Mass head = SumChecked(row + run.begin, cut - run.begin);
    Mass tail = SumChecked(row + cut, stop - cut);
    split.prefix.sum += head.sum;
    split.prefix.count += cut - run.begin;
    split.whole.sum += head.sum + tail.sum;
    split.whole.count += stop - run.begin;
    split.whole.valid = split.whole.valid && head.valid && tail.valid;
  }
  split.prefix.valid = split.whole.valid;
  return split;
}

// FR between two rows restricted to a region's keys below `end`, given both masses there.
float RegionFisherRao(const float* prev, const RegionMass& massPrev, const float* cur, const RegionMass& massCur,
                      const std::vector<KeyRun>& region, std::size_t end) {
  std::size_t n = massCur.count;
  if (n == 0) return 0.0f;
  Normaliser np = NormaliserFor(massPrev.sum, n), nc = NormaliserFor(massCur.sum, n);
  double d2 = 0.0;
  for (const KeyRun& run : region) {
    if (run.begin >= end) break;
    std::size_t stop = std::min(run.end, end);
    d2 += SqrtDistanceSquared(prev + run.begin, np, cur + run.begin, nc, stop - run.begin);
  }
  return FisherRaoFromDistanceSquared(d2);
}

// First invalid key of a row among the region keys below `end`, or kNone.
std::size_t FirstInvalidKey(const float* row, const ModalityRuns& runs, std::size_t end) {
  std::size_t first = FirstFailure::kNone;
  for (const auto* region : {&runs.vision, &runs.text}) {
    for (const KeyRun& run : *region) {
      if (run.begin >= end) break;
      std::size_t stop = std::min(run.end, end);
      std::size_t k = FirstInvalid(row + run.begin, stop - run.begin);
      if (k < stop - run.begin) first = std::min(first, run.begin + k);
    }
  }
  return first;
}

}  // namespace

Status BuildModalityRuns(const std::uint8_t* modality, std::size_t keys, ModalityRuns* runs) {
  runs->vision.clear();
  runs->text.clear();
  for (std::size_t k = 0; k < keys; ++k) {
    std::uint8_t label = modality[k];
    if (label > kText) return Status::Invalid("modality", k, label, "0 (other), 1 (vision) or 2 (text)");
    if (label == kOther) continue;
    std::vector<KeyRun>& region = label == kVision ? runs->vision : runs->text;
    if (!region.empty() && region.back().end == k) {
      region.back().end = k + 1;
    } else {
      region.push_back({k, k + 1});
    }
  }
  return Status::Ok();
}

Status AttentionStats(const float* attn, std::size_t batch, std::size_t steps, std::size_t keys,
                      const ModalityRuns& runs, const std::int32_t* lengths, AttentionStatsOutputs out) {
  FirstFailure failure;
  ParallelFor(batch * steps, kEntryCost * static_cast<double>(keys), [&](std::size_t begin, std::size_t end) {
    // The previous row's region masses below its own length, kept from the iteration before: when
    // the context grows or stays (the usual case), they are exactly the masses below the common
    // prefix, and the previous row need not be summed again.
    std::size_t cachedRow = FirstFailure::kNone, cachedLength = 0;
    RegionMass cachedVis, cachedTxt;
    for (std::size_t i = begin; i < end; ++i) {
      const float* cur = attn + i * keys;
      std::size_t length = LengthAt(lengths, i, keys);
      bool first = i % steps == 0;
      std::size_t lengthPrev = first ? 0 : LengthAt(lengths, i - 1, keys);
      std::size_t prefix = std::min(lengthPrev, length);

      SplitMass vis = MassSplit(cur, runs.vision, prefix, length);
      SplitMass txt = MassSplit(cur, runs.text, prefix, length);
      bool valid = vis.whole.valid && txt.whole.valid;

      double denominator = std::max(vis.whole.sum + txt.whole.sum, kRatioFloor);
      out.ratioVis[i] = static_cast<float>(vis.whole.sum / denominator);
      out.ratioTxt[i] = static_cast<float>(txt.whole.sum / denominator);
      out.frVis[i] = 0.0f;
      out.frTxt[i] = 0.0f;

      if (!first && valid) {
        const float* prev = cur - keys;  // still in cache from the previous iteration
        const bool cached = cachedRow == i - 1 && cachedLength == prefix;
        RegionMass visPrev = cached ? cachedVis : MassBelow(prev, runs.vision, prefix);
        RegionMass txtPrev = cached ? cachedTxt : MassBelow(prev, runs.text, prefix);
        valid = visPrev.valid && txtPrev.valid;
        if (valid) {
          out.frVis[i] = RegionFisherRao(prev, visPrev, cur, vis.prefix, runs.vision, prefix);
          out.frTxt[i] = RegionFisherRao(prev, txtPrev, cur, txt.prefix, runs.text, prefix);
        }
      }
      if (!valid) failure.Record(i);
      cachedRow = i;
      cachedLength = length;
      cachedVis = vis.whole;
      cachedTxt = txt.whole;
    }
  });
  if (!failure.any()) return Status::Ok();

  // The failing row's own keys come first; otherwise the previous row's prefix held the bad value.
  std::size_t i = failure.item();
  std::size_t k = FirstInvalidKey(attn + i * keys, runs, LengthAt(lengths, i, keys));
  std::size_t offset = i * keys;
  if (k == FirstFailure::kNone) {
    std::size_t prefix = std::min(LengthAt(lengths, i - 1, keys), LengthAt(lengths, i, keys));
    offset = (i - 1) * keys;
    k = FirstInvalidKey(attn + offset, runs, prefix);
  }
  return Status::Invalid("attn", offset + k, attn[offset + k], kExpectProbability);
}

Status AttentionStatsStep(const float* prev, std::size_t lengthPrev, const float* cur, std::size_t length,
                          const ModalityRuns& runs, AttentionStatsStepOutput* out) {
  // The same arithmetic as one row of AttentionStats, except that the previous row's masses are
  // always summed again below the common prefix (AttentionStats may reuse its cached whole-row
  // sums, which add the same values in another order): results agree to float rounding.
  std::size_t prefix = prev ? std::min(lengthPrev, length) : 0;
  SplitMass vis = MassSplit(cur, runs.vision, prefix, length);
  SplitMass txt = MassSplit(cur, runs.text, prefix, length);
  *out = AttentionStatsStepOutput{};
  if (!(vis.whole.valid && txt.whole.valid)) {
    std::size_t k = FirstInvalidKey(cur, runs, length);
    return Status::Invalid("attention", k, cur[k], kExpectProbability);
  }
  double denominator = std::max(vis.whole.sum + txt.whole.sum, kRatioFloor);
  out->ratioVis = static_cast<float>(vis.whole.sum / denominator);
  out->ratioTxt = static_cast<float>(txt.whole.sum / denominator);
  if (!prev) return Status::Ok();
  RegionMass visPrev = MassBelow(prev, runs.vision, prefix);
  RegionMass txtPrev = MassBelow(prev, runs.text, prefix);
  if (!(visPrev.valid && txtPrev.valid)) {
    std::size_t k = FirstInvalidKey(prev, runs, prefix);
    return Status::Invalid("previousAttention", k, prev[k], kExpectProbability);
  }
  out->frVis = RegionFisherRao(prev, visPrev, cur, vis.prefix, runs.vision, prefix);
  out->frTxt = RegionFisherRao(prev, txtPrev, cur, txt.prefix, runs.text, prefix);
  return Status::Ok();
}

}  // namespace dyco
