// The hot loops, compiled once per x86 instruction-set level (native/isa/*.cpp, each a build of
// simd_loops.inc with its own -march) and picked once at load time from the CPU's features.
// Prebuilt binaries must run on any x86-64 CPU; GCC's target_clones could not vectorise the loops
// that inline our exp, so separate translation units it is. Other architectures get one build.
#pragma once
#include <cstddef>
#include <cstdint>

#include "logits_loop.hpp"
#include "policy_loss_loop.hpp"
#include "row_math.hpp"

namespace dyco {

// What the coordination loop returns for one sequence (method §4).
struct CoordinationRow {
  double alignmentSum;  // Σ alignment over non-neutral tokens
  double active;        // number of non-neutral tokens
  bool invalid;         // a value it reads is not finite
};

struct SimdLoops {
  const char* isa;  // "avx512", "avx2" or "baseline"
  Mass (*sumChecked)(const float* a, std::size_t n);
  double (*sqrtDistanceSquared)(const float* a, Normaliser na, const float* b, Normaliser nb, std::size_t n);
  // out[i] = tanh((in[i] − mean)·invStd), in float64.
  void (*tanhStandardize)(const float* in, std::size_t n, double mean, double invStd, float* out);
  // Roles and alignment of one sequence's tokens; mask may be null.
  CoordinationRow (*coordinationRow)(const float* frVis, const float* frTxt, const float* ratioVis,
                                     const float* ratioTxt, const std::uint8_t* mask, std::size_t steps,
                                     double tauVis, double tauTxt, std::int8_t* roles, float* alignment);
  SequenceLoopFn policyLoss[2][2][2];  // [soft gate (sapo)][sequence-level ratio][per-token advantage]
  // Softmax rows of the logits-level policy loss, by DType of the logits.
  LogitsRowStatsFn logitsRowStats[kDTypes];
  // [logits dtype][0: float32 output, 1: output in the logits' own dtype (in place)]
  LogitsRowGradientFn logitsRowGradient[kDTypes][2];
};

// The table for this CPU, chosen on first use.
const SimdLoops& Loops();

// One table per compiled instruction-set level.
namespace isa_baseline { const SimdLoops& Table(); }
namespace isa_avx2 { const SimdLoops& Table(); }
namespace isa_avx512 { const SimdLoops& Table(); }

}  // namespace dyco
