// Per-token attention signals of method §2 in one fused pass per attention row: region masses,
// relative ratios, and the Fisher–Rao shift of each region from the previous step.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "status.hpp"

namespace dyco {

enum ModalityLabel : std::uint8_t { kOther = 0, kVision = 1, kText = 2 };

// Contiguous key ranges [begin, end) of one modality. Real prompts are "other | vision | text", so
// a region is usually one range and the inner loops run over plain contiguous memory.
struct KeyRun {
  std::size_t begin;
  std::size_t end;
};
struct ModalityRuns {
  std::vector<KeyRun> vision;
  std::vector<KeyRun> text;
};

// Groups the per-key labels into runs; rejects labels other than 0, 1, 2.
Status BuildModalityRuns(const std::uint8_t* modality, std::size_t keys, ModalityRuns* runs);

struct AttentionStatsOutputs {
  float* ratioVis;
  float* ratioTxt;
  float* frVis;
  float* frTxt;
};

// attn: batch × steps × keys rows; lengths (may be null) already checked to lie in [0, keys].
Status AttentionStats(const float* attn, std::size_t batch, std::size_t steps, std::size_t keys,
                      const ModalityRuns& runs, const std::int32_t* lengths, AttentionStatsOutputs out);

// One step of AttentionStats for one sequence, for callers that stream rows as they are produced
// (the runner's generate keeps only the previous row per sequence). `prev` is null at step 0.
// Gives the values AttentionStats gives for the same row of a stored map (to float rounding).
struct AttentionStatsStepOutput {
  float ratioVis = 0.0f;
  float ratioTxt = 0.0f;
  float frVis = 0.0f;
  float frTxt = 0.0f;
};
Status AttentionStatsStep(const float* prev, std::size_t lengthPrev, const float* cur, std::size_t length,
                          const ModalityRuns& runs, AttentionStatsStepOutput* out);

}  // namespace dyco

