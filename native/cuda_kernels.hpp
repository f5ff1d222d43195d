// The CUDA kernels behind a plain C++ interface, for code that already holds its data on the GPU
// (the LibTorch runner, say: pass tensor.data_ptr() and the current stream). Including this file
// needs no CUDA header: streams travel as `void*` (a cudaStream_t; nullptr is the legacy default
// stream) and every function returns a cudaError_t as int (0 = cudaSuccess; ErrorString names it).
//
// Contract, for every function:
// - every pointer is device memory (or managed memory), except `failures` may be null;
// - the work is only enqueued on `stream`: nothing is synchronised and no result is read back, so
//   outputs and `failures` are valid once the stream has reached this point;
// - temporary device memory comes from the stream-ordered allocator (cudaMallocAsync), so the
//   calls may also be captured into a CUDA graph;
// - the numbers are those of the CPU kernels (native/*.hpp), with the same rules (zero mass →
//   uniform, prefixes, roles, reductions), accumulated in float32/float64 in a fixed order: the
//   same inputs give bit-identical outputs on every run (no atomics touch an output value).
//
// Validation: the kernels check what they read, as the CPU kernels do. When `failures` is not
// null it must point at kFailureSlots device words; the call resets them to kNoFailure and each
// check leaves the smallest failing key in its slot (integer atomicMin, so the result does not
// depend on scheduling). The slots and keys of each function are listed with it; a lower slot is
// the check the CPU kernel makes first. native/cuda_calls.hpp turns them into dyco::Status.
#pragma once
#include <cstddef>
#include <cstdint>

#include "attention_stats.hpp"
#include "coordination.hpp"
#include "dtype.hpp"
#include "policy_loss.hpp"

namespace dyco::cuda {

// A floating-point input in device memory: float32, float16 or bfloat16 (dtype.hpp), widened to
// float32 as it is read; the arithmetic is float32/float64 whatever the input type.
struct Input {
  const void* data = nullptr;
  DType dtype = DType::kFloat32;
};

using FailureKey = unsigned long long;
inline constexpr int kFailureSlots = 4;
inline constexpr FailureKey kNoFailure = ~0ull;

// CUDA's description of an error code ("out of memory", ...).
const char* ErrorString(int code);
// The error code's name ("cudaErrorMemoryAllocation", ...).
const char* ErrorName(int code);

// out[i] = FR(p row i, q row i), rows × cols row-major (fisher_rao.hpp: FisherRao).
// Slot 0: the first bad entry, key = row·2·cols + (0 for p, cols for q) + column.
int FisherRao(Input p, Input q, std::size_t rows, std::size_t cols, float* out, FailureKey* failures, void* stream);

// out[b·steps + t] = FR between rows t−1 and t of sequence b over their common prefix
// (fisher_rao.hpp: FisherRaoAdjacent). lengths may be null (every row is `width` long).
// Slot 0: the first length outside [0, width], key = its index.
// Slot 1: the first bad entry, key = i·2·width + (0 for row i−1, width for row i) + column, for the
// pair that ends at row i.
int FisherRaoAdjacent(Input x, std::size_t batch, std::size_t steps, std::size_t width, const std::int32_t* lengths,
                      float* out, FailureKey* failures, void* stream);

// Region masses, ratios and the Fisher–Rao shifts of every attention row in one read of it
// (attention_stats.hpp: AttentionStats; the output pointers are device memory). modality holds
// `keys` labels 0/1/2; lengths may be null.
// Slot 0: the first modality label above 2, key = its key index.
// Slot 1: the first length outside [0, keys], key = its index.
// Slot 2: the first bad weight on a vision or text key below its row's length, key = flat index.
int AttentionStats(Input attn, std::size_t batch, std::size_t steps, std::size_t keys, const std::uint8_t* modality,
                   const std::int32_t* lengths, AttentionStatsOutputs out, FailureKey* failures, void* stream);

// Roles, alignment and the per-sequence score (coordination.hpp: CoordinationScores; every pointer
// of `in` and `out` is device memory).
// Slot 0: the first mask value above 1, key = its index.
// Slot 1: the first non-finite value read, key = 4·index + (0 frVis, 1 frTxt, 2 ratioVis, 3 ratioTxt).
int CoordinationScores(const CoordinationInputs& in, double tauVis, double tauTxt, CoordinationOutputs out,
                       FailureKey* failures, void* stream);

struct PolicyLossDeviceInputs {
  Input logp;
  Input oldLogp;  // data null: ℓ detached (ratio 1)
  Input refLogp;  // data null: no KL term
  const float* advantages;  // batch entries, or batch × steps when perTokenAdvantages
  bool perTokenAdvantages;
  const std::uint8_t* mask;
  std::size_t batch;
  std::size_t steps;
};

// Loss, metrics and ∂loss/∂ℓ in one kernel (policy_loss.hpp: PolicyLoss), plus a one-block
// reduction of the per-sequence sums in sequence order. `metrics` receives five doubles: loss,
// clipFractionLow, clipFractionHigh, kl, ratioMean (the order of dyco::PolicyLossMetrics).
// Slot 0: the first mask value above 1, key = its index.
// Slot 1: the first non-finite value read, key = argument·batch·steps + index, arguments in the
// order logp, oldLogp, refLogp, advantages (index b for per-sequence advantages).
int PolicyLoss(const PolicyLossDeviceInputs& in, const PolicyLossConfig& config, float* grad, double* metrics,
               FailureKey* failures, void* stream);

struct LogitsPolicyLossDeviceInputs {
  Input logits;                  // batch × steps × vocab, row-major
  const std::int32_t* targets;   // batch × steps token ids; read on unmasked tokens only
  double temperature;            // finite and > 0
  Input oldLogp;                 // data null: ℓ detached (ratio 1)
  Input refLogp;                 // data null: no KL term
  const float* advantages;       // batch entries, or batch × steps when perTokenAdvantages
  bool perTokenAdvantages;
  const std::uint8_t* mask;      // batch × steps of 0/1; masked rows of the logits are never read
  std::size_t batch;
  std::size_t steps;
  std::size_t vocab;             // ≥ 1
};

struct LogitsPolicyLossDeviceOutputs {
  float* logp;       // batch × steps (required): ℓ, 0 on masked tokens
  double* metrics;   // five doubles, as PolicyLoss writes them (required)
  // ∂loss/∂logits, batch × steps × vocab, 0 on masked rows; null: not computed. inPlace: must be
  // in.logits.data itself and receives the gradient in the logits' dtype (rounded to nearest even);
  // otherwise float32 memory that does not overlap the logits.
  void* gradLogits;
  bool inPlace;
};

// The policy loss from logits (logits_policy_loss.hpp: LogitsPolicyLoss): one block per (b, t) row
// streams the row once for an online log-sum-exp (float32 exp, float64 sums) and ℓ; PolicyLoss
// above runs on ℓ; one block per row writes g·(1[v = target] − softmax_v)/T (target entry from
// −expm1(ℓ) in float64). Extra device memory: 3·batch·steps floats and PolicyLoss's workspace.
// The gradient kernel first reads the failure slots on the device and writes nothing when any
// check failed, so an in-place buffer is untouched on error without a host round trip (the slots
// are then needed: with `failures` null the call keeps its own in temporary memory).
// Returns cudaErrorInvalidValue (and enqueues nothing) for a temperature that is not finite and
// > 0, vocab 0, or an in-place gradient that is not the logits.
// Slot 0: the first mask value above 1, key = its index.
// Slot 1: as PolicyLoss's slot 1 (ℓ itself is the logp argument: −∞ when a finite logit's
//   log-prob underflows float32).
// Slot 2: the first target outside [0, vocab) on a token whose mask is not 0, key = its index.
// Slot 3: the first unmasked row with a NaN or +∞ logit, no finite logit, or a −∞ target logit,
//   key = the row (b·steps + t); InvalidLogitsRow says which.
// The order of report (the CPU's) is slot 0, 2, 3, 1.
int LogitsPolicyLoss(const LogitsPolicyLossDeviceInputs& in, const PolicyLossConfig& config,
                     const LogitsPolicyLossDeviceOutputs& out, FailureKey* failures, void* stream);

}  // namespace dyco::cuda
