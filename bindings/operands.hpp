// Kernel arguments that may live on either side, and the choice of device. An array argument is a
// TypedArray (host memory), a { data: Uint16Array, dtype: 'float16' | 'bfloat16' } (half-precision
// host data, for the inputs that come from a model), or a DeviceArray (GPU memory). options.device
// is 'cpu', 'cuda' or 'auto' (default: DYCO_RL_DEVICE, else 'auto': CUDA when it can be used).
// Outputs stay on the device, as DeviceArrays, when any input was a DeviceArray.
#pragma once
#include <napi.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "arguments.hpp"
#include "cuda_calls.hpp"
#include "device_array.hpp"
#include "kernel_call.hpp"

namespace dyco::bind {

// What an array argument must hold.
enum class ArrayKind {
  kFloat,      // float32; or float16/bfloat16 when half precision is allowed
  kFloat32,    // float32 only
  kInt32,
  kUint8,
};

struct ArrayOperand {
  cuda::Operand operand;   // where the elements are and how they are stored (data null: absent)
  std::size_t length = 0;  // elements
  std::string name;        // as errors name it ("inputs.logp")
  Napi::Object handle;     // the JavaScript value, kept alive while an async call runs
  DeviceArrayUse use;      // the DeviceArray, held while the call runs
  explicit operator bool() const { return static_cast<bool>(operand); }
  bool onDevice() const { return operand.onDevice; }
};

// Reads an array argument of the given kind; undefined gives an absent operand when optional.
// Throws TypeError (wrong type, disposed DeviceArray) naming the argument.
ArrayOperand ReadArray(const Arguments& args, const Napi::Value& value, const std::string& name, ArrayKind kind,
                       bool optional);

enum class Device { kCpu, kCuda };

// The device a call runs on: options.device against the operands and the machine. A DeviceArray
// operand with device 'cpu' is a TypeError; 'cuda' without a usable GPU is an Error that says why.
Device ResolveDevice(const Arguments& args, const Napi::Object& options, const char* owner,
                     std::initializer_list<const ArrayOperand*> operands);

// Throws TypeError unless two float operands store their elements alike (the CUDA kernel reads
// both with one loader).
void ExpectSameType(const Arguments& args, const ArrayOperand& first, const ArrayOperand& second);

// Whether any operand lives on the device (then the outputs stay there too).
bool AnyOnDevice(std::initializer_list<const ArrayOperand*> operands);

// Float32 host data of an operand for the CPU kernels: its own memory, or a float32 copy of its
// half-precision elements in `storage`. Null for an absent operand.
const float* HostFloats(const ArrayOperand& op, std::vector<float>& storage);

// An output TypedArray or DeviceArray: on the host it is allocated on the JavaScript thread (as
// Output is); on the device the CUDA call allocates it and Value() wraps it in a DeviceArray.
template <typename ArrayType, typename T, ElementType kType>
struct PlacedOutput {
  Output<ArrayType, T> host;
  cuda::DeviceBuffer device;
  bool onDevice = false;
  std::size_t length = 0;

  void Allocate(Napi::Env env, std::size_t n, bool deviceSide) {
    length = n;
    onDevice = deviceSide;
    if (!onDevice) host.Allocate(env, n);
  }
  T* data() const { return host.data; }
  cuda::Destination Destination() { return onDevice ? cuda::Destination{nullptr, &device} : cuda::Destination{host.data, nullptr}; }
  Napi::Value Value(Napi::Env env) {
    if (!onDevice) return host.Value();
    return DeviceArray::Create(env, std::move(device), kType, {length});
  }
};
using PlacedFloat32 = PlacedOutput<Napi::Float32Array, float, ElementType::kFloat32>;
using PlacedInt8 = PlacedOutput<Napi::Int8Array, std::int8_t, ElementType::kInt8>;

}  // namespace dyco::bind
