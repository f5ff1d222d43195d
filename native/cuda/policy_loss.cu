// policyLoss forward and backward on the device, in one kernel per call (plus, for the reductions
// that normalise by every token of the batch, a count of the mask first). One block per sequence:
// it counts the sequence's tokens (and sums its log-ratio for sequence-level ratios), computes
// every token's loss term, gradient and metrics in float64 exactly as the CPU loop does
// (simd_loops.inc: SequenceLoop), writes the gradient, and leaves the sequence's sums in a
// per-sequence slot. A one-block kernel then adds the slots in sequence order, so the loss and
// metrics never depend on scheduling.
#include "common.cuh"

namespace dyco::cuda {
namespace {

using namespace detail;

struct SequencePartial {
  double loss, kl, ratio, clippedLow, clippedHigh, tokens;
};

// An input element as float32 whatever its storage type (the log-prob arrays may be half precision).
__device__ __forceinline__ float LoadAs(const Input& in, std::size_t i) {
  switch (in.dtype) {
    case DType::kFloat16: return LoadElement(static_cast<const __half*>(in.data) + i);
    case DType::kBFloat16: return LoadElement(static_cast<const __nv_bfloat16*>(in.data) + i);
    default: return LoadElement(static_cast<const float*>(in.data) + i);
  }
}

// e^x with x clamped to [−708.3, 709] as the CPU's VecExp does (vector_math.hpp): the result stays
// a finite, normal double; NaN passes through (the comparisons fail).
__device__ __forceinline__ double ClampedExp(double x) {
  x = x < -708.3 ? -708.3 : x;
  x = x > 709.0 ? 709.0 : x;
  return exp(x);
}
__device__ __forceinline__ double Min(double a, double b) { return b < a ? b : a; }
__device__ __forceinline__ double Max(double a, double b) { return a < b ? b : a; }

// Σ over the mask of the whole batch (bnpo and dapo normalise by it). Integer sums: exact, so the
// atomics leave the same total whatever the order.
__global__ void __launch_bounds__(kBlockThreads) CountTokensKernel(const std::uint8_t* mask, std::size_t n,
                                                                   unsigned long long* total) {
  unsigned long long count = 0;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * kBlockThreads + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * kBlockThreads)
    count += __ldg(mask + i) != 0;
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) count += __shfl_xor_sync(0xffffffffu, count, offset);
  if (threadIdx.x % kWarpSize == 0 && count) atomicAdd(total, count);
}

template <bool kSoftGate, bool kSequenceLevel, bool kPerTokenAdvantage>
__global__ void __launch_bounds__(kBlockThreads)
    PolicyLossKernel(PolicyLossDeviceInputs in, PolicyLossConfig c, const unsigned long long* totalTokens,
                     float* __restrict__ grad, SequencePartial* partials, FailureKey* failures) {
  using TeamT = Team<kBlockThreads / kWarpSize>;
  __shared__ double scratch[7 * (kBlockThreads / kWarpSize)];
  const std::size_t steps = in.steps, n = in.batch * steps;
  const Input oldLogp = in.oldLogp.data ? in.oldLogp : in.logp;  // absent: ℓ itself, ratio exactly 1
  const Input refLogp = in.refLogp.data ? in.refLogp : in.logp;  // absent: k3 exactly 0
  const double low = 1.0 - c.epsLow, high = 1.0 + c.epsHigh;
  const double delta = c.hasDelta ? c.delta : __longlong_as_double(0x7ff0000000000000ll);  // +∞
  const double beta = c.beta;
  const double maxLength = static_cast<double>(c.maxCompletionLength ? c.maxCompletionLength : steps);

  for (std::size_t b = blockIdx.x; b < in.batch; b += gridDim.x) {
    const std::size_t row = b * steps;
    // Pass 1: the sequence's token count L_b and, for sequence-level ratios, Σ m·(ℓ − ℓ_old).
    double head[2] = {0.0, 0.0};
    for (std::size_t t = threadIdx.x; t < steps; t += kBlockThreads) {
      const unsigned m = __ldg(in.mask + row + t);
      if (m > 1) RecordFailure(failures, 0, row + t);
      if (m == 0) continue;
      head[0] += 1.0;
      if constexpr (kSequenceLevel)
        head[1] += static_cast<double>(LoadAs(in.logp, row + t)) - static_cast<double>(LoadAs(oldLogp, row + t));
    }
    TeamT::Sum(head, scratch);
    const double length = head[0];
    if (length == 0.0) {  // contributes nothing and reads nothing else
      for (std::size_t t = threadIdx.x; t < steps; t += kBlockThreads) grad[row + t] = 0.0f;
      if (threadIdx.x == 0) partials[b] = SequencePartial{0, 0, 0, 0, 0, 0};
      continue;
    }
    double weight;
    switch (c.algorithm) {
      case PolicyAlgorithm::kBnpo:
      case PolicyAlgorithm::kDapo: {
        const double total = static_cast<double>(*totalTokens);
        weight = 1.0 / (total > 1.0 ? total : 1.0);
        break;
      }
      case PolicyAlgorithm::kDrGrpo: weight = 1.0 / (static_cast<double>(in.batch) * maxLength); break;
      default: weight = 1.0 / (static_cast<double>(in.batch) * length); break;  // length ≥ 1 here
    }
    const double invLength = 1.0 / length;
    const double seqRatio = kSequenceLevel ? ClampedExp(head[1] * invLength) : 1.0;
    const double seqAdvantage = kPerTokenAdvantage ? 0.0 : static_cast<double>(__ldg(in.advantages + b));

    // Pass 2: every token's terms (simd_loops.inc: SequenceLoop, the same expressions).
    // sums: loss, kl, ratio, clippedLow, clippedHigh, Σ ∂loss/∂r, invalid tokens.
    double sums[7] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    for (std::size_t t = threadIdx.x; t < steps; t += kBlockThreads) {
      const std::size_t i = row + t;
      if (__ldg(in.mask + i) == 0) {
        grad[i] = 0.0f;
        continue;
      }
      const float values[4] = {LoadAs(in.logp, i), LoadAs(oldLogp, i), LoadAs(refLogp, i),
                               kPerTokenAdvantage ? __ldg(in.advantages + i) : static_cast<float>(seqAdvantage)};
      const double logp = values[0], old = values[1], ref = values[2];
      const double a = kPerTokenAdvantage ? static_cast<double>(values[3]) : seqAdvantage;
      if (!(isfinite(logp) && isfinite(old) && isfinite(ref) && isfinite(a))) {
        sums[6] += 1.0;
        // Rare path: key = argument·n + index, arguments in the CPU's order of report.
        if (!isfinite(values[0])) RecordFailure(failures, 1, i);
        if (in.oldLogp.data && !isfinite(values[1])) RecordFailure(failures, 1, n + i);
        if (in.refLogp.data && !isfinite(values[2])) RecordFailure(failures, 1, 2 * n + i);
        if (!isfinite(a)) RecordFailure(failures, 1, 3 * n + (kPerTokenAdvantage ? i : b));
      }
      const double r = kSequenceLevel ? seqRatio : ClampedExp(logp - old);
      double value, dValue;  // surrogate and ∂surrogate/∂r
      if constexpr (kSoftGate) {
        const double tau = a > 0.0 ? c.tauPos : c.tauNeg;
        const double gate = 1.0 / (1.0 + ClampedExp(-tau * (r - 1.0)));
        value = 4.0 / tau * gate * a;
        dValue = 4.0 * gate * (1.0 - gate) * a;
      } else {
        const double unclipped = Min(r, delta) * a;
        const double clipped = Min(Max(r, low), high) * a;
        const bool takeUnclipped = unclipped <= clipped;  // a tie takes the unclipped branch
        value = Min(unclipped, clipped);
        const bool inRange = (r >= low) & (r <= high);
        const bool live = (takeUnclipped & !(r > delta)) | (!takeUnclipped & inRange);
        dValue = live ? a : 0.0;
        sums[3] += ((r < low) & (a < 0.0)) ? 1.0 : 0.0;
        sums[4] += ((r > high) & (a > 0.0)) ? 1.0 : 0.0;
      }
      const double refDiff = ref - logp;
      const double e = ClampedExp(refDiff);
      const double k3 = e - refDiff - 1.0;
      const double dLossDRatio = -weight * dValue;
      double g = weight * beta * (1.0 - e);
      if constexpr (!kSequenceLevel) g += dLossDRatio * r;  // ∂r/∂ℓ = r
      sums[0] += weight * (beta * k3 - value);
      sums[1] += k3;
      sums[2] += r;
      sums[5] += dLossDRatio;
      grad[i] = static_cast<float>(g);
    }
    TeamT::Sum(sums, scratch);
    if constexpr (kSequenceLevel) {
      // Pass 3: ∂s_b/∂ℓ_t = s_b·m_t/L_b, shared by every unmasked token. Each thread updates the
      // gradient entries it wrote itself, so no synchronisation is needed.
      if (sums[5] != 0.0) {
        const double shared = sums[5] * seqRatio * invLength;
        for (std::size_t t = threadIdx.x; t < steps; t += kBlockThreads) {
          const std::size_t i = row + t;
          if (__ldg(in.mask + i) != 0) grad[i] = static_cast<float>(static_cast<double>(grad[i]) + shared);
        }
      }
    }
    if (threadIdx.x == 0) partials[b] = SequencePartial{sums[0], sums[1], sums[2], sums[3], sums[4], length};
  }
}

// Adds the per-sequence slots in a fixed order and writes loss, clipFractionLow, clipFractionHigh,
// kl, ratioMean (policy_loss.cpp: the end of PolicyLoss).
__global__ void __launch_bounds__(kBlockThreads) FinishKernel(const SequencePartial* partials, std::size_t batch,
                                                              double* metrics) {
  using TeamT = Team<kBlockThreads / kWarpSize>;
  __shared__ double scratch[6 * (kBlockThreads / kWarpSize)];
  double total[6] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  for (std::size_t b = threadIdx.x; b < batch; b += kBlockThreads) {
    const SequencePartial& p = partials[b];
    total[0] += p.loss;
    total[1] += p.kl;
    total[2] += p.ratio;
    total[3] += p.clippedLow;
    total[4] += p.clippedHigh;
    total[5] += p.tokens;
  }
  TeamT::Sum(total, scratch);
  if (threadIdx.x == 0) {
    const double count = total[5];
    metrics[0] = total[0];
    metrics[1] = count > 0 ? total[3] / count : 0.0;
    metrics[2] = count > 0 ? total[4] / count : 0.0;
    metrics[3] = count > 0 ? total[1] / count : 0.0;
    metrics[4] = count > 0 ? total[2] / count : 0.0;
  }
}

template <bool kSoftGate, bool kSequenceLevel>
void LaunchLoss(bool perToken, unsigned blocks, cudaStream_t s, const PolicyLossDeviceInputs& in,
                const PolicyLossConfig& c, const unsigned long long* total, float* grad, SequencePartial* partials,
                FailureKey* failures) {
  if (perToken)
    PolicyLossKernel<kSoftGate, kSequenceLevel, true><<<blocks, kBlockThreads, 0, s>>>(in, c, total, grad, partials, failures);
  else
    PolicyLossKernel<kSoftGate, kSequenceLevel, false><<<blocks, kBlockThreads, 0, s>>>(in, c, total, grad, partials, failures);
}

}  // namespace

namespace detail {

int EnqueuePolicyLoss(const PolicyLossDeviceInputs& in, const PolicyLossConfig& config, float* grad, double* metrics,
                      FailureKey* failures, cudaStream_t s) {
  // Workspace: the per-sequence slots and the batch's token count, from the stream-ordered pool.
  const std::size_t slotBytes = (in.batch > 0 ? in.batch : 1) * sizeof(SequencePartial);
  void* workspace = nullptr;
  if (cudaError_t e = cudaMallocAsync(&workspace, slotBytes + sizeof(unsigned long long), s)) return e;
  auto* partials = static_cast<SequencePartial*>(workspace);
  auto* total = reinterpret_cast<unsigned long long*>(static_cast<char*>(workspace) + slotBytes);
  cudaError_t error = cudaSuccess;
  if (in.batch > 0 && in.steps > 0) {
    const int sms = detail::Multiprocessors();
    const bool tokenMean = config.algorithm == PolicyAlgorithm::kBnpo || config.algorithm == PolicyAlgorithm::kDapo;
    if (tokenMean) {
      const std::size_t n = in.batch * in.steps;
      error = cudaMemsetAsync(total, 0, sizeof(unsigned long long), s);
      if (!error) {
        CountTokensKernel<<<detail::GridFor(n, detail::kBlockThreads * 8, sms), detail::kBlockThreads, 0, s>>>(in.mask, n, total);
        error = cudaGetLastError();
      }
    }
    if (!error) {
      const unsigned blocks = detail::GridFor(in.batch, 1, sms);
      const bool softGate = config.algorithm == PolicyAlgorithm::kSapo;
      const bool sequenceLevel = config.importanceLevel == ImportanceLevel::kSequence;
      if (softGate) {
        if (sequenceLevel) LaunchLoss<true, true>(in.perTokenAdvantages, blocks, s, in, config, total, grad, partials, failures);
        else LaunchLoss<true, false>(in.perTokenAdvantages, blocks, s, in, config, total, grad, partials, failures);
      } else {
        if (sequenceLevel) LaunchLoss<false, true>(in.perTokenAdvantages, blocks, s, in, config, total, grad, partials, failures);
        else LaunchLoss<false, false>(in.perTokenAdvantages, blocks, s, in, config, total, grad, partials, failures);
      }
      error = cudaGetLastError();
    }
  }
  if (!error) {
    // Without tokens (steps = 0) no sequence contributes: finish over none.
    FinishKernel<<<1, detail::kBlockThreads, 0, s>>>(partials, in.steps > 0 ? in.batch : 0, metrics);
    error = cudaGetLastError();
  }
  const cudaError_t freed = cudaFreeAsync(workspace, s);
  return error ? error : freed;
}

}  // namespace detail

int PolicyLoss(const PolicyLossDeviceInputs& in, const PolicyLossConfig& config, float* grad, double* metrics,
               FailureKey* failures, void* stream) {
  auto s = static_cast<cudaStream_t>(stream);
  if (int e = detail::BeginCall(failures, s)) return e;
  return detail::EnqueuePolicyLoss(in, config, grad, metrics, failures, s);
}

}  // namespace dyco::cuda
