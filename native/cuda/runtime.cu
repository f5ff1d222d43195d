// The CUDA runtime behind native/cuda_device.hpp (availability, memory, copies, timing) and the
// small helpers the kernels share (error strings, failure slots, multiprocessor count).
#include <cuda_runtime.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>

#include "common.cuh"
#include "cuda_device.hpp"
#include "cuda_kernels.hpp"

#ifndef DYCO_CUDA_ARCHITECTURES
#define DYCO_CUDA_ARCHITECTURES "unknown"
#endif

namespace dyco::cuda {
namespace {

// A kernel compiled like every other: if it cannot load on the device, none of them can.
__global__ void ProbeKernel() {}

std::string VersionText(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

std::string Describe(cudaError_t e) {
  return std::string(cudaGetErrorString(e)) + " (" + cudaGetErrorName(e) + ")";
}

Availability Detect() {
  Availability a;
  a.compiled = true;
  a.architectures = DYCO_CUDA_ARCHITECTURES;
  cudaRuntimeGetVersion(&a.runtimeVersion);
  cudaDriverGetVersion(&a.driverVersion);
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    cudaGetLastError();
    if (e == cudaErrorInsufficientDriver && a.driverVersion == 0) {
      a.reason = "no NVIDIA driver was found (libcuda.so.1 could not be loaded), so no GPU can be used";
    } else if (e == cudaErrorInsufficientDriver) {
      a.reason = "the NVIDIA driver supports CUDA " + VersionText(a.driverVersion) + ", older than the CUDA " +
                 VersionText(a.runtimeVersion) + " runtime this addon was built with: update the driver";
    } else if (e == cudaErrorNoDevice || count == 0) {
      const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
      a.reason = std::string("the NVIDIA driver found no CUDA device") +
                 (visible ? " (CUDA_VISIBLE_DEVICES='" + std::string(visible) + "')" : "");
    } else {
      a.reason = "CUDA could not be initialised: " + Describe(e);
    }
    return a;
  }
  cudaDeviceProp props{};
  if (cudaError_t p = cudaGetDeviceProperties(&props, 0); p != cudaSuccess) {
    cudaGetLastError();
    a.reason = "the properties of CUDA device 0 could not be read: " + Describe(p);
    return a;
  }
  a.name = props.name;
  a.major = props.major;
  a.minor = props.minor;
  a.memoryBytes = props.totalGlobalMem;
  a.multiprocessors = props.multiProcessorCount;
  cudaFuncAttributes attributes{};
  if (cudaError_t k = cudaFuncGetAttributes(&attributes, ProbeKernel); k != cudaSuccess) {
    cudaGetLastError();
    a.reason = "CUDA device 0 (" + a.name + ", compute capability " + std::to_string(a.major) + "." +
               std::to_string(a.minor) + ") cannot run the kernels, which were compiled for " + a.architectures +
               ": " + Describe(k);
    // Only a missing kernel image is cured by building for the device; other failures here (an
    // exclusive-process device in use, no memory for a context, a driver too old for the PTX) are not.
    if (k == cudaErrorNoKernelImageForDevice || k == cudaErrorInvalidDeviceFunction)
      a.reason += "; rebuild with npx cmake-js compile --CDCMAKE_CUDA_ARCHITECTURES=" + std::to_string(a.major) +
                  std::to_string(a.minor);
    return a;
  }
  int pools = 0;
  cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, 0);
  if (!pools) {
    a.reason = "CUDA device 0 (" + a.name + ") does not support stream-ordered memory pools (cudaMallocAsync)";
    return a;
  }
  // Keep up to 64 MiB of freed memory in the pool between calls (the default, 0, hands every free
  // block back to the driver at each synchronisation, so every call would map memory again).
  cudaMemPool_t pool;
  if (cudaDeviceGetDefaultMemPool(&pool, 0) == cudaSuccess) {
    unsigned long long threshold = 64ull << 20;
    cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold);
  }
  cudaGetLastError();
  a.devices = count;
  return a;
}

}  // namespace

const Availability& Probe() {
  static const Availability availability = Detect();
  return availability;
}

namespace {

// The errors after which CUDA's documentation says the context cannot be used again ("the process
// must be terminated and relaunched to continue using CUDA").
bool IsSticky(cudaError_t e) {
  switch (e) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchTimeout:
    case cudaErrorAssert:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorLaunchFailure:
    case cudaErrorECCUncorrectable:
    case cudaErrorContextIsDestroyed:
      return true;
    default:
      return false;
  }
}

// The first sticky error's description; set once, read from any thread, never freed.
std::atomic<const std::string*> gLostContext{nullptr};

}  // namespace

const std::string& LostContextReason() {
  static const std::string none;
  const std::string* lost = gLostContext.load(std::memory_order_acquire);
  return lost ? *lost : none;
}

const char* ErrorString(int code) { return cudaGetErrorString(static_cast<cudaError_t>(code)); }
const char* ErrorName(int code) { return cudaGetErrorName(static_cast<cudaError_t>(code)); }

void Check(int code, const char* what) {
  if (code == cudaSuccess) return;
  cudaGetLastError();
  const auto e = static_cast<cudaError_t>(code);
  std::string message = std::string(what) + ": " + Describe(e);
  if (IsSticky(e)) {
    auto* lost = new std::string("a CUDA kernel fault left the CUDA context unusable (" + message +
                                 "); restart the process to use the GPU again");
    const std::string* expected = nullptr;
    if (!gLostContext.compare_exchange_strong(expected, lost, std::memory_order_acq_rel)) delete lost;
    message += "; the CUDA context is now unusable: restart the process to use the GPU again";
  }
  throw CudaError(code, message);
}

void SelectDevice() { Check(cudaSetDevice(0), "selecting CUDA device 0"); }

void* ThreadStream() { return static_cast<void*>(cudaStreamPerThread); }

DeviceBuffer::DeviceBuffer(std::size_t bytes, void* stream) : bytes_(bytes) {
  if (bytes == 0) return;
  Check(cudaMallocAsync(&data_, bytes, static_cast<cudaStream_t>(stream)), "allocating device memory");
}

DeviceBuffer::~DeviceBuffer() { Release(); }

void DeviceBuffer::Release() {
  if (data_) {
    // Errors are ignored: at process exit the runtime may already be gone.
    if (cudaFreeAsync(data_, cudaStreamPerThread) != cudaSuccess) cudaGetLastError();
  }
  data_ = nullptr;
  bytes_ = 0;
}

void CopyToDevice(void* dst, const void* src, std::size_t bytes, void* stream) {
  if (bytes == 0) return;
  Check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, static_cast<cudaStream_t>(stream)), "copying to the device");
}

void CopyToHost(void* dst, const void* src, std::size_t bytes, void* stream) {
  if (bytes == 0) return;
  Check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, static_cast<cudaStream_t>(stream)), "copying from the device");
}

void CopyOnDevice(void* dst, const void* src, std::size_t bytes, void* stream) {
  if (bytes == 0) return;
  Check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, static_cast<cudaStream_t>(stream)), "copying on the device");
}

void FillBytes(void* dst, int value, std::size_t bytes, void* stream) {
  if (bytes == 0) return;
  Check(cudaMemsetAsync(dst, value, bytes, static_cast<cudaStream_t>(stream)), "filling device memory");
}

void Synchronize(void* stream) {
  Check(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)), "running on the device");
}

void SynchronizeQuietly(void* stream) noexcept {
  if (cudaStreamSynchronize(static_cast<cudaStream_t>(stream)) != cudaSuccess) cudaGetLastError();
}

std::vector<double> TimeLaunches(const std::function<void()>& launch, int warmup, int reps, void* stream) {
  auto s = static_cast<cudaStream_t>(stream);
  for (int w = 0; w < warmup; ++w) launch();
  struct Events {
    std::vector<cudaEvent_t> list;
    ~Events() {
      for (cudaEvent_t e : list) cudaEventDestroy(e);
    }
  } events;
  for (int i = 0; i < 2 * reps; ++i) {
    cudaEvent_t e;
    Check(cudaEventCreate(&e), "creating a CUDA event");
    events.list.push_back(e);
  }
  for (int r = 0; r < reps; ++r) {
    Check(cudaEventRecord(events.list[2 * r], s), "recording a CUDA event");
    launch();
    Check(cudaEventRecord(events.list[2 * r + 1], s), "recording a CUDA event");
  }
  Synchronize(stream);
  std::vector<double> milliseconds(reps);
  for (int r = 0; r < reps; ++r) {
    float ms = 0.0f;
    Check(cudaEventElapsedTime(&ms, events.list[2 * r], events.list[2 * r + 1]), "reading a CUDA event");
    milliseconds[r] = ms;
  }
  return milliseconds;
}

PoolUsage PoolMemory(bool reset) {
  cudaMemPool_t pool;
  Check(cudaDeviceGetDefaultMemPool(&pool, 0), "reading the memory pool");
  std::uint64_t used = 0, high = 0;  // cuuint64_t (cuda.h), a 64-bit unsigned integer
  if (reset) {
    std::uint64_t zero = 0;  // resets the high-water mark to the current use
    Check(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrUsedMemHigh, &zero), "resetting the pool's high-water mark");
  }
  Check(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemCurrent, &used), "reading the pool's use");
  Check(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemHigh, &high), "reading the pool's high-water mark");
  return {static_cast<std::size_t>(used), static_cast<std::size_t>(high)};
}

namespace detail {

int Multiprocessors() {
  static std::atomic<int> cached[64] = {};
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= 64) {
    cudaGetLastError();
    return 1;
  }
  int count = cached[device].load(std::memory_order_relaxed);
  if (count == 0) {
    if (cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || count <= 0) {
      cudaGetLastError();
      return 1;
    }
    cached[device].store(count, std::memory_order_relaxed);
  }
  return count;
}

int BeginCall(FailureKey* failures, cudaStream_t stream) {
  // A launch is checked with cudaGetLastError, which reports the last error of any CUDA call on the
  // thread: clear what an earlier call (ours or the caller's) left, so a failure is this call's own.
  // Sticky errors (a kernel fault) still come back from the next launch.
  cudaGetLastError();
  if (!failures) return cudaSuccess;
  return cudaMemsetAsync(failures, 0xff, kFailureSlots * sizeof(FailureKey), stream);
}

}  // namespace detail
}  // namespace dyco::cuda
