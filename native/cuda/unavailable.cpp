// Stands in for the CUDA kernels and runtime (native/cuda/*.cu) in a build without CUDA: the same
// entry points, each reporting why CUDA is not part of this build. Compiled only when CMake did not
// enable CUDA (see CMakeLists.txt, dyco_cuda).
#include <string>

#include "cuda_device.hpp"
#include "cuda_kernels.hpp"

#ifndef DYCO_CUDA_REASON
#define DYCO_CUDA_REASON "the addon was built without CUDA"
#endif

namespace dyco::cuda {
namespace {

constexpr int kNotBuilt = 999;  // what every entry point returns; ErrorString explains it
const std::string& Message() {
  static const std::string message = std::string("the CUDA kernels are not part of this build: ") + DYCO_CUDA_REASON;
  return message;
}

[[noreturn]] void Unavailable() { throw CudaError(kNotBuilt, Message()); }

}  // namespace

const Availability& Probe() {
  static const Availability availability = [] {
    Availability a;
    a.reason = Message();
    return a;
  }();
  return availability;
}

const std::string& LostContextReason() {
  static const std::string none;
  return none;
}

void SelectDevice() { Unavailable(); }

const char* ErrorString(int code) { return code == 0 ? "no error" : Message().c_str(); }
const char* ErrorName(int code) { return code == 0 ? "cudaSuccess" : "dycoCudaNotBuilt"; }

void Check(int code, const char*) {
  if (code != 0) Unavailable();
}

void* ThreadStream() { return nullptr; }

DeviceBuffer::DeviceBuffer(std::size_t bytes, void*) {
  if (bytes > 0) Unavailable();
}
DeviceBuffer::~DeviceBuffer() = default;
void DeviceBuffer::Release() {
  data_ = nullptr;
  bytes_ = 0;
}

void CopyToDevice(void*, const void*, std::size_t bytes, void*) {
  if (bytes) Unavailable();
}
void CopyToHost(void*, const void*, std::size_t bytes, void*) {
  if (bytes) Unavailable();
}
void CopyOnDevice(void*, const void*, std::size_t bytes, void*) {
  if (bytes) Unavailable();
}
void FillBytes(void*, int, std::size_t bytes, void*) {
  if (bytes) Unavailable();
}
void Synchronize(void*) {}
void SynchronizeQuietly(void*) noexcept {}
PoolUsage PoolMemory(bool) { Unavailable(); }

std::vector<double> TimeLaunches(const std::function<void()>&, int, int, void*) { Unavailable(); }

int FisherRao(Input, Input, std::size_t, std::size_t, float*, FailureKey*, void*) { return kNotBuilt; }
int FisherRaoAdjacent(Input, std::size_t, std::size_t, std::size_t, const std::int32_t*, float*, FailureKey*, void*) {
  return kNotBuilt;
}
int AttentionStats(Input, std::size_t, std::size_t, std::size_t, const std::uint8_t*, const std::int32_t*,
                   AttentionStatsOutputs, FailureKey*, void*) {
  return kNotBuilt;
}
int CoordinationScores(const CoordinationInputs&, double, double, CoordinationOutputs, FailureKey*, void*) {
  return kNotBuilt;
}
int PolicyLoss(const PolicyLossDeviceInputs&, const PolicyLossConfig&, float*, double*, FailureKey*, void*) {
  return kNotBuilt;
}
int LogitsPolicyLoss(const LogitsPolicyLossDeviceInputs&, const PolicyLossConfig&, const LogitsPolicyLossDeviceOutputs&,
                     FailureKey*, void*) {
  return kNotBuilt;
}

}  // namespace dyco::cuda
