// One mechanism behind every sync and Promise-returning function: a binding validates its arguments
// and allocates its outputs on the JavaScript thread (Prepare), the kernel runs with plain pointers
// (Run, on any thread, no N-API), and the outputs become a JavaScript value (Result). The async
// variant keeps every input and output array referenced until the promise settles, so the kernel
// reads and writes the arrays' memory in place: no copies across the boundary.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "status.hpp"

namespace dyco::bind {

class KernelCall {
 public:
  virtual ~KernelCall() = default;
  // The kernel itself; must not touch N-API. A non-ok Status becomes a RangeError.
  virtual Status Run() = 0;
  // Builds the JavaScript result from the outputs (JavaScript thread).
  virtual Napi::Value Result(Napi::Env env) = 0;

  // Keeps a JavaScript object alive (and its memory in place) for the lifetime of the call.
  void Keep(const Napi::Object& object);

  // The error a non-ok Status is reported as: "<function>: p[3] must be ... (got NaN)".
  const char* function = "";

 private:
  std::vector<Napi::ObjectReference> kept_;
};

// An output TypedArray, allocated on the JavaScript thread and held by a reference: a napi_value
// does not outlive the callback's scope, so async results are read back from the reference.
template <typename ArrayType, typename T>
struct Output {
  T* data = nullptr;
  Napi::ObjectReference ref;
  void Allocate(Napi::Env env, std::size_t length) {
    ArrayType array = ArrayType::New(env, length);
    data = array.Data();
    ref = Napi::Persistent(static_cast<Napi::Object>(array));
  }
  Napi::Object Value() const { return ref.Value(); }
};
using Float32Output = Output<Napi::Float32Array, float>;
using Int8Output = Output<Napi::Int8Array, std::int8_t>;

using Prepare = std::unique_ptr<KernelCall> (*)(const Napi::CallbackInfo& info);

Napi::Error StatusError(Napi::Env env, const char* function, const Status& status);

// Runs prepare → Run → Result on the calling thread; errors are thrown.
Napi::Value RunSync(const Napi::CallbackInfo& info, Prepare prepare);

// Runs prepare on the calling thread, Run on a libuv worker, and returns a Promise; every error
// (bad arguments included) rejects the promise instead of throwing.
Napi::Value RunAsync(const Napi::CallbackInfo& info, Prepare prepare);

// Registers `name` (sync) and `nameAsync` on exports.
void ExportKernel(Napi::Env env, Napi::Object exports, const char* name, Prepare prepare, bool withAsync);

}  // namespace dyco::bind
