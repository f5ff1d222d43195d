#include "composites.hpp"

#include <cuda_runtime_api.h>
#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

#if __has_include(<c10/cuda/CUDACachingAllocator.h>) && __has_include(<c10/cuda/impl/cuda_cmake_macros.h>)  // a CUDA LibTorch (a CPU one may ship the headers without the generated one)
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include "../runner/reference_policy_loss.hpp"

namespace dyco::bench {
namespace {

torch::TensorOptions OnGpu() { return torch::TensorOptions().device(torch::kCUDA).dtype(torch::kFloat32); }

void CheckCuda(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

// FR between the rows of p and q (last dimension), as reference code writes it.
torch::Tensor FisherRaoRows(const torch::Tensor& p, const torch::Tensor& q) {
  torch::Tensor pn = p.clamp_min(1e-12);
  pn = pn / pn.sum(-1, /*keepdim=*/true);
  torch::Tensor qn = q.clamp_min(1e-12);
  qn = qn / qn.sum(-1, /*keepdim=*/true);
  torch::Tensor bc = (pn * qn).sqrt().sum(-1);
  return 2.0 * torch::acos(bc.clamp_max(1.0));
}

// FR between the region's keys of consecutive rows (`keys` is a 0/1 float mask per row pair).
torch::Tensor RegionShift(const torch::Tensor& prev, const torch::Tensor& cur, const torch::Tensor& keys) {
  torch::Tensor a = prev.clamp_min(1e-12) * keys;
  torch::Tensor b = cur.clamp_min(1e-12) * keys;
  a = a / a.sum(-1, true);
  b = b / b.sum(-1, true);
  torch::Tensor bc = (a * b).sqrt().sum(-1);
  return 2.0 * torch::acos(bc.clamp_max(1.0));
}

}  // namespace

TorchInfo Info() {
  TorchInfo info;
  info.version = TORCH_VERSION;
  info.cuda = torch::cuda::is_available();
  if (info.cuda) {
    cudaDeviceProp props{};
    if (cudaGetDeviceProperties(&props, 0) == cudaSuccess) info.device = props.name;
  }
  return info;
}

std::function<void()> FisherRaoComposite(std::int64_t rows, std::int64_t cols) {
  torch::manual_seed(1);
  torch::Tensor p = torch::rand({rows, cols}, OnGpu()).pow(3);
  torch::Tensor q = p * (0.9 + 0.2 * torch::rand_like(p));
  return [p, q] {
    torch::NoGradGuard noGrad;
    FisherRaoRows(p, q);
  };
}

std::function<void()> FisherRaoAdjacentComposite(std::int64_t batch, std::int64_t steps, std::int64_t width) {
  torch::manual_seed(2);
  torch::Tensor x = torch::rand({batch, steps, width}, OnGpu()).pow(3);
  return [x, steps] {
    torch::NoGradGuard noGrad;
    torch::Tensor shifts = FisherRaoRows(x.slice(1, 0, steps - 1), x.slice(1, 1, steps));
    torch::cat({torch::zeros_like(shifts.slice(1, 0, 1)), shifts}, 1);  // step 0 has no shift
  };
}

std::function<void()> AttentionStatsComposite(std::int64_t batch, std::int64_t steps, std::int64_t keys, std::int64_t other,
                                              std::int64_t vision, std::int64_t prompt) {
  torch::manual_seed(3);
  auto longs = torch::TensorOptions().device(torch::kCUDA).dtype(torch::kLong);
  torch::Tensor key = torch::arange(keys, longs);
  torch::Tensor lengths = (prompt + torch::arange(steps, longs)).clamp_max(keys).expand({batch, steps}).contiguous();
  torch::Tensor valid = key.view({1, 1, keys}) < lengths.unsqueeze(-1);
  torch::Tensor attn = torch::rand({batch, steps, keys}, OnGpu()).pow(3) * valid;
  attn = attn / attn.sum(-1, true);  // softmax rows over the valid keys
  torch::Tensor modality = torch::where(key < other, torch::zeros_like(key), torch::where(key < other + vision, torch::ones_like(key), torch::full_like(key, 2)));
  return [attn, lengths, valid, modality, key, steps, keys] {
    torch::NoGradGuard noGrad;
    torch::Tensor vis = (modality == 1).view({1, 1, keys});
    torch::Tensor txt = (modality == 2).view({1, 1, keys});
    torch::Tensor rVis = (attn * (valid & vis)).sum(-1);
    torch::Tensor rTxt = (attn * (valid & txt)).sum(-1);
    torch::Tensor denominator = (rVis + rTxt).clamp_min(1e-8);
    torch::Tensor ratioVis = rVis / denominator;
    torch::Tensor ratioTxt = rTxt / denominator;
    torch::Tensor prefix = torch::minimum(lengths.slice(1, 0, steps - 1), lengths.slice(1, 1, steps));
    torch::Tensor common = key.view({1, 1, keys}) < prefix.unsqueeze(-1);
    torch::Tensor prev = attn.slice(1, 0, steps - 1), cur = attn.slice(1, 1, steps);
    torch::Tensor frVis = RegionShift(prev, cur, (common & vis).to(torch::kFloat32));
    torch::Tensor frTxt = RegionShift(prev, cur, (common & txt).to(torch::kFloat32));
    (void)ratioVis;
    (void)ratioTxt;
    (void)frVis;
    (void)frTxt;
  };
}

std::function<void()> PolicyLossComposite(const PolicyLossConfig& config, std::int64_t batch, std::int64_t steps) {
  torch::manual_seed(4);
  torch::Tensor logp = (-5.0 * torch::rand({batch, steps}, OnGpu())).requires_grad_(true);
  torch::Tensor old = (logp + 0.6 * (torch::rand_like(logp) - 0.5)).detach();
  torch::Tensor ref = (logp + 0.4 * (torch::rand_like(logp) - 0.5)).detach();
  torch::Tensor advantages = 3.0 * torch::rand({batch}, OnGpu()) - 1.5;
  auto longs = torch::TensorOptions().device(torch::kCUDA).dtype(torch::kLong);
  torch::Tensor lengths = torch::randint(steps / 4, steps + 1, {batch, 1}, longs);
  torch::Tensor mask = (torch::arange(steps, longs).view({1, steps}) < lengths).to(torch::kFloat32);
  const bool withRef = config.beta > 0;
  return [=]() mutable {
    runner::ReferenceLossInputs in{logp, old, withRef ? ref : torch::Tensor(), advantages, mask};
    logp.mutable_grad() = torch::Tensor();
    runner::ReferencePolicyLoss(in, config, torch::kFloat32).backward();
  };
}

std::function<void()> LogitsPolicyLossComposite(const PolicyLossConfig& config, std::int64_t batch, std::int64_t steps,
                                                std::int64_t vocab, const std::string& dtype, double temperature) {
  torch::manual_seed(5);
  const auto type = dtype == "float16" ? torch::kHalf : dtype == "bfloat16" ? torch::kBFloat16 : torch::kFloat32;
  torch::Tensor logits = (3.0 * torch::randn({batch, steps, vocab}, OnGpu())).to(type).requires_grad_(true);
  auto longs = torch::TensorOptions().device(torch::kCUDA).dtype(torch::kLong);
  torch::Tensor targets = torch::randint(vocab, {batch, steps}, longs);
  torch::Tensor base = torch::full({batch, steps}, -std::log(static_cast<double>(vocab)), OnGpu());
  torch::Tensor old = base + 0.3 * torch::randn_like(base);
  torch::Tensor ref = base + 0.3 * torch::randn_like(base);
  torch::Tensor advantages = 3.0 * torch::rand({batch}, OnGpu()) - 1.5;
  torch::Tensor mask = torch::ones({batch, steps}, OnGpu());  // every token, as the kernel's case in bench/cuda.ts
  const bool withRef = config.beta > 0;
  return [=]() mutable {
    logits.mutable_grad() = torch::Tensor();
    torch::Tensor logp = torch::log_softmax(logits.to(torch::kFloat32) / temperature, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1);
    runner::ReferenceLossInputs in{logp, old, withRef ? ref : torch::Tensor(), advantages, mask};
    runner::ReferencePolicyLoss(in, config, torch::kFloat32).backward();
  };
}

double PeakExtraBytes(const std::function<void()>& run) {
#if __has_include(<c10/cuda/CUDACachingAllocator.h>) && __has_include(<c10/cuda/impl/cuda_cmake_macros.h>)  // a CUDA LibTorch (a CPU one may ship the headers without the generated one)
  run();  // once first: lazily loaded modules and library workspaces are not the computation's memory
  CheckCuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  c10::cuda::CUDACachingAllocator::emptyCache();
  std::size_t free0 = 0, free1 = 0, total = 0;
  CheckCuda(cudaMemGetInfo(&free0, &total), "cudaMemGetInfo");
  run();
  CheckCuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  CheckCuda(cudaMemGetInfo(&free1, &total), "cudaMemGetInfo");
  c10::cuda::CUDACachingAllocator::emptyCache();
  return static_cast<double>(free0) - static_cast<double>(free1);
#else
  (void)run;
  return -1.0;
#endif
}

std::vector<double> TimeWithEvents(const std::function<void()>& run, int warmup, int reps) {
  for (int w = 0; w < warmup; ++w) run();
  std::vector<cudaEvent_t> events(2 * reps);
  for (cudaEvent_t& e : events) CheckCuda(cudaEventCreate(&e), "cudaEventCreate");
  for (int r = 0; r < reps; ++r) {
    CheckCuda(cudaEventRecord(events[2 * r], nullptr), "cudaEventRecord");  // PyTorch's default stream
    run();
    CheckCuda(cudaEventRecord(events[2 * r + 1], nullptr), "cudaEventRecord");
  }
  CheckCuda(cudaEventSynchronize(events.back()), "cudaEventSynchronize");
  std::vector<double> ms(reps);
  for (int r = 0; r < reps; ++r) {
    float elapsed = 0.0f;
    CheckCuda(cudaEventElapsedTime(&elapsed, events[2 * r], events[2 * r + 1]), "cudaEventElapsedTime");
    ms[r] = elapsed;
  }
  for (cudaEvent_t e : events) cudaEventDestroy(e);
  return ms;
}

}  // namespace dyco::bench
