// Module entry: registers every kernel binding, DeviceArray, capabilities(), and the benchmarks'
// yardsticks: copyMemory() (CPU) and timeCudaCalls() / timeCudaCopy() (CUDA events).
#include <napi.h>

#include "arguments.hpp"
#include "cuda_calls.hpp"
#include "cuda_device.hpp"
#include "device_array.hpp"
#include "kernels.hpp"
#include "memory_copy.hpp"
#include "parallel.hpp"
#include "simd_loops.hpp"

namespace dyco::bind {
namespace {

Napi::Value Capabilities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object caps = Napi::Object::New(env);
  caps.Set("version", DYCO_VERSION);
  caps.Set("threads", static_cast<double>(ThreadCount()));
  // LibTorch is the runner's business (dyco_runner.node); lib/capabilities.ts adds its status.
  const cuda::Availability& cuda = cuda::Probe();
  caps.Set("cuda", cuda::Usable());
  caps.Set("cudaDevices", cuda.devices);
  caps.Set("cudaKernels", cuda.compiled);
  if (cuda.devices > 0) {
    Napi::Object device = Napi::Object::New(env);
    device.Set("name", cuda.name);
    device.Set("computeCapability", std::to_string(cuda.major) + "." + std::to_string(cuda.minor));
    device.Set("memoryBytes", static_cast<double>(cuda.memoryBytes));
    device.Set("multiprocessors", cuda.multiprocessors);
    device.Set("architectures", cuda.architectures);
    auto version = [](int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); };
    device.Set("runtime", version(cuda.runtimeVersion));
    device.Set("driver", version(cuda.driverVersion));
    caps.Set("cudaDevice", device);
  }
  if (!cuda::Usable()) caps.Set("cudaReason", cuda::UnusableReason());
  caps.Set("simd", Loops().isa);
  return caps;
}

// copyMemory(src, dst): the bandwidth roofline for bench/ (same thread pool as the kernels).
Napi::Value CopyMemoryBinding(const Napi::CallbackInfo& info) {
  Arguments args(info, "copyMemory");
  ArrayView<float> src = args.Float32(0, "src");
  ArrayView<float> dst = args.Float32(1, "dst");
  args.ExpectLength(dst.length, src.length, "dst", "src.length");
  CopyMemory(src.data, dst.data, src.length * sizeof(float));
  return info.Env().Undefined();
}

void ReadTimingOptions(const Arguments& args, std::size_t index, int* warmup, int* reps) {
  Napi::Object options = args.Object(index, "options", true);
  *warmup = static_cast<int>(args.Integer(options, "warmup", "options", 0, 1000, 3));
  *reps = static_cast<int>(args.Integer(options, "reps", "options", 1, 100000, 10));
}

Napi::Array Milliseconds(Napi::Env env, const std::vector<double>& ms) {
  Napi::Array out = Napi::Array::New(env, ms.size());
  for (std::size_t r = 0; r < ms.size(); ++r) out.Set(static_cast<uint32_t>(r), ms[r]);
  return out;
}

// timeCudaCalls(fn, { warmup, reps }): fn makes one synchronous kernel call with device 'cuda';
// that call stages its inputs once, launches its kernels warmup + reps times back to back, and
// the time of each rep between CUDA events comes back (ms).
Napi::Value TimeCudaCalls(const Napi::CallbackInfo& info) {
  Arguments args(info, "timeCudaCalls");
  if (!info[0].IsFunction()) args.ThrowType("fn must be a function (got " + Describe(info[0]) + ")");
  cuda::LaunchTiming timing;
  ReadTimingOptions(args, 1, &timing.warmup, &timing.reps);
  struct Installed {
    explicit Installed(cuda::LaunchTiming* t) { cuda::SetLaunchTiming(t); }
    ~Installed() { cuda::SetLaunchTiming(nullptr); }
  } installed(&timing);
  info[0].As<Napi::Function>().Call({});
  if (timing.milliseconds.empty())
    throw Napi::Error::New(info.Env(), "timeCudaCalls: fn made no CUDA kernel call (call a sync kernel with device 'cuda')");
  return Milliseconds(info.Env(), timing.milliseconds);
}

// timeCudaCopy(bytes, { warmup, reps }): device-to-device copies of `bytes`, each timed with CUDA events.
Napi::Value TimeCudaCopy(const Napi::CallbackInfo& info) {
  Arguments args(info, "timeCudaCopy");
  Napi::Object holder = Napi::Object::New(info.Env());
  holder.Set("bytes", info[0]);
  const std::size_t bytes = args.Size(holder, "bytes", "timeCudaCopy", 1);
  int warmup = 0, reps = 0;
  ReadTimingOptions(args, 1, &warmup, &reps);
  if (!cuda::Usable()) throw Napi::Error::New(info.Env(), "timeCudaCopy: CUDA cannot be used: " + cuda::UnusableReason());
  try {
    cuda::SelectDevice();
    void* stream = cuda::ThreadStream();
    cuda::DeviceBuffer src(bytes, stream), dst(bytes, stream);
    cuda::FillBytes(src.data(), 0, bytes, stream);
    std::vector<double> ms = cuda::TimeLaunches([&] { cuda::CopyOnDevice(dst.data(), src.data(), bytes, stream); }, warmup, reps, stream);
    return Milliseconds(info.Env(), ms);
  } catch (const cuda::CudaError& e) {
    throw Napi::Error::New(info.Env(), std::string("timeCudaCopy: ") + e.what());
  }
}

// cudaPoolMemory(reset?): { used, high } bytes of the device's stream-ordered pool (cuda_device.hpp:
// PoolMemory), for the benchmark's peak-memory figures.
Napi::Value CudaPoolMemory(const Napi::CallbackInfo& info) {
  const bool reset = info.Length() > 0 && info[0].ToBoolean().Value();
  if (!cuda::Usable()) throw Napi::Error::New(info.Env(), "cudaPoolMemory: CUDA cannot be used: " + cuda::UnusableReason());
  try {
    const cuda::PoolUsage usage = cuda::PoolMemory(reset);
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("used", static_cast<double>(usage.used));
    out.Set("high", static_cast<double>(usage.high));
    return out;
  } catch (const cuda::CudaError& e) {
    throw Napi::Error::New(info.Env(), std::string("cudaPoolMemory: ") + e.what());
  }
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("capabilities", Napi::Function::New(env, Capabilities, "capabilities"));
  exports.Set("copyMemory", Napi::Function::New(env, CopyMemoryBinding, "copyMemory"));
  exports.Set("timeCudaCalls", Napi::Function::New(env, TimeCudaCalls, "timeCudaCalls"));
  exports.Set("timeCudaCopy", Napi::Function::New(env, TimeCudaCopy, "timeCudaCopy"));
  exports.Set("cudaPoolMemory", Napi::Function::New(env, CudaPoolMemory, "cudaPoolMemory"));
  DeviceArray::Register(env, exports);
  RegisterFisherRao(env, exports);
  RegisterAttentionStats(env, exports);
  RegisterCoordination(env, exports);
  RegisterAdvantages(env, exports);
  RegisterPolicyLoss(env, exports);
  RegisterLogitsPolicyLoss(env, exports);
  return exports;
}

}  // namespace dyco::bind

// NODE_API_MODULE pastes the init function's name into a symbol, so it needs an unqualified name.
static Napi::Object InitDycoRl(Napi::Env env, Napi::Object exports) { return dyco::bind::Init(env, exports); }
NODE_API_MODULE(dyco_rl, InitDycoRl)
