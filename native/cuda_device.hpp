// The CUDA runtime as the rest of the addon sees it, without CUDA headers: whether a device can be
// used (and why not), device memory, copies, the calling thread's stream and event timing.
// Implemented in native/cuda/runtime.cu, or by native/cuda/unavailable.cpp in a build without
// CUDA, where every operation throws CudaError saying why. Errors are exceptions here (the
// device-pointer kernels in cuda_kernels.hpp return codes instead).
#pragma once
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace dyco::cuda {

// What this build and this machine offer, probed once (the first call initialises the driver).
struct Availability {
  bool compiled = false;     // CUDA kernels are part of this build
  int devices = 0;           // usable CUDA devices; 0 when CUDA cannot be used
  std::string reason;        // why CUDA cannot be used (empty when devices > 0)
  std::string architectures; // the architectures the kernels were compiled for, e.g. "80-real;90-virtual"
  // Device 0, the one every call runs on (set CUDA_VISIBLE_DEVICES to pick another):
  std::string name;
  int major = 0;
  int minor = 0;
  std::size_t memoryBytes = 0;
  int multiprocessors = 0;
  int runtimeVersion = 0;  // e.g. 13000
  int driverVersion = 0;   // 0 when no driver could be loaded
};
const Availability& Probe();

// A sticky CUDA error (a kernel fault: an illegal address, a launch failure, a device-side assert)
// leaves the CUDA context unusable for the rest of the process: every later CUDA call fails the
// same way. Check() notes the first one; from then on CUDA is not Usable() (so 'auto' takes the
// CPU and 'cuda' says why). Empty while no such error has occurred.
const std::string& LostContextReason();
inline bool Usable() { return Probe().devices > 0 && LostContextReason().empty(); }
// Why CUDA cannot be used now (empty when it can): the probe's reason, or the lost context's.
inline const std::string& UnusableReason() {
  return LostContextReason().empty() ? Probe().reason : LostContextReason();
}

// Makes device 0 (the one every call runs on) current on the calling thread: another library in
// the process (LibTorch, say) may have left this libuv or JavaScript thread on another device.
// Throws CudaError.
void SelectDevice();

// A CUDA runtime error, or CUDA being unavailable; what() carries CUDA's own message.
class CudaError : public std::runtime_error {
 public:
  CudaError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// Throws CudaError("<what>: <CUDA's message> (<error name>)") unless code is 0 (cudaSuccess). It
// clears the thread's last-error state, so the error is reported once, not again by the launch
// check of the thread's next call. A sticky error also marks the context lost (LostContextReason)
// and says so in the message.
void Check(int code, const char* what);

// The calling thread's own stream (cudaStreamPerThread): the JavaScript thread and each libuv
// worker enqueue on their own stream, so concurrent calls overlap on the device.
void* ThreadStream();

// Device memory from the device's stream-ordered pool, freed on destruction (also stream-ordered,
// on the destroying thread's stream: release a buffer only once the work using it is done).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(std::size_t bytes, void* stream);  // throws CudaError; 0 bytes holds no memory
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept : data_(other.data_), bytes_(other.bytes_) {
    other.data_ = nullptr;
    other.bytes_ = 0;
  }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      Release();
      data_ = other.data_;
      bytes_ = other.bytes_;
      other.data_ = nullptr;
      other.bytes_ = 0;
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  void Release();  // frees now (errors ignored: also called from finalizers at exit)

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

// Stream-ordered copies and fills; they throw CudaError. A copy from or to pageable host memory
// returns once the host side is done with it.
void CopyToDevice(void* dst, const void* src, std::size_t bytes, void* stream);
void CopyToHost(void* dst, const void* src, std::size_t bytes, void* stream);
void CopyOnDevice(void* dst, const void* src, std::size_t bytes, void* stream);
void FillBytes(void* dst, int value, std::size_t bytes, void* stream);
void Synchronize(void* stream);
// Waits for the stream, ignoring and clearing any error: for unwinding after a failure, so that no
// work still queued can touch memory that is about to be freed from another thread's stream.
void SynchronizeQuietly(void* stream) noexcept;

// Runs `launch` (which enqueues work on `stream`) `warmup` times, then `reps` times with a pair of
// CUDA events around each, and returns the milliseconds between each pair. The launches follow
// one another on the stream without any host synchronisation in between.
std::vector<double> TimeLaunches(const std::function<void()>& launch, int warmup, int reps, void* stream);

// Device 0's stream-ordered pool (where DeviceBuffer, the staged calls' temporaries and the kernels'
// workspaces come from): bytes in use now and the high-water mark since the last reset. With
// `reset` the high-water mark restarts from the current use (benchmarks: peak extra memory of a
// call = high − used before it).
struct PoolUsage {
  std::size_t used = 0;
  std::size_t high = 0;
};
PoolUsage PoolMemory(bool reset);

}  // namespace dyco::cuda
