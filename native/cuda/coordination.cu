// coordinationScores on the device: one block per sequence assigns roles and alignments token by
// token and reduces the alignment sum and active count in a fixed order for the sequence score.
#include "common.cuh"
#include "coordination.hpp"

namespace dyco::cuda {
namespace {

using namespace detail;

__global__ void __launch_bounds__(kBlockThreads)
    CoordinationKernel(CoordinationInputs in, double tauVis, double tauTxt, CoordinationOutputs out,
                       FailureKey* failures) {
  using TeamT = Team<kBlockThreads / kWarpSize>;
  __shared__ double scratch[2 * (kBlockThreads / kWarpSize)];
  const std::size_t steps = in.steps;
  for (std::size_t b = blockIdx.x; b < in.batch; b += gridDim.x) {
    double sums[2] = {0.0, 0.0};  // Σ alignment over non-neutral tokens, their count
    for (std::size_t t = threadIdx.x; t < steps; t += kBlockThreads) {
      const std::size_t i = b * steps + t;
      const unsigned mask = in.mask ? __ldg(in.mask + i) : 1u;
      if (mask > 1) RecordFailure(failures, 0, i);
      // Step 0 and masked tokens are neutral, and their values are not read.
      const bool on = t > 0 && mask != 0;
      std::int8_t role = kRoleNeutral;
      float alignment = 0.0f;
      if (on) {
        const float values[4] = {__ldg(in.frVis + i), __ldg(in.frTxt + i), __ldg(in.ratioVis + i), __ldg(in.ratioTxt + i)};
        const double shift = static_cast<double>(values[0]) - static_cast<double>(values[1]);
        const bool vision = shift > tauVis;
        const bool text = !vision && shift < -tauTxt;
        role = vision ? kRoleVision : text ? kRoleText : kRoleNeutral;
        alignment = vision ? values[2] : text ? values[3] : 0.0f;
        sums[0] += alignment;
        sums[1] += (vision || text) ? 1.0 : 0.0;
        for (int a = 0; a < 4; ++a)
          if (!isfinite(values[a])) RecordFailure(failures, 1, 4 * static_cast<FailureKey>(i) + a);
      }
      out.roles[i] = role;
      out.alignment[i] = alignment;
    }
    TeamT::Sum(sums, scratch);
    if (threadIdx.x == 0)
      out.sequenceScore[b] = sums[1] > 0.0 ? static_cast<float>(1.0 / (1.0 + exp(-(sums[0] / sums[1])))) : 0.5f;
  }
}

}  // namespace

int CoordinationScores(const CoordinationInputs& in, double tauVis, double tauTxt, CoordinationOutputs out,
                       FailureKey* failures, void* stream) {
  auto s = static_cast<cudaStream_t>(stream);
  if (int e = detail::BeginCall(failures, s)) return e;
  if (in.batch == 0) return cudaSuccess;
  const unsigned blocks = detail::GridFor(in.batch, 1, detail::Multiprocessors());
  CoordinationKernel<<<blocks, detail::kBlockThreads, 0, s>>>(in, tauVis, tauTxt, out, failures);
  return cudaGetLastError();
}

}  // namespace dyco::cuda
