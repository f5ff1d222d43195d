// The emulated CUDA runtime: one device, every stream synchronous (work runs when it is enqueued,
// which is one valid schedule of a stream), CUDA's error model (a per-thread last error; a kernel
// fault is sticky and fails every later call), and device memory that makes misuse visible:
// - an allocation ends right before an inaccessible page, with its padding (to 16 bytes) and its
//   fresh contents set to all-ones bytes, which read as NaN in every float type;
// - freeing unmaps it, so a later use faults;
// - a copy or fill must lie inside one live allocation on its device side.
// The stream-ordered pool's "used" and "high-water" counters follow cudaMallocAsync/cudaFreeAsync,
// as the benchmarks' peak-memory readings expect.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "emulator_state.hpp"

struct EmulatedEvent {
  std::chrono::steady_clock::time_point time;
  bool recorded = false;
};

namespace dyco::emulator {
namespace {

constexpr std::size_t kAlignment = 16;
constexpr int kVersion = 13000;  // reported as both runtime and driver version: CUDA 13.0

struct Allocation {
  void* mapping;
  std::size_t mappingBytes;
  std::size_t bytes;
  bool pooled;  // from cudaMallocAsync: counted in the pool's use
};

std::mutex gMemoryMutex;
std::map<std::uintptr_t, Allocation> gAllocations;  // by start address
std::size_t gPoolUsed = 0, gPoolHigh = 0;

thread_local cudaError_t tLastError = cudaSuccess;
std::atomic<int> gSticky{cudaSuccess};
std::string gStickyText;  // written once, before gSticky is set

cudaError_t Fail(cudaError_t e) {
  tLastError = e;
  return e;
}

// Every call first reports a sticky fault, as CUDA does after one.
cudaError_t Sticky() {
  const int s = gSticky.load(std::memory_order_acquire);
  if (s != cudaSuccess) return Fail(static_cast<cudaError_t>(s));
  return cudaSuccess;
}

// The live allocation that holds [p, p + bytes), or null.
const Allocation* Find(const void* p, std::size_t bytes) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  auto it = gAllocations.upper_bound(address);
  if (it == gAllocations.begin()) return nullptr;
  --it;
  if (address + bytes > it->first + it->second.bytes) return nullptr;
  return &it->second;
}

cudaError_t BadRange(const char* what, const void* p, std::size_t bytes) {
  std::fprintf(stderr, "[dyco-rl CUDA emulator] %s: [%p, +%zu bytes) is not inside one device allocation\n", what, p, bytes);
  return Fail(cudaErrorInvalidValue);
}

cudaError_t Allocate(void** out, std::size_t bytes, bool pooled) {
  if (cudaError_t e = Sticky()) return e;
  if (!out) return Fail(cudaErrorInvalidValue);
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const std::size_t padded = (std::max<std::size_t>(bytes, 1) + kAlignment - 1) / kAlignment * kAlignment;
  const std::size_t dataPages = (padded + page - 1) / page * page;
  void* mapping = mmap(nullptr, dataPages + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapping == MAP_FAILED) return Fail(cudaErrorMemoryAllocation);
  char* guard = static_cast<char*>(mapping) + dataPages;
  mprotect(guard, page, PROT_NONE);
  char* start = guard - padded;
  std::memset(start, 0xff, padded);
  {
    std::lock_guard<std::mutex> lock(gMemoryMutex);
    gAllocations[reinterpret_cast<std::uintptr_t>(start)] = {mapping, dataPages + page, bytes, pooled};
    if (pooled) {
      gPoolUsed += bytes;
      gPoolHigh = std::max(gPoolHigh, gPoolUsed);
    }
  }
  *out = start;
  return cudaSuccess;
}

cudaError_t Release(void* p) {
  if (!p) return cudaSuccess;
  Allocation a;
  {
    std::lock_guard<std::mutex> lock(gMemoryMutex);
    auto it = gAllocations.find(reinterpret_cast<std::uintptr_t>(p));
    if (it == gAllocations.end()) {
      std::fprintf(stderr, "[dyco-rl CUDA emulator] freeing %p, which is not the start of a device allocation\n", p);
      return Fail(cudaErrorInvalidValue);
    }
    a = it->second;
    if (a.pooled) gPoolUsed -= a.bytes;
    gAllocations.erase(it);
  }
  munmap(a.mapping, a.mappingBytes);
  return cudaSuccess;
}

}  // namespace

void RecordLaunchError(cudaError_t error, const std::string& detail) {
  std::fprintf(stderr, "[dyco-rl CUDA emulator] %s\n", detail.c_str());
  Fail(error);
}

void RecordKernelFault(const std::string& detail) {
  std::fprintf(stderr, "[dyco-rl CUDA emulator] kernel fault: %s\n", detail.c_str());
  static std::once_flag once;
  std::call_once(once, [&] {
    gStickyText = "unspecified launch failure (CUDA emulator: " + detail + ")";
    gSticky.store(cudaErrorLaunchFailure, std::memory_order_release);
  });
  Fail(cudaErrorLaunchFailure);
}

void DescribeAddress(const void* address, char* out, std::size_t size) {
  out[0] = '\0';
  std::unique_lock<std::mutex> lock(gMemoryMutex, std::try_to_lock);
  if (!lock.owns_lock()) return;
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  for (const auto& [start, allocation] : gAllocations) {
    const auto mapping = reinterpret_cast<std::uintptr_t>(allocation.mapping);
    if (a >= mapping && a < mapping + allocation.mappingBytes) {
      std::snprintf(out, size, ": %zd bytes past the end of a %zu-byte device allocation at %p",
                    static_cast<std::ptrdiff_t>(a - (start + allocation.bytes)), allocation.bytes,
                    reinterpret_cast<void*>(start));
      return;
    }
  }
  std::snprintf(out, size, ": not in any live device allocation (freed, or never device memory)");
}

int EmulatedMultiprocessors() {
  static const int count = [] {
    const char* text = std::getenv("DYCO_RL_CUDA_EMULATOR_SMS");
    const int n = text ? std::atoi(text) : 0;
    return n > 0 ? n : 2;
  }();
  return count;
}

}  // namespace dyco::emulator

using namespace dyco::emulator;

cudaError_t cudaGetLastError() {
  const cudaError_t e = tLastError;
  const int sticky = gSticky.load(std::memory_order_acquire);
  tLastError = static_cast<cudaError_t>(sticky);
  return e != cudaSuccess ? e : static_cast<cudaError_t>(sticky);
}

cudaError_t cudaPeekAtLastError() {
  const int sticky = gSticky.load(std::memory_order_acquire);
  return tLastError != cudaSuccess ? tLastError : static_cast<cudaError_t>(sticky);
}

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorLaunchFailure:
      return gSticky.load(std::memory_order_acquire) == cudaErrorLaunchFailure ? gStickyText.c_str() : "unspecified launch failure";
    default: return "unknown error";
  }
}

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    default: return "cudaErrorUnknown";
  }
}

cudaError_t cudaRuntimeGetVersion(int* version) {
  *version = kVersion;
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* version) {
  *version = kVersion;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* props, int device) {
  if (device != 0) return Fail(cudaErrorInvalidDevice);
  std::snprintf(props->name, sizeof props->name, "dyco-rl CUDA emulator (CPU, %d multiprocessors)", EmulatedMultiprocessors());
  props->major = 9;
  props->minor = 0;
  props->totalGlobalMem = std::size_t{16} << 30;
  props->multiProcessorCount = EmulatedMultiprocessors();
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (device != 0) return Fail(cudaErrorInvalidDevice);
  switch (attr) {
    case cudaDevAttrMultiProcessorCount: *value = EmulatedMultiprocessors(); return cudaSuccess;
    case cudaDevAttrMemoryPoolsSupported: *value = 1; return cudaSuccess;
  }
  return Fail(cudaErrorInvalidValue);
}

cudaError_t cudaSetDevice(int device) {
  if (cudaError_t e = Sticky()) return e;
  return device == 0 ? cudaSuccess : Fail(cudaErrorInvalidDevice);
}

cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** p, std::size_t bytes) { return Allocate(p, bytes, false); }
cudaError_t cudaFree(void* p) { return Release(p); }
cudaError_t cudaMallocAsync(void** p, std::size_t bytes, cudaStream_t) { return Allocate(p, bytes, true); }
cudaError_t cudaFreeAsync(void* p, cudaStream_t) { return Release(p); }

cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  if (cudaError_t e = Sticky()) return e;
  if (bytes == 0) return cudaSuccess;
  {
    std::lock_guard<std::mutex> lock(gMemoryMutex);
    const bool dstDevice = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    const bool srcDevice = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    if (dstDevice && !Find(dst, bytes)) return BadRange("copy destination", dst, bytes);
    if (srcDevice && !Find(src, bytes)) return BadRange("copy source", src, bytes);
  }
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* dst, int value, std::size_t bytes, cudaStream_t) {
  if (cudaError_t e = Sticky()) return e;
  if (bytes == 0) return cudaSuccess;
  {
    std::lock_guard<std::mutex> lock(gMemoryMutex);
    if (!Find(dst, bytes)) return BadRange("fill", dst, bytes);
  }
  std::memset(dst, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t) { return Sticky(); }

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  *event = new EmulatedEvent;
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t) {
  if (cudaError_t e = Sticky()) return e;
  event->time = std::chrono::steady_clock::now();
  event->recorded = true;
  return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!start->recorded || !end->recorded) return Fail(cudaErrorInvalidValue);
  *ms = std::chrono::duration<float, std::milli>(end->time - start->time).count();
  return cudaSuccess;
}

cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t* pool, int device) {
  if (device != 0) return Fail(cudaErrorInvalidDevice);
  static int handle;
  *pool = reinterpret_cast<cudaMemPool_t>(&handle);
  return cudaSuccess;
}

cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t, cudaMemPoolAttr attr, void* value) {
  if (attr == cudaMemPoolAttrReleaseThreshold) return cudaSuccess;
  if (attr == cudaMemPoolAttrUsedMemHigh) {
    // CUDA only accepts 0 here: the high-water mark restarts from the current use.
    if (*static_cast<std::uint64_t*>(value) != 0) return Fail(cudaErrorInvalidValue);
    std::lock_guard<std::mutex> lock(gMemoryMutex);
    gPoolHigh = gPoolUsed;
    return cudaSuccess;
  }
  return Fail(cudaErrorInvalidValue);
}

cudaError_t cudaMemPoolGetAttribute(cudaMemPool_t, cudaMemPoolAttr attr, void* value) {
  std::lock_guard<std::mutex> lock(gMemoryMutex);
  switch (attr) {
    case cudaMemPoolAttrUsedMemCurrent: *static_cast<std::uint64_t*>(value) = gPoolUsed; return cudaSuccess;
    case cudaMemPoolAttrUsedMemHigh: *static_cast<std::uint64_t*>(value) = gPoolHigh; return cudaSuccess;
    default: return Fail(cudaErrorInvalidValue);
  }
}
