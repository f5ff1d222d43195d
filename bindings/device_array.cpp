#include "device_array.hpp"

#include <memory>
#include <utility>

#include "arguments.hpp"
#include "kernel_call.hpp"

namespace dyco::bind {
namespace {

// The class constructor, per module instance (worker threads each load their own).
struct ClassData {
  Napi::FunctionReference constructor;
};

// What Create hands the constructor through a Napi::External.
struct Pending {
  cuda::DeviceBuffer buffer;
  ElementType type;
  std::vector<std::size_t> shape;
};

Napi::TypedArray NewHostArray(Napi::Env env, ElementType type, std::size_t length) {
  switch (type) {
    case ElementType::kFloat32: return Napi::Float32Array::New(env, length);
    case ElementType::kFloat16:
    case ElementType::kBFloat16: return Napi::Uint16Array::New(env, length);
    case ElementType::kInt32: return Napi::Int32Array::New(env, length);
    case ElementType::kUint8: return Napi::Uint8Array::New(env, length);
    case ElementType::kInt8: return Napi::Int8Array::New(env, length);
  }
  return Napi::Float32Array::New(env, length);
}

// download(): a KernelCall whose "kernel" is the copy back to the host, on a libuv worker.
struct DownloadCall : KernelCall {
  DeviceArrayUse use;
  const void* source = nullptr;
  std::size_t bytes = 0;
  void* target = nullptr;
  Napi::ObjectReference result;
  Status Run() override {
    cuda::SelectDevice();
    void* stream = cuda::ThreadStream();
    cuda::CopyToHost(target, source, bytes, stream);
    cuda::Synchronize(stream);
    return Status::Ok();
  }
  Napi::Value Result(Napi::Env) override { return result.Value(); }
};

std::unique_ptr<KernelCall> PrepareDownload(const Napi::CallbackInfo& info) {
  Arguments args(info, "DeviceArray.download");
  DeviceArray* array = DeviceArray::Unwrap(info.This().As<Napi::Object>());
  if (array->disposed()) throw Napi::Error::New(info.Env(), "DeviceArray.download: the array has been disposed");
  if (array->written())
    throw Napi::Error::New(info.Env(), "DeviceArray.download: a call still in flight is writing this array (a gradient): await that call first");
  auto call = std::make_unique<DownloadCall>();
  call->function = args.function();
  call->use = DeviceArrayUse(array);
  call->source = array->data();
  call->bytes = array->length() * ElementTypeBytes(array->type());
  Napi::TypedArray host = NewHostArray(info.Env(), array->type(), array->length());
  call->target = static_cast<char*>(host.ArrayBuffer().Data()) + host.ByteOffset();
  call->result = Napi::Persistent(static_cast<Napi::Object>(host));
  call->Keep(info.This().As<Napi::Object>());
  return call;
}

}  // namespace

const char* ElementTypeName(ElementType type) {
  switch (type) {
    case ElementType::kFloat32: return "float32";
    case ElementType::kFloat16: return "float16";
    case ElementType::kBFloat16: return "bfloat16";
    case ElementType::kInt32: return "int32";
    case ElementType::kUint8: return "uint8";
    case ElementType::kInt8: return "int8";
  }
  return "float32";
}

std::size_t ElementTypeBytes(ElementType type) {
  switch (type) {
    case ElementType::kFloat32:
    case ElementType::kInt32: return 4;
    case ElementType::kFloat16:
    case ElementType::kBFloat16: return 2;
    case ElementType::kUint8:
    case ElementType::kInt8: return 1;
  }
  return 4;
}

void DeviceArray::Register(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = DefineClass(
      env, "DeviceArray",
      {
          StaticMethod<&DeviceArray::Upload>("upload"),
          InstanceMethod<&DeviceArray::Download>("download"),
          InstanceMethod<&DeviceArray::Dispose>("dispose"),
          InstanceAccessor<&DeviceArray::DType>("dtype"),
          InstanceAccessor<&DeviceArray::Length>("length"),
          InstanceAccessor<&DeviceArray::Shape>("shape"),
          InstanceAccessor<&DeviceArray::ByteLength>("byteLength"),
          InstanceAccessor<&DeviceArray::Disposed>("disposed"),
      });
  auto* data = new ClassData{Napi::Persistent(cls)};
  env.SetInstanceData<ClassData>(data);
  exports.Set("DeviceArray", cls);
}

Napi::Object DeviceArray::Create(Napi::Env env, cuda::DeviceBuffer buffer, ElementType type, std::vector<std::size_t> shape) {
  Pending pending{std::move(buffer), type, std::move(shape)};
  return env.GetInstanceData<ClassData>()->constructor.New({Napi::External<Pending>::New(env, &pending)});
}

DeviceArray* DeviceArray::From(Napi::Env env, const Napi::Value& value) {
  if (!value.IsObject()) return nullptr;
  Napi::Object object = value.As<Napi::Object>();
  if (!object.InstanceOf(env.GetInstanceData<ClassData>()->constructor.Value())) return nullptr;
  return DeviceArray::Unwrap(object);
}

DeviceArray::DeviceArray(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceArray>(info) {
  if (info.Length() != 1 || !info[0].IsExternal())
    throw Napi::TypeError::New(info.Env(),
                               "DeviceArray cannot be constructed directly: use DeviceArray.upload(data), or pass "
                               "DeviceArrays to a kernel to get its outputs as DeviceArrays");
  Pending* pending = info[0].As<Napi::External<Pending>>().Data();
  buffer_ = std::move(pending->buffer);
  type_ = pending->type;
  shape_ = std::move(pending->shape);
  length_ = buffer_.bytes() / ElementTypeBytes(type_);
}

void DeviceArray::Release() {
  if (--uses_ == 0 && disposed_) buffer_.Release();
}

Napi::Value DeviceArray::Upload(const Napi::CallbackInfo& info) {
  Arguments args(info, "DeviceArray.upload");
  Napi::Env env = info.Env();
  Napi::Value data = info[0];
  Napi::Object options = args.Object(1, "options", true);
  if (!data.IsTypedArray())
    args.ThrowType("data must be a Float32Array, Uint16Array (with options.dtype 'float16' or 'bfloat16'), "
                   "Int32Array, Uint8Array or Int8Array (got " + Describe(data) + ")");
  Napi::TypedArray array = data.As<Napi::TypedArray>();
  const napi_typedarray_type kind = array.TypedArrayType();
  ElementType type;
  switch (kind) {
    case napi_float32_array: type = ElementType::kFloat32; break;
    case napi_int32_array: type = ElementType::kInt32; break;
    case napi_uint8_array: type = ElementType::kUint8; break;
    case napi_int8_array: type = ElementType::kInt8; break;
    case napi_uint16_array: type = ElementType::kFloat16; break;  // options.dtype says which
    default:
      args.ThrowType("data must be a Float32Array, Uint16Array (with options.dtype 'float16' or 'bfloat16'), "
                     "Int32Array, Uint8Array or Int8Array (got " + Describe(data) + ")");
  }
  Napi::Value dtype = options.Get("dtype");
  if (kind == napi_uint16_array) {
    if (dtype.IsUndefined())
      args.ThrowType("options.dtype must be 'float16' or 'bfloat16' for a Uint16Array (the array only holds the bits)");
    type = args.Choice(options, "dtype", "options", {"float16", "bfloat16"}, nullptr) == "bfloat16" ? ElementType::kBFloat16
                                                                                                 : ElementType::kFloat16;
  } else if (!dtype.IsUndefined()) {
    const std::string name = ElementTypeName(type);
    if (args.Choice(options, "dtype", "options", {"float32", "float16", "bfloat16", "int32", "uint8", "int8"}, nullptr) != name)
      args.ThrowType("options.dtype must be '" + name + "' for a " + Describe(data) + " (float16/bfloat16 data comes as a Uint16Array)");
  }
  const std::size_t length = array.ElementLength();
  std::vector<std::size_t> shape{length};
  Napi::Value shapeValue = options.Get("shape");
  if (!shapeValue.IsUndefined()) {
    if (!shapeValue.IsArray()) args.ThrowType("options.shape must be an array of integers (got " + Describe(shapeValue) + ")");
    Napi::Array dims = shapeValue.As<Napi::Array>();
    shape.clear();
    std::size_t product = 1;
    for (uint32_t d = 0; d < dims.Length(); ++d) {
      Napi::Value dim = dims.Get(d);
      if (!dim.IsNumber()) args.ThrowType("options.shape[" + std::to_string(d) + "] must be a number (got " + Describe(dim) + ")");
      const double value = dim.As<Napi::Number>().DoubleValue();
      if (!(value >= 0 && value <= 9007199254740991.0) || value != static_cast<double>(static_cast<std::size_t>(value)))
        args.ThrowRange("options.shape[" + std::to_string(d) + "] must be a non-negative integer (got " + Describe(dim) + ")");
      shape.push_back(static_cast<std::size_t>(value));
      product = CheckedProduct(product, shape.back());
    }
    if (product != length)
      args.ThrowRange("options.shape (" + std::to_string(product) + " elements) does not match data.length (" +
                      std::to_string(length) + ")");
  }
  if (!cuda::Usable())
    throw Napi::Error::New(env, "DeviceArray.upload: CUDA cannot be used: " + cuda::UnusableReason());
  const std::size_t bytes = length * ElementTypeBytes(type);
  void* stream = cuda::ThreadStream();
  try {
    cuda::SelectDevice();
    cuda::DeviceBuffer buffer(bytes, stream);
    cuda::CopyToDevice(buffer.data(), static_cast<const char*>(array.ArrayBuffer().Data()) + array.ByteOffset(), bytes, stream);
    cuda::Synchronize(stream);
    return Create(env, std::move(buffer), type, std::move(shape));
  } catch (const cuda::CudaError& e) {
    throw Napi::Error::New(env, std::string("DeviceArray.upload: ") + e.what());
  }
}

Napi::Value DeviceArray::Download(const Napi::CallbackInfo& info) { return RunAsync(info, PrepareDownload); }

Napi::Value DeviceArray::Dispose(const Napi::CallbackInfo& info) {
  if (!disposed_) {
    disposed_ = true;
    if (uses_ == 0) buffer_.Release();
  }
  return info.Env().Undefined();
}

Napi::Value DeviceArray::DType(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), ElementTypeName(type_)); }
Napi::Value DeviceArray::Length(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(length_)); }
Napi::Value DeviceArray::ByteLength(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(length_ * ElementTypeBytes(type_)));
}
Napi::Value DeviceArray::Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disposed_); }
Napi::Value DeviceArray::Shape(const Napi::CallbackInfo& info) {
  Napi::Array shape = Napi::Array::New(info.Env(), shape_.size());
  for (std::size_t d = 0; d < shape_.size(); ++d) shape.Set(static_cast<uint32_t>(d), static_cast<double>(shape_[d]));
  return shape;
}

}  // namespace dyco::bind
