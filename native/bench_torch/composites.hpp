// The GPU benchmark's LibTorch baselines: each kernel's computation composed from ATen CUDA
// operations the way reference training code writes it (clamp, normalise, sqrt, sum, arccos; the
// loss with autograd backward), in float32, on inputs generated on the GPU with the benchmark's
// shapes. Timed with CUDA events on PyTorch's default stream, like the kernels. No N-API here.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "policy_loss.hpp"

namespace dyco::bench {

struct TorchInfo {
  std::string version;  // LibTorch version
  bool cuda = false;    // LibTorch sees a CUDA device
  std::string device;   // its name, when it does
};
TorchInfo Info();

// Each builds its inputs on the GPU (seeded) and returns one run of the composite.
std::function<void()> FisherRaoComposite(std::int64_t rows, std::int64_t cols);
std::function<void()> FisherRaoAdjacentComposite(std::int64_t batch, std::int64_t steps, std::int64_t width);
// Keys 0..other are "other", then `vision` vision keys, then text; row (b, t) holds min(keys, prompt + t) keys.
std::function<void()> AttentionStatsComposite(std::int64_t batch, std::int64_t steps, std::int64_t keys, std::int64_t other,
                                              std::int64_t vision, std::int64_t prompt);
// Forward and autograd backward (native/runner/reference_policy_loss.hpp in float32).
std::function<void()> PolicyLossComposite(const PolicyLossConfig& config, std::int64_t batch, std::int64_t steps);

// log_softmax(logits.float() / T) → gather → the reference loss → autograd backward into the
// logits (of `dtype`: "float32", "float16" or "bfloat16"), as training code without a fused kernel
// writes it; per-sequence advantages, old/ref log-probs, trailing padding.
std::function<void()> LogitsPolicyLossComposite(const PolicyLossConfig& config, std::int64_t batch, std::int64_t steps,
                                                std::int64_t vocab, const std::string& dtype, double temperature);

// Peak extra device memory of one run: LibTorch's caching allocator is emptied, then the growth of
// the device's used memory (cudaMemGetInfo) over the run is its peak reservation (the allocator
// keeps what it reserved until emptied). −1 where this LibTorch has no CUDA allocator headers.
double PeakExtraBytes(const std::function<void()>& run);

// Runs `run` warmup times, then reps times between pairs of CUDA events on the default stream;
// milliseconds per rep.
std::vector<double> TimeWithEvents(const std::function<void()>& run, int warmup, int reps);

}  // namespace dyco::bench
