// The policy loss of method §6 from logits: selective log-softmax at a temperature, the loss and
// its metrics (dyco::PolicyLoss), and ∂loss/∂logits, without a batch × steps × vocab float32
// intermediate. Extra memory is O(batch·steps) (plus the float32 gradient when it is not written
// over the logits).
//
// Three phases, each parallel over (b, t) rows:
//  1. per unmasked row, one streaming pass over the vocabulary: max m and Σ_v exp((x_v − m)/T)
//     (online log-sum-exp: float32 exp, float64 sums), which also validates the row; then
//     ℓ = (x_target − m)/T − log Σ in float64;
//  2. dyco::PolicyLoss on ℓ: the loss, the metrics and g = ∂loss/∂ℓ (every algorithm, reduction and
//     the sequence-level ratio of gspo, with exactly the code of policyLoss);
//  3. per row, a second pass writing ∂loss/∂x_v = g·(1[v = target] − softmax_v)/T, in float32 to a
//     separate buffer or in the logits' own dtype over the logits. The target entry is
//     g·(−expm1(ℓ))/T, evaluated in float64, so it keeps its precision when softmax_target ≈ 1.
#pragma once
#include <cstddef>
#include <cstdint>

#include "logits_loop.hpp"
#include "policy_loss.hpp"
#include "status.hpp"

namespace dyco {

struct LogitsPolicyLossInputs {
  const void* logits;  // batch × steps × vocab, row-major, of `dtype` (half types as uint16 bit patterns)
  DType dtype;
  const std::int32_t* targets;  // batch × steps token ids; read on unmasked tokens only
  double temperature;           // > 0: ℓ is the log-prob of softmax(logits / temperature)
  const float* oldLogp;         // as PolicyLossInputs: ℓ_old, or null for ℓ detached
  const float* refLogp;         // ℓ_ref, or null for no KL term
  const float* advantages;      // batch, or batch × steps when perTokenAdvantages
  bool perTokenAdvantages;
  const std::uint8_t* mask;  // batch × steps of 0/1; masked rows of the logits are never read
  std::size_t batch;
  std::size_t steps;
  std::size_t vocab;
};

struct LogitsPolicyLossOutputs {
  float* logp = nullptr;  // batch × steps (required): ℓ, 0 on masked tokens
  // ∂loss/∂logits, batch × steps × vocab, 0 on masked rows. Null: not computed (phase 3 skipped).
  // inPlace: must be inputs.logits itself, and receives the gradient in the logits' dtype;
  // otherwise a float32 buffer that does not overlap the logits.
  void* gradLogits = nullptr;
  bool inPlace = false;
};

// Checks the mask (0/1), the temperature, the target ids of unmasked tokens (in [0, vocab)) and
// every logit of an unmasked row: NaN and +∞ are errors, −∞ is allowed (probability 0) except at
// the row's target or across the whole row. Then the values PolicyLoss checks (oldLogp, refLogp,
// advantages). On error nothing is promised about the outputs (an in-place buffer is untouched:
// every check happens before phase 3).
Status LogitsPolicyLoss(const LogitsPolicyLossInputs& in, const PolicyLossConfig& config,
                        const LogitsPolicyLossOutputs& out, PolicyLossMetrics* metrics);

// The error LogitsPolicyLoss reports for unmasked row `row` (b·steps + t) whose logits failed its
// checks, in the order a reader would look: the first NaN/+∞ entry, else a row with no finite
// entry, else a −∞ target. `rowLogits` holds that row's `vocab` entries (host memory; the CUDA
// calls copy the row back to report it); indices are flat (row·vocab + v).
Status InvalidLogitsRow(const void* rowLogits, DType dtype, std::size_t vocab, std::size_t steps, std::size_t row,
                        std::int32_t target);

}  // namespace dyco
