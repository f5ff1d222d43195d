#include "logits_policy_loss_autograd.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>
#include <string>

#include "logits_policy_loss.hpp"

// The CUDA kernel (native/cuda_kernels.hpp) serves CUDA tensors when both halves are there: the
// kernels were built (DYCO_WITH_CUDA, defined by the dyco_cuda library, which CMakeLists.txt links
// into the runner only for a CUDA LibTorch) and this LibTorch has the CUDA headers for the current
// stream. A CPU LibTorch (Debian's 1.13) compiles without it; CUDA tensors then take the composite
// fallback below. There is no legacy-default-stream variant: where the stream cannot be had,
// LibTorch cannot have made CUDA tensors either.
// c10/cuda/CUDAStream.h (not ATen/cuda/CUDAContext.h, which pulls in cuBLAS and cuSPARSE) is all the
// stream needs; its cuda_cmake_macros.h is generated only in CUDA builds of LibTorch.
#if defined(DYCO_WITH_CUDA) && __has_include(<c10/cuda/CUDAStream.h>) && __has_include(<c10/cuda/impl/cuda_cmake_macros.h>)
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "cuda_device.hpp"
#include "cuda_kernels.hpp"
#define DYCO_RUNNER_CUDA 1
#else
#define DYCO_RUNNER_CUDA 0
#endif

namespace dyco::runner {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

DType KernelDtype(const torch::Tensor& logits) {
  switch (logits.scalar_type()) {
    case torch::kHalf: return DType::kFloat16;
    case torch::kBFloat16: return DType::kBFloat16;
    default: return DType::kFloat32;
  }
}

#if DYCO_RUNNER_CUDA
// The forward on a CUDA tensor: the host-side terms are copied to the device, the kernel runs on
// LibTorch's current stream, and the metrics and failure slots are read back once (the only
// synchronisation). On a failed check the gradient kernel has written nothing (so in-place logits
// are intact) and the exact error is the CPU kernel's on host copies of the inputs.
void CudaForward(const torch::Tensor& input, const torch::Tensor& grad, bool inPlace, const PolicyLossTerms& terms,
                 const LogitsLossOptions& options, PolicyLossMetrics* metrics) {
  const std::int64_t batch = input.size(0), steps = input.size(1), vocab = input.size(2), n = batch * steps;
  const auto device = input.device();
  auto upload = [&](const void* data, std::int64_t count, torch::ScalarType type) {
    if (!data) return torch::Tensor();
    return torch::from_blob(const_cast<void*>(data), {count}, torch::TensorOptions().dtype(type)).to(device);
  };
  const torch::Tensor targets = options.targetTensor.defined() && options.targetTensor.device() == device
                                    ? options.targetTensor.to(torch::kInt).contiguous()
                                    : upload(options.targets, n, torch::kInt);
  const torch::Tensor oldLogp = upload(terms.oldLogp, n, torch::kFloat);
  const torch::Tensor refLogp = upload(terms.refLogp, n, torch::kFloat);
  const torch::Tensor advantages = upload(terms.advantages, terms.perTokenAdvantages ? n : batch, torch::kFloat);
  const torch::Tensor mask = upload(terms.mask, n, torch::kByte);
  const torch::Tensor logp = torch::empty({n}, input.options().dtype(torch::kFloat));
  const torch::Tensor values = torch::empty({5}, input.options().dtype(torch::kDouble));
  const torch::Tensor failures = torch::empty({cuda::kFailureSlots}, input.options().dtype(torch::kLong));
  auto pointer = [](const torch::Tensor& t) { return t.defined() ? t.data_ptr() : nullptr; };
  const cuda::LogitsPolicyLossDeviceInputs in{{input.data_ptr(), KernelDtype(input)},
                                              static_cast<const std::int32_t*>(pointer(targets)),
                                              options.temperature,
                                              {pointer(oldLogp), DType::kFloat32},
                                              {pointer(refLogp), DType::kFloat32},
                                              static_cast<const float*>(pointer(advantages)),
                                              terms.perTokenAdvantages,
                                              static_cast<const std::uint8_t*>(pointer(mask)),
                                              static_cast<std::size_t>(batch),
                                              static_cast<std::size_t>(steps),
                                              static_cast<std::size_t>(vocab)};
  const cuda::LogitsPolicyLossDeviceOutputs out{logp.data_ptr<float>(), values.data_ptr<double>(), grad.data_ptr(), inPlace};
  auto* slots = reinterpret_cast<cuda::FailureKey*>(failures.data_ptr());
  // The arguments the kernel refuses with a bare cudaErrorInvalidValue, reported as the CPU does.
  if (!(options.temperature > 0.0) || !std::isfinite(options.temperature))
    throw StatusException(Status::Invalid("temperature", 0, options.temperature, "a finite number > 0"));
  if (vocab == 0) throw StatusException(Status::Invalid("vocab", 0, 0.0, "an integer ≥ 1"));
  // The tensor's own device and LibTorch's current stream on it (not device 0's, with several GPUs).
  const c10::cuda::CUDAGuard onDevice(device);
  const int code = cuda::LogitsPolicyLoss(in, terms.config, out, slots,
                                          c10::cuda::getCurrentCUDAStream(device.index()).stream());
  cuda::Check(code, "the CUDA logits policy loss");  // (a kernel fault also marks our CUDA unusable)
  const torch::Tensor found = failures.cpu();  // synchronises with the stream
  bool failed = false;
  for (int k = 0; k < cuda::kFailureSlots; ++k)
    failed |= static_cast<cuda::FailureKey>(found[k].item<std::int64_t>()) != cuda::kNoFailure;
  if (failed) {
    const torch::Tensor hostLogits = input.cpu();
    std::vector<float> hostLogp(static_cast<std::size_t>(n));
    LogitsPolicyLossInputs cpu{hostLogits.data_ptr(), KernelDtype(input), options.targets, options.temperature,
                               terms.oldLogp,         terms.refLogp,      terms.advantages, terms.perTokenAdvantages,
                               terms.mask,            in.batch,           in.steps,         in.vocab};
    LogitsPolicyLossOutputs cpuOut;
    cpuOut.logp = hostLogp.data();
    PolicyLossMetrics ignored;
    Status status = LogitsPolicyLoss(cpu, terms.config, cpuOut, &ignored);
    if (status.ok) throw std::runtime_error("the CUDA logits policy loss reported an input error the CPU kernel does not find");
    throw StatusException(status);
  }
  const torch::Tensor host = values.cpu();
  const double* v = host.data_ptr<double>();
  *metrics = PolicyLossMetrics{v[0], v[1], v[2], v[3], v[4]};
}
#endif

class FusedLogitsPolicyLossFunction : public torch::autograd::Function<FusedLogitsPolicyLossFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor logits, const PolicyLossTerms* terms,
                               const LogitsLossOptions* options, PolicyLossMetrics* metrics) {
    const std::int64_t batch = logits.size(0), steps = logits.size(1), vocab = logits.size(2);
    // The kernel reads [B, T, V] row-major; an already contiguous tensor is used as it is. A copy
    // made here belongs to this node, so the gradient can go over it as well.
    torch::Tensor input = logits.detach().contiguous();
    const bool inPlace = options->overwriteLogits || input.data_ptr() != logits.data_ptr();
    torch::Tensor grad = inPlace ? input : torch::empty({batch, steps, vocab}, input.options().dtype(torch::kFloat));
    std::vector<float> logp(static_cast<std::size_t>(batch * steps));
#if DYCO_RUNNER_CUDA
    if (input.is_cuda()) {
      CudaForward(input, grad, inPlace, *terms, *options, metrics);
      ctx->save_for_backward({grad});
      ctx->saved_data["dtype"] = static_cast<std::int64_t>(logits.scalar_type());
      return torch::full({}, metrics->loss, logits.options().dtype(torch::kFloat));
    }
#endif
    LogitsPolicyLossInputs in{input.data_ptr(),
                              KernelDtype(input),
                              options->targets,
                              options->temperature,
                              terms->oldLogp,
                              terms->refLogp,
                              terms->advantages,
                              terms->perTokenAdvantages,
                              terms->mask,
                              static_cast<std::size_t>(batch),
                              static_cast<std::size_t>(steps),
                              static_cast<std::size_t>(vocab)};
    LogitsPolicyLossOutputs out;
    out.logp = logp.data();
    out.gradLogits = grad.data_ptr();
    out.inPlace = inPlace;
    Status status = LogitsPolicyLoss(in, terms->config, out, metrics);
    if (!status.ok) throw StatusException(status);
    ctx->save_for_backward({grad});
    ctx->saved_data["dtype"] = static_cast<std::int64_t>(logits.scalar_type());
    return torch::full({}, metrics->loss, logits.options().dtype(torch::kFloat));
  }

  static variable_list backward(AutogradContext* ctx, variable_list gradOutputs) {
    torch::Tensor grad = ctx->get_saved_variables()[0];
    const auto dtype = static_cast<torch::ScalarType>(ctx->saved_data["dtype"].toInt());
    const torch::Tensor& scale = gradOutputs[0];
    // backward() of the loss itself passes 1: hand the saved buffer over instead of another
    // B×T×V pass (and allocation) to multiply by it.
    if (scale.item<double>() != 1.0) grad = grad * scale;
    return {grad.to(dtype), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor SelectiveLogSoftmax(const torch::Tensor& logits, const torch::Tensor& targets, double temperature) {
  return torch::log_softmax(logits / temperature, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1);
}

// CUDA logits take the kernel only where it can run: LibTorch's CUDA may work where ours cannot (a
// driver too old for the CUDA 13 kernels, no kernel image for the GPU); those use the composite.
static bool CudaKernelsUsable() {
#if DYCO_RUNNER_CUDA
  return cuda::Usable();
#else
  return false;
#endif
}

bool LogitsKernelApplies(const torch::Tensor& logits) {
  const auto type = logits.scalar_type();
  return (logits.device().is_cpu() || (logits.device().is_cuda() && CudaKernelsUsable())) && logits.dim() == 3 &&
         (type == torch::kFloat || type == torch::kHalf || type == torch::kBFloat16);
}

torch::Tensor FusedLogitsPolicyLoss(const torch::Tensor& logits, const PolicyLossTerms& terms,
                                    const LogitsLossOptions& options, PolicyLossMetrics* metrics) {
  if (!LogitsKernelApplies(logits)) {
    // No kernel for these logits (another dtype or device, or CUDA tensors in a build without the
    // CUDA kernels or with a CPU LibTorch): log_softmax over the vocabulary, then the log-prob kernel.
    return FusedPolicyLoss(SelectiveLogSoftmax(logits, options.targetTensor, options.temperature), terms, metrics);
  }
  return FusedLogitsPolicyLossFunction::apply(logits, &terms, &options, metrics);
}

}  // namespace dyco::runner
