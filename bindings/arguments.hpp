// Argument checking for the bindings: every accessor either returns a value of the expected type
// or throws a Napi::TypeError / Napi::RangeError whose message names the function and argument
// ("fisherRao: shape.rows must be a non-negative integer (got -1)").
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace dyco::bind {

// A view of a TypedArray's elements; `data` stays valid while the array is referenced.
template <typename T>
struct ArrayView {
  T* data = nullptr;
  std::size_t length = 0;
  Napi::Object handle;  // the JS array, to keep alive for async calls
  explicit operator bool() const { return data != nullptr || !handle.IsEmpty(); }
};

// Wraps the context every message starts with: the public function's name.
class Arguments {
 public:
  Arguments(const Napi::CallbackInfo& info, const char* function) : env_(info.Env()), info_(info), function_(function) {}

  Napi::Env env() const { return env_; }
  const char* function() const { return function_; }

  // info[index] as an object; `optional` turns undefined into an empty object.
  Napi::Object Object(std::size_t index, const char* name, bool optional = false) const;

  // info[index] (or object[key]) as a TypedArray of the given element type.
  ArrayView<float> Float32(std::size_t index, const char* name) const;
  ArrayView<float> Float32(const Napi::Object& object, const char* key, const char* owner, bool optional) const;
  ArrayView<std::int32_t> Int32(const Napi::Object& object, const char* key, const char* owner, bool optional) const;
  ArrayView<std::uint8_t> Uint8(const Napi::Object& object, const char* key, const char* owner, bool optional) const;
  ArrayView<std::uint16_t> Uint16(const Napi::Object& object, const char* key, const char* owner, bool optional) const;

  // A value (an array element, say) as a TypedArray, named `name` in errors.
  ArrayView<float> Float32(const Napi::Value& value, const std::string& name, bool optional) const;
  ArrayView<std::int32_t> Int32(const Napi::Value& value, const std::string& name, bool optional) const;
  ArrayView<std::uint8_t> Uint8(const Napi::Value& value, const std::string& name, bool optional) const;

  // object[key] as an integer in [min, max] (negative values allowed); `fallback` when undefined.
  long long Integer(const Napi::Object& object, const char* key, const char* owner, long long min, long long max,
                    long long fallback) const;

  // object[key] as an integer in [min, 2^53]; `fallback` when undefined (required when fallback < 0).
  std::size_t Size(const Napi::Object& object, const char* key, const char* owner, std::size_t min = 0,
                   long long fallback = -1) const;
  // object[key] as a finite number; `fallback` when undefined.
  double Number(const Napi::Object& object, const char* key, const char* owner, double fallback) const;
  bool Boolean(const Napi::Object& object, const char* key, const char* owner, bool fallback) const;
  // object[key] as one of `choices`; `fallback` when undefined (nullptr: required).
  std::string Choice(const Napi::Object& object, const char* key, const char* owner,
                     std::initializer_list<const char*> choices, const char* fallback) const;

  // Throws RangeError unless `array` holds exactly `expected` elements.
  void ExpectLength(std::size_t actual, std::size_t expected, const std::string& name, const std::string& shape) const;

  [[noreturn]] void ThrowType(const std::string& message) const;
  [[noreturn]] void ThrowRange(const std::string& message) const;

 private:
  template <typename T, napi_typedarray_type kType>
  ArrayView<T> Typed(const Napi::Value& value, const std::string& name, const char* typeName, bool optional) const;

  Napi::Env env_;
  const Napi::CallbackInfo& info_;
  const char* function_;
};

// "shape.rows" from ("shape", "rows").
std::string Qualified(const char* owner, const char* key);

// How a JS value looks in an error message: "Float64Array", "string 'abc'", "undefined", "-1".
std::string Describe(const Napi::Value& value);

// (rows × cols) with overflow treated as "does not match": returns SIZE_MAX on overflow.
std::size_t CheckedProduct(std::size_t a, std::size_t b);

}  // namespace dyco::bind
