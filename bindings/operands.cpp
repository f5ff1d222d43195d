#include "operands.hpp"

#include <cstdlib>

namespace dyco::bind {
namespace {

// What an empty array's operand points at: it is present, but no element is ever read.
const char kEmpty = 0;

const char* Expected(ArrayKind kind) {
  switch (kind) {
    case ArrayKind::kFloat:
      return "a Float32Array, a { data: Uint16Array, dtype: 'float16' | 'bfloat16' } or a DeviceArray of "
             "float32/float16/bfloat16";
    case ArrayKind::kFloat32: return "a Float32Array or a float32 DeviceArray";
    case ArrayKind::kInt32: return "an Int32Array or an int32 DeviceArray";
    case ArrayKind::kUint8: return "a Uint8Array or a uint8 DeviceArray";
  }
  return "an array";
}

bool Accepts(ArrayKind kind, ElementType type) {
  switch (kind) {
    case ArrayKind::kFloat:
      return type == ElementType::kFloat32 || type == ElementType::kFloat16 || type == ElementType::kBFloat16;
    case ArrayKind::kFloat32: return type == ElementType::kFloat32;
    case ArrayKind::kInt32: return type == ElementType::kInt32;
    case ArrayKind::kUint8: return type == ElementType::kUint8;
  }
  return false;
}

DType FloatType(ElementType type) {
  return type == ElementType::kFloat16 ? DType::kFloat16 : type == ElementType::kBFloat16 ? DType::kBFloat16 : DType::kFloat32;
}

napi_typedarray_type HostType(ArrayKind kind) {
  switch (kind) {
    case ArrayKind::kInt32: return napi_int32_array;
    case ArrayKind::kUint8: return napi_uint8_array;
    default: return napi_float32_array;
  }
}

}  // namespace

ArrayOperand ReadArray(const Arguments& args, const Napi::Value& value, const std::string& name, ArrayKind kind,
                       bool optional) {
  ArrayOperand op;
  op.name = name;
  if (optional && value.IsUndefined()) return op;
  auto fail = [&] { args.ThrowType(name + " must be " + Expected(kind) + " (got " + Describe(value) + ")"); };
  if (value.IsTypedArray()) {
    Napi::TypedArray array = value.As<Napi::TypedArray>();
    if (array.TypedArrayType() != HostType(kind)) fail();
    op.operand.data = static_cast<const char*>(array.ArrayBuffer().Data()) + array.ByteOffset();
    if (!op.operand.data) op.operand.data = &kEmpty;  // an empty TypedArray may have no backing store
    op.length = array.ElementLength();
    op.handle = array;
    return op;
  }
  if (DeviceArray* device = DeviceArray::From(args.env(), value)) {
    if (!Accepts(kind, device->type()))
      args.ThrowType(name + " must be " + Expected(kind) + " (got a " + ElementTypeName(device->type()) + " DeviceArray)");
    if (device->disposed()) args.ThrowType(name + " is a DeviceArray that has been disposed");
    if (device->written())
      throw Napi::Error::New(args.env(), std::string(args.function()) + ": " + name +
                                             " is a DeviceArray that a call still in flight is writing (a gradient): await that call first");
    op.operand.data = device->data() ? device->data() : &kEmpty;  // an empty DeviceArray holds no memory
    op.operand.onDevice = true;
    op.operand.dtype = FloatType(device->type());
    op.length = device->length();
    op.handle = value.As<Napi::Object>();
    op.use = DeviceArrayUse(device);
    return op;
  }
  if (kind == ArrayKind::kFloat && value.IsObject() && !value.IsArray()) {
    Napi::Object object = value.As<Napi::Object>();
    Napi::Value data = object.Get("data");
    if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != napi_uint16_array)
      args.ThrowType(name + ".data must be a Uint16Array of float16 or bfloat16 bits (got " + Describe(data) + ")");
    const std::string dtype = args.Choice(object, "dtype", name.c_str(), {"float16", "bfloat16"}, nullptr);
    Napi::TypedArray array = data.As<Napi::TypedArray>();
    op.operand.data = static_cast<const char*>(array.ArrayBuffer().Data()) + array.ByteOffset();
    if (!op.operand.data) op.operand.data = &kEmpty;
    op.operand.dtype = dtype == "bfloat16" ? DType::kBFloat16 : DType::kFloat16;
    op.length = array.ElementLength();
    op.handle = array;
    return op;
  }
  fail();
  return op;
}

Device ResolveDevice(const Arguments& args, const Napi::Object& options, const char* owner,
                     std::initializer_list<const ArrayOperand*> operands) {
  // The variable is the default: read (and checked) only when the option is not given.
  const bool given = !options.Get("device").IsUndefined();
  std::string fallback = "auto";
  const char* env = given ? nullptr : std::getenv("DYCO_RL_DEVICE");
  if (env && *env) {
    fallback = env;
    if (fallback != "cpu" && fallback != "cuda" && fallback != "auto")
      args.ThrowRange("the environment variable DYCO_RL_DEVICE must be 'cpu', 'cuda' or 'auto' (got '" + fallback + "')");
  }
  const std::string device = args.Choice(options, "device", owner, {"cpu", "cuda", "auto"}, fallback.c_str());
  const std::string where = given ? Qualified(owner, "device") : env && *env ? "DYCO_RL_DEVICE" : "the default device 'auto'";
  for (const ArrayOperand* op : operands) {
    if (op->onDevice() && device == "cpu")
      args.ThrowType(op->name + " is a DeviceArray (GPU memory) but " + where +
                     " is 'cpu': pass device 'cuda' or 'auto', or download() it first");
  }
  if (device == "cpu") return Device::kCpu;
  if (device == "auto" && !AnyOnDevice(operands)) return cuda::Usable() ? Device::kCuda : Device::kCpu;
  if (!cuda::Usable())
    throw Napi::Error::New(args.env(), std::string(args.function()) + ": " + where + " is 'cuda' but CUDA cannot be used: " +
                                           cuda::UnusableReason());
  return Device::kCuda;
}

void ExpectSameType(const Arguments& args, const ArrayOperand& first, const ArrayOperand& second) {
  if (first.operand.dtype != second.operand.dtype)
    args.ThrowType(second.name + " must hold the same element type as " + first.name + " (" + first.name + " is " +
                   DTypeName(first.operand.dtype) + ", " + second.name + " is " + DTypeName(second.operand.dtype) + ")");
}

bool AnyOnDevice(std::initializer_list<const ArrayOperand*> operands) {
  for (const ArrayOperand* op : operands)
    if (op->onDevice()) return true;
  return false;
}

const float* HostFloats(const ArrayOperand& op, std::vector<float>& storage) {
  if (!op) return nullptr;
  if (op.operand.dtype == DType::kFloat32) return static_cast<const float*>(op.operand.data);
  storage.resize(op.length);
  WidenToFloat(op.operand.data, op.operand.dtype, op.length, storage.data());
  return storage.data();
}

}  // namespace dyco::bind
