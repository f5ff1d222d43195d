// The CUDA kernels for callers that hold their arrays on either side (the bindings): each input is
// host memory (copied to the device for the call) or device memory (read in place); the kernel
// runs on the calling thread's stream; each output goes to host memory or stays on the device in a
// new buffer. A call returns when its results are complete. A bad input is reported as the CPU
// kernel reports it (the same Status: argument name, flat index, value, wording); CUDA errors are
// thrown as CudaError with CUDA's message.
#pragma once
#include <cstddef>
#include <vector>

#include "cuda_device.hpp"
#include "dtype.hpp"
#include "policy_loss.hpp"
#include "status.hpp"

namespace dyco::cuda {

// An input array: where it is and, for floating-point inputs, how its elements are stored.
struct Operand {
  const void* data = nullptr;  // null: an absent optional input
  bool onDevice = false;
  DType dtype = DType::kFloat32;
  explicit operator bool() const { return data != nullptr; }
};

// Where an output goes: copied into host memory the caller owns, or left on the device in a new
// buffer the caller then owns.
struct Destination {
  void* host = nullptr;
  DeviceBuffer* device = nullptr;
};

Status StagedFisherRao(const Operand& p, const Operand& q, std::size_t rows, std::size_t cols, Destination out);

Status StagedFisherRaoAdjacent(const Operand& x, std::size_t batch, std::size_t steps, std::size_t width,
                               const Operand& lengths, Destination out);

struct AttentionStatsDestinations {
  Destination ratioVis, ratioTxt, frVis, frTxt;
};
Status StagedAttentionStats(const Operand& attn, std::size_t batch, std::size_t steps, std::size_t keys,
                            const Operand& modality, const Operand& lengths, const AttentionStatsDestinations& out);

struct CoordinationOperands {
  Operand frVis, frTxt, ratioVis, ratioTxt, mask;
  std::size_t batch = 0, steps = 0;
};
struct CoordinationDestinations {
  Destination roles, alignment, sequenceScore;
};
Status StagedCoordinationScores(const CoordinationOperands& in, double tauVis, double tauTxt,
                                const CoordinationDestinations& out);

struct PolicyLossOperands {
  Operand logp, oldLogp, refLogp, advantages, mask;
  bool perTokenAdvantages = false;
  std::size_t batch = 0, steps = 0;
};
Status StagedPolicyLoss(const PolicyLossOperands& in, const PolicyLossConfig& config, Destination grad,
                        PolicyLossMetrics* metrics);

struct LogitsPolicyLossOperands {
  Operand logits;  // dtype: float32, float16 or bfloat16
  Operand targets, oldLogp, refLogp, advantages, mask;  // int32, float32 ×3, uint8
  bool perTokenAdvantages = false;
  double temperature = 1.0;
  std::size_t batch = 0, steps = 0, vocab = 0;
};
// Where ∂loss/∂logits goes: over the logits in their dtype (inPlace: the DeviceArray's memory, or
// host logits copied back once every check has passed), into existing float32 device memory
// (`existing`, a DeviceArray the caller passed), or to `out` (a host Float32Array or a new device
// buffer). None of them: not computed.
struct LogitsGradientDestination {
  bool inPlace = false;
  void* existing = nullptr;
  Destination out;
  bool wanted() const { return inPlace || existing || out.host || out.device; }
};
// logitsPolicyLoss (logits_policy_loss.hpp) on the device. Bad inputs give the CPU's Status (the
// argument checks first: temperature, vocab; then mask, targets, logits rows, loss terms). On an
// error an in-place gradient leaves the logits untouched, on the host and on the device.
Status StagedLogitsPolicyLoss(const LogitsPolicyLossOperands& in, const PolicyLossConfig& config,
                              const LogitsGradientDestination& grad, Destination logp, PolicyLossMetrics* metrics);

// Benchmark hook: while a LaunchTiming is installed on a thread, the calls above made on that thread
// launch their kernels `warmup` + `reps` times back to back (inputs staged once, outputs read once)
// and record each rep's time between CUDA events in `milliseconds`.
struct LaunchTiming {
  int warmup = 0;
  int reps = 0;
  std::vector<double> milliseconds;
};
void SetLaunchTiming(LaunchTiming* timing);  // per thread; nullptr ends it

}  // namespace dyco::cuda
