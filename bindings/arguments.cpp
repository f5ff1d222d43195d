#include "arguments.hpp"

#include <cmath>
#include <limits>
#include <sstream>

namespace dyco::bind {
namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 − 1: larger integers are not exact in JS

const char* TypedArrayName(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: break;
  }
  return "TypedArray";
}

std::string FormatNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  std::ostringstream out;
  out.precision(17);
  out << value;
  return out.str();
}

}  // namespace

std::string Qualified(const char* owner, const char* key) { return std::string(owner) + "." + key; }

std::string Describe(const Napi::Value& value) {
  if (value.IsUndefined()) return "undefined";
  if (value.IsNull()) return "null";
  if (value.IsTypedArray()) return TypedArrayName(value.As<Napi::TypedArray>().TypedArrayType());
  if (value.IsArray()) return "Array";
  if (value.IsNumber()) return FormatNumber(value.As<Napi::Number>().DoubleValue());
  if (value.IsString()) return "string '" + value.As<Napi::String>().Utf8Value() + "'";
  if (value.IsBoolean()) return value.As<Napi::Boolean>().Value() ? "true" : "false";
  if (value.IsFunction()) return "function";
  if (value.IsArrayBuffer()) return "ArrayBuffer";
  if (value.IsBigInt()) return "bigint";
  return "object";
}

std::size_t CheckedProduct(std::size_t a, std::size_t b) {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) return std::numeric_limits<std::size_t>::max();
  return a * b;
}

void Arguments::ThrowType(const std::string& message) const {
  throw Napi::TypeError::New(env_, std::string(function_) + ": " + message);
}

void Arguments::ThrowRange(const std::string& message) const {
  throw Napi::RangeError::New(env_, std::string(function_) + ": " + message);
}

Napi::Object Arguments::Object(std::size_t index, const char* name, bool optional) const {
  Napi::Value value = info_[index];
  if (optional && value.IsUndefined()) return Napi::Object::New(env_);
  if (!value.IsObject() || value.IsArray() || value.IsTypedArray() || value.IsFunction())
    ThrowType(std::string(name) + " must be an object (got " + Describe(value) + ")");
  return value.As<Napi::Object>();
}

template <typename T, napi_typedarray_type kType>
ArrayView<T> Arguments::Typed(const Napi::Value& value, const std::string& name, const char* typeName,
                              bool optional) const {
  if (optional && value.IsUndefined()) return {};
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != kType)
    ThrowType(name + " must be a " + typeName + " (got " + Describe(value) + ")");
  auto array = value.As<Napi::TypedArrayOf<T>>();
  return {array.Data(), array.ElementLength(), array};
}

ArrayView<float> Arguments::Float32(std::size_t index, const char* name) const {
  return Typed<float, napi_float32_array>(info_[index], name, "Float32Array", false);
}

ArrayView<float> Arguments::Float32(const Napi::Object& object, const char* key, const char* owner,
                                    bool optional) const {
  return Typed<float, napi_float32_array>(object.Get(key), Qualified(owner, key), "Float32Array", optional);
}

ArrayView<std::int32_t> Arguments::Int32(const Napi::Object& object, const char* key, const char* owner,
                                         bool optional) const {
  return Typed<std::int32_t, napi_int32_array>(object.Get(key), Qualified(owner, key), "Int32Array", optional);
}

ArrayView<std::uint8_t> Arguments::Uint8(const Napi::Object& object, const char* key, const char* owner,
                                         bool optional) const {
  return Typed<std::uint8_t, napi_uint8_array>(object.Get(key), Qualified(owner, key), "Uint8Array", optional);
}

ArrayView<std::uint16_t> Arguments::Uint16(const Napi::Object& object, const char* key, const char* owner,
                                           bool optional) const {
  return Typed<std::uint16_t, napi_uint16_array>(object.Get(key), Qualified(owner, key), "Uint16Array", optional);
}

ArrayView<float> Arguments::Float32(const Napi::Value& value, const std::string& name, bool optional) const {
  return Typed<float, napi_float32_array>(value, name, "Float32Array", optional);
}

ArrayView<std::int32_t> Arguments::Int32(const Napi::Value& value, const std::string& name, bool optional) const {
  return Typed<std::int32_t, napi_int32_array>(value, name, "Int32Array", optional);
}

ArrayView<std::uint8_t> Arguments::Uint8(const Napi::Value& value, const std::string& name, bool optional) const {
  return Typed<std::uint8_t, napi_uint8_array>(value, name, "Uint8Array", optional);
}

long long Arguments::Integer(const Napi::Object& object, const char* key, const char* owner, long long min,
                             long long max, long long fallback) const {
  Napi::Value value = object.Get(key);
  std::string name = Qualified(owner, key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsNumber()) ThrowType(name + " must be a number (got " + Describe(value) + ")");
  double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= static_cast<double>(min) && number <= static_cast<double>(max)) || std::floor(number) != number)
    ThrowRange(name + " must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "] (got " +
               FormatNumber(number) + ")");
  return static_cast<long long>(number);
}

std::size_t Arguments::Size(const Napi::Object& object, const char* key, const char* owner, std::size_t min,
                            long long fallback) const {
  Napi::Value value = object.Get(key);
  std::string name = Qualified(owner, key);
  if (value.IsUndefined() && fallback >= 0) return static_cast<std::size_t>(fallback);
  if (!value.IsNumber()) ThrowType(name + " must be a number (got " + Describe(value) + ")");
  double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= static_cast<double>(min)) || number > kMaxSafeInteger || std::floor(number) != number)
    ThrowRange(name + " must be an integer ≥ " + std::to_string(min) + " (got " + FormatNumber(number) + ")");
  return static_cast<std::size_t>(number);
}

double Arguments::Number(const Napi::Object& object, const char* key, const char* owner, double fallback) const {
  Napi::Value value = object.Get(key);
  std::string name = Qualified(owner, key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsNumber()) ThrowType(name + " must be a number (got " + Describe(value) + ")");
  double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number)) ThrowRange(name + " must be a finite number (got " + FormatNumber(number) + ")");
  return number;
}

bool Arguments::Boolean(const Napi::Object& object, const char* key, const char* owner, bool fallback) const {
  Napi::Value value = object.Get(key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsBoolean()) ThrowType(Qualified(owner, key) + " must be a boolean (got " + Describe(value) + ")");
  return value.As<Napi::Boolean>().Value();
}

std::string Arguments::Choice(const Napi::Object& object, const char* key, const char* owner,
                              std::initializer_list<const char*> choices, const char* fallback) const {
  Napi::Value value = object.Get(key);
  std::string name = Qualified(owner, key);
  std::string list;
  for (const char* choice : choices) list += (list.empty() ? "'" : ", '") + std::string(choice) + "'";
  if (value.IsUndefined() && fallback) return fallback;
  if (!value.IsString()) ThrowType(name + " must be one of " + list + " (got " + Describe(value) + ")");
  std::string text = value.As<Napi::String>().Utf8Value();
  for (const char* choice : choices)
    if (text == choice) return text;
  ThrowRange(name + " must be one of " + list + " (got '" + text + "')");
}

void Arguments::ExpectLength(std::size_t actual, std::size_t expected, const std::string& name,
                             const std::string& shape) const {
  if (actual != expected)
    ThrowRange(name + " has " + std::to_string(actual) + " elements but " + shape + " requires " +
               (expected == std::numeric_limits<std::size_t>::max() ? std::string("more than can be addressed")
                                                                  : std::to_string(expected)));
}

}  // namespace dyco::bind
