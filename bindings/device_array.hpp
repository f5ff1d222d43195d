// DeviceArray: GPU memory held by a JavaScript object. Created by DeviceArray.upload(typedArray)
// or as the output of a kernel whose inputs were DeviceArrays; read back by download(); freed by
// dispose() or, failing that, when the object is garbage-collected. A call that reads an array
// holds it (DeviceArrayUse), so dispose() during an async call frees the memory once the call ends.
// Calls in flight run on different streams with no order between them, so an array that one call
// writes (logitsPolicyLoss's gradient, in place or into options.gradLogits) cannot be used by any
// other call until that one ends, nor written while others use it: those calls are refused.
#pragma once
#include <napi.h>

#include <cstddef>
#include <string>
#include <vector>

#include "cuda_device.hpp"
#include "dtype.hpp"

namespace dyco::bind {

enum class ElementType { kFloat32, kFloat16, kBFloat16, kInt32, kUint8, kInt8 };

const char* ElementTypeName(ElementType type);  // "float32", "float16", ...
std::size_t ElementTypeBytes(ElementType type);

class DeviceArray : public Napi::ObjectWrap<DeviceArray> {
 public:
  // Defines the class on exports (exports.DeviceArray).
  static void Register(Napi::Env env, Napi::Object exports);
  // A new JavaScript DeviceArray that owns `buffer`.
  static Napi::Object Create(Napi::Env env, cuda::DeviceBuffer buffer, ElementType type, std::vector<std::size_t> shape);
  // The DeviceArray a value is, or nullptr when it is something else.
  static DeviceArray* From(Napi::Env env, const Napi::Value& value);

  explicit DeviceArray(const Napi::CallbackInfo& info);

  ElementType type() const { return type_; }
  std::size_t length() const { return length_; }
  const void* data() const { return buffer_.data(); }
  bool disposed() const { return disposed_; }

  // Calls in flight that use this array, and whether one of them writes it (JavaScript thread only).
  void Acquire() { ++uses_; }
  void Release();
  int uses() const { return uses_; }
  bool written() const { return written_; }
  void SetWritten(bool written) { written_ = written; }

 private:
  static Napi::Value Upload(const Napi::CallbackInfo& info);
  Napi::Value Download(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value DType(const Napi::CallbackInfo& info);
  Napi::Value Length(const Napi::CallbackInfo& info);
  Napi::Value Shape(const Napi::CallbackInfo& info);
  Napi::Value ByteLength(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);

  cuda::DeviceBuffer buffer_;
  ElementType type_ = ElementType::kFloat32;
  std::vector<std::size_t> shape_;
  std::size_t length_ = 0;
  int uses_ = 0;
  bool written_ = false;
  bool disposed_ = false;
};

// Keeps a DeviceArray acquired while a call uses it (and marked written, if the call writes it);
// releasing may free a disposed array.
class DeviceArrayUse {
 public:
  DeviceArrayUse() = default;
  explicit DeviceArrayUse(DeviceArray* array) : array_(array) {
    if (array_) array_->Acquire();
  }
  ~DeviceArrayUse() { End(); }
  DeviceArrayUse(DeviceArrayUse&& other) noexcept : array_(other.array_), writes_(other.writes_) {
    other.array_ = nullptr;
    other.writes_ = false;
  }
  DeviceArrayUse& operator=(DeviceArrayUse&& other) noexcept {
    if (this != &other) {
      End();
      array_ = other.array_;
      writes_ = other.writes_;
      other.array_ = nullptr;
      other.writes_ = false;
    }
    return *this;
  }
  DeviceArrayUse(const DeviceArrayUse&) = delete;
  DeviceArrayUse& operator=(const DeviceArrayUse&) = delete;

  // This call writes the array: the caller has checked that no other call uses it.
  void MarkWriting() {
    if (array_ && !writes_) {
      array_->SetWritten(true);
      writes_ = true;
    }
  }
  // Calls in flight other than this one that use the array.
  int OtherUses() const { return array_ ? array_->uses() - 1 : 0; }

 private:
  void End() {
    if (!array_) return;
    if (writes_) array_->SetWritten(false);
    array_->Release();
    array_ = nullptr;
    writes_ = false;
  }
  DeviceArray* array_ = nullptr;
  bool writes_ = false;
};

}  // namespace dyco::bind
