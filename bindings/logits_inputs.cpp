#include "logits_inputs.hpp"

#include <string>

namespace dyco::bind {

LogitsLossArguments ReadLogitsLossInputs(const Arguments& args, const Napi::Object& object, const char* owner,
                                         KernelCall& call) {
  LogitsLossArguments out;
  LogitsPolicyLossInputs& in = out.inputs;
  const std::string prefix = std::string(owner) + ".";
  in.batch = args.Size(object, "batch", owner);
  in.steps = args.Size(object, "steps", owner);
  in.vocab = args.Size(object, "vocab", owner, 1);
  const std::size_t tokens = CheckedProduct(in.batch, in.steps);
  const std::size_t entries = CheckedProduct(tokens, in.vocab);
  const std::string tokenShape = prefix + "batch × " + prefix + "steps";

  // The logits' element type: Float32Array is float32; Uint16Array carries half-precision bit
  // patterns and must say which kind.
  Napi::Value logits = object.Get("logits");
  const std::string logitsName = prefix + "logits";
  const bool isFloat32 = logits.IsTypedArray() && logits.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array;
  const bool isUint16 = logits.IsTypedArray() && logits.As<Napi::TypedArray>().TypedArrayType() == napi_uint16_array;
  if (!isFloat32 && !isUint16)
    args.ThrowType(logitsName + " must be a Float32Array, or a Uint16Array of float16/bfloat16 bit patterns (got " +
                   Describe(logits) + ")");
  const std::string dtype =
      args.Choice(object, "dtype", owner, {"float32", "float16", "bfloat16"}, isFloat32 ? "float32" : nullptr);
  if (isFloat32 && dtype != "float32")
    args.ThrowType(prefix + "dtype is '" + dtype + "' but " + logitsName +
                   " is a Float32Array (float16 and bfloat16 logits are passed as Uint16Array bit patterns)");
  if (isUint16 && dtype == "float32")
    args.ThrowType(prefix + "dtype is 'float32' but " + logitsName + " is a Uint16Array (pass a Float32Array)");
  std::size_t length = 0;
  if (isFloat32) {
    ArrayView<float> view = args.Float32(object, "logits", owner, false);
    in.logits = view.data;
    length = view.length;
    in.dtype = DType::kFloat32;
  } else {
    ArrayView<std::uint16_t> view = args.Uint16(object, "logits", owner, false);
    in.logits = view.data;
    length = view.length;
    in.dtype = dtype == "float16" ? DType::kFloat16 : DType::kBFloat16;
  }
  args.ExpectLength(length, entries, logitsName, tokenShape + " × " + prefix + "vocab");
  out.logits = logits.As<Napi::Object>();
  call.Keep(out.logits);

  ArrayView<std::int32_t> targets = args.Int32(object, "targets", owner, false);
  args.ExpectLength(targets.length, tokens, prefix + "targets", tokenShape);
  in.targets = targets.data;
  call.Keep(targets.handle);
  ArrayView<float> oldLogp = args.Float32(object, "oldLogp", owner, true);
  if (oldLogp) args.ExpectLength(oldLogp.length, tokens, prefix + "oldLogp", tokenShape);
  in.oldLogp = oldLogp.data;
  call.Keep(oldLogp.handle);
  ArrayView<float> refLogp = args.Float32(object, "refLogp", owner, true);
  if (refLogp) args.ExpectLength(refLogp.length, tokens, prefix + "refLogp", tokenShape);
  in.refLogp = refLogp.data;
  call.Keep(refLogp.handle);
  ArrayView<float> advantages = args.Float32(object, "advantages", owner, false);
  if (advantages.length != in.batch && advantages.length != tokens)
    args.ThrowRange(prefix + "advantages has " + std::to_string(advantages.length) + " elements but must have " +
                    prefix + "batch (" + std::to_string(in.batch) + ", per sequence) or " + tokenShape + " (" +
                    std::to_string(tokens) + ", per token)");
  in.advantages = advantages.data;
  in.perTokenAdvantages = advantages.length != in.batch;
  call.Keep(advantages.handle);
  ArrayView<std::uint8_t> mask = args.Uint8(object, "mask", owner, false);
  args.ExpectLength(mask.length, tokens, prefix + "mask", tokenShape);
  in.mask = mask.data;
  call.Keep(mask.handle);
  in.temperature = args.Number(object, "temperature", owner, 1.0);
  if (!(in.temperature > 0))
    args.ThrowRange(prefix + "temperature must be > 0 (got " + std::to_string(in.temperature) + ")");
  return out;
}

}  // namespace dyco::bind
