// logitsPolicyLoss({ logits, dtype?, targets, oldLogp?, refLogp?, advantages, mask, batch, steps,
// vocab, temperature? }, config, { inPlace?, gradLogits?, device? }) (issue 7: the policy loss from
// logits). Every array may be host memory or a DeviceArray (operands.hpp); the call runs on the CPU
// kernel or the CUDA one (options.device), and logp and a new gradient stay on the device as
// DeviceArrays when any input was a DeviceArray.
#include <cstring>

#include "arguments.hpp"
#include "kernel_call.hpp"
#include "kernels.hpp"
#include "logits_policy_loss.hpp"
#include "operands.hpp"
#include "policy_loss_config.hpp"

namespace dyco::bind {
namespace {

struct LogitsPolicyLossCall : KernelCall {
  ArrayOperand logits, targets, oldLogp, refLogp, advantages, mask;
  ArrayOperand given;  // options.gradLogits
  std::size_t batch = 0, steps = 0, vocab = 0;
  double temperature = 1.0;
  PolicyLossConfig config;
  Device device = Device::kCpu;
  bool inPlace = false;
  PlacedFloat32 logp, grad;  // grad: allocated when neither in place nor given an array
  // The array the gradient goes to when it is not `grad`: the logits (in place) or options.gradLogits
  // (held by a reference: a napi_value would not outlive Prepare's scope).
  Napi::ObjectReference target;
  PolicyLossMetrics metrics;

  bool perToken() const { return advantages.length != batch; }

  Status Run() override {
    if (device == Device::kCuda) {
      cuda::LogitsPolicyLossOperands in{logits.operand, targets.operand, oldLogp.operand, refLogp.operand,
                                        advantages.operand, mask.operand, perToken(), temperature, batch, steps, vocab};
      cuda::LogitsGradientDestination out;
      out.inPlace = inPlace;
      if (given && given.onDevice()) out.existing = const_cast<void*>(given.operand.data);
      else if (given) out.out.host = const_cast<void*>(given.operand.data);
      else if (!inPlace) out.out = grad.Destination();
      return cuda::StagedLogitsPolicyLoss(in, config, out, logp.Destination(), &metrics);
    }
    LogitsPolicyLossInputs in{logits.operand.data,
                              logits.operand.dtype,
                              static_cast<const std::int32_t*>(targets.operand.data),
                              temperature,
                              static_cast<const float*>(oldLogp.operand.data),
                              static_cast<const float*>(refLogp.operand.data),
                              static_cast<const float*>(advantages.operand.data),
                              perToken(),
                              static_cast<const std::uint8_t*>(mask.operand.data),
                              batch,
                              steps,
                              vocab};
    LogitsPolicyLossOutputs out;
    out.logp = logp.data();
    out.inPlace = inPlace;
    out.gradLogits = inPlace ? const_cast<void*>(logits.operand.data)
                     : given ? const_cast<void*>(given.operand.data)
                             : static_cast<void*>(grad.data());
    return LogitsPolicyLoss(in, config, out, &metrics);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("loss", metrics.loss);
    SetPolicyLossMetrics(result, metrics);
    result.Set("logp", logp.Value(env));
    result.Set("gradLogits", target.IsEmpty() ? grad.Value(env) : target.Value());
    return result;
  }
};

// inputs.logits with inputs.dtype: a Float32Array, a Uint16Array of half-precision bits (dtype
// says which), or a DeviceArray of float32/float16/bfloat16 (dtype, if given, must agree).
ArrayOperand ReadLogits(const Arguments& args, const Napi::Object& inputs) {
  const Napi::Value value = inputs.Get("logits");
  const bool isTyped = value.IsTypedArray();
  const auto typed = isTyped ? value.As<Napi::TypedArray>().TypedArrayType() : napi_int8_array;
  const bool isFloat32 = isTyped && typed == napi_float32_array, isUint16 = isTyped && typed == napi_uint16_array;
  DeviceArray* device = isTyped ? nullptr : DeviceArray::From(args.env(), value);
  if (!isFloat32 && !isUint16 && !device)
    args.ThrowType("inputs.logits must be a Float32Array, a Uint16Array of float16/bfloat16 bit patterns or a "
                   "float32/float16/bfloat16 DeviceArray (got " + Describe(value) + ")");
  if (device) {
    ArrayOperand op = ReadArray(args, value, "inputs.logits", ArrayKind::kFloat, false);
    const char* own = DTypeName(op.operand.dtype);
    const std::string dtype = args.Choice(inputs, "dtype", "inputs", {"float32", "float16", "bfloat16"}, own);
    if (dtype != own)
      args.ThrowType("inputs.dtype is '" + dtype + "' but inputs.logits is a " + own + " DeviceArray");
    return op;
  }
  const std::string dtype =
      args.Choice(inputs, "dtype", "inputs", {"float32", "float16", "bfloat16"}, isFloat32 ? "float32" : nullptr);
  if (isFloat32 && dtype != "float32")
    args.ThrowType("inputs.dtype is '" + dtype +
                   "' but inputs.logits is a Float32Array (float16 and bfloat16 logits are passed as Uint16Array bit patterns)");
  if (isUint16 && dtype == "float32")
    args.ThrowType("inputs.dtype is 'float32' but inputs.logits is a Uint16Array (pass a Float32Array)");
  if (isFloat32) return ReadArray(args, value, "inputs.logits", ArrayKind::kFloat, false);
  // Half-precision bits as a bare Uint16Array: the { data, dtype } operand form, read in place.
  Napi::Object wrapped = Napi::Object::New(args.env());
  wrapped.Set("data", value);
  wrapped.Set("dtype", dtype);
  ArrayOperand op = ReadArray(args, wrapped, "inputs.logits", ArrayKind::kFloat, false);
  op.handle = value.As<Napi::Object>();
  return op;
}

// Whether two operands' bytes overlap (only memory on the same side can).
bool Overlap(const ArrayOperand& a, std::size_t aBytes, const ArrayOperand& b, std::size_t bBytes) {
  if (!a || !b || a.onDevice() != b.onDevice() || aBytes == 0 || bBytes == 0) return false;
  const auto* a0 = static_cast<const char*>(a.operand.data);
  const auto* b0 = static_cast<const char*>(b.operand.data);
  return a0 < b0 + bBytes && b0 < a0 + aBytes;
}

std::unique_ptr<KernelCall> PrepareLogitsPolicyLoss(const Napi::CallbackInfo& info) {
  Arguments args(info, "logitsPolicyLoss");
  auto call = std::make_unique<LogitsPolicyLossCall>();
  call->function = args.function();
  Napi::Object inputs = args.Object(0, "inputs");
  Napi::Object config = args.Object(1, "config");
  Napi::Object options = args.Object(2, "options", true);
  call->batch = args.Size(inputs, "batch", "inputs");
  call->steps = args.Size(inputs, "steps", "inputs");
  call->vocab = args.Size(inputs, "vocab", "inputs", 1);
  const std::size_t tokens = CheckedProduct(call->batch, call->steps);
  const std::size_t entries = CheckedProduct(tokens, call->vocab);
  const std::string tokenShape = "inputs.batch × inputs.steps";

  call->logits = ReadLogits(args, inputs);
  args.ExpectLength(call->logits.length, entries, "inputs.logits", tokenShape + " × inputs.vocab");
  call->targets = ReadArray(args, inputs.Get("targets"), "inputs.targets", ArrayKind::kInt32, false);
  args.ExpectLength(call->targets.length, tokens, "inputs.targets", tokenShape);
  call->oldLogp = ReadArray(args, inputs.Get("oldLogp"), "inputs.oldLogp", ArrayKind::kFloat32, true);
  if (call->oldLogp) args.ExpectLength(call->oldLogp.length, tokens, "inputs.oldLogp", tokenShape);
  call->refLogp = ReadArray(args, inputs.Get("refLogp"), "inputs.refLogp", ArrayKind::kFloat32, true);
  if (call->refLogp) args.ExpectLength(call->refLogp.length, tokens, "inputs.refLogp", tokenShape);
  call->advantages = ReadArray(args, inputs.Get("advantages"), "inputs.advantages", ArrayKind::kFloat32, false);
  if (call->advantages.length != call->batch && call->advantages.length != tokens)
    args.ThrowRange("inputs.advantages has " + std::to_string(call->advantages.length) +
                    " elements but must have inputs.batch (" + std::to_string(call->batch) + ", per sequence) or " +
                    tokenShape + " (" + std::to_string(tokens) + ", per token)");
  call->mask = ReadArray(args, inputs.Get("mask"), "inputs.mask", ArrayKind::kUint8, false);
  args.ExpectLength(call->mask.length, tokens, "inputs.mask", tokenShape);
  call->temperature = args.Number(inputs, "temperature", "inputs", 1.0);
  if (!(call->temperature > 0))
    args.ThrowRange("inputs.temperature must be > 0 (got " + std::to_string(call->temperature) + ")");
  call->config = ReadPolicyLossConfig(args, config, "config");

  call->inPlace = args.Boolean(options, "inPlace", "options", false);
  call->given = ReadArray(args, options.Get("gradLogits"), "options.gradLogits", ArrayKind::kFloat32, true);
  if (call->inPlace) {
    if (call->given)
      args.ThrowRange("options.gradLogits cannot be combined with options.inPlace (which writes the gradient over inputs.logits)");
    call->target = Napi::Persistent(call->logits.handle);
  } else if (call->given) {
    args.ExpectLength(call->given.length, entries, "options.gradLogits", "inputs.batch × inputs.steps × inputs.vocab");
    if (Overlap(call->given, entries * sizeof(float), call->logits, entries * ElementBytes(call->logits.operand.dtype)))
      args.ThrowRange("options.gradLogits overlaps inputs.logits (use options.inPlace to write the gradient over the logits)");
    call->target = Napi::Persistent(call->given.handle);
  }
  // A DeviceArray the gradient is written into: no other call in flight may use it meanwhile (they
  // run on other streams, unordered with this one), and none may use it until this call ends.
  ArrayOperand& written = call->inPlace ? call->logits : call->given;
  if (written.onDevice()) {
    if (const int others = written.use.OtherUses(); others > 0)
      throw Napi::Error::New(info.Env(), std::string(args.function()) + ": " + written.name + " is used by " +
                                             std::to_string(others) + (others == 1 ? " call" : " calls") +
                                             " still in flight, and writing the gradient into it would race them: await them first");
    written.use.MarkWriting();
  }

  const std::initializer_list<const ArrayOperand*> arrays = {&call->logits,     &call->targets, &call->oldLogp,
                                                             &call->refLogp,    &call->advantages, &call->mask};
  call->device = ResolveDevice(args, options, "options",
                               {&call->logits, &call->targets, &call->oldLogp, &call->refLogp, &call->advantages,
                                &call->mask, &call->given});
  const bool deviceOutputs = AnyOnDevice(arrays);
  call->logp.Allocate(info.Env(), tokens, deviceOutputs);
  if (call->target.IsEmpty()) call->grad.Allocate(info.Env(), entries, deviceOutputs);
  for (const ArrayOperand* op : arrays) call->Keep(op->handle);
  call->Keep(call->given.handle);
  return call;
}

}  // namespace

void RegisterLogitsPolicyLoss(Napi::Env env, Napi::Object exports) {
  ExportKernel(env, exports, "logitsPolicyLoss", PrepareLogitsPolicyLoss, true);
}

}  // namespace dyco::bind
