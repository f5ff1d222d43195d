// coordinationScores (CPU or CUDA), normalizeScores and reweightAdvantages (CPU) (method §4).
#include "coordination.hpp"
#include "kernels.hpp"
#include "operands.hpp"

namespace dyco::bind {
namespace {

struct CoordinationCall : KernelCall {
  ArrayOperand frVis, frTxt, ratioVis, ratioTxt, mask;
  std::size_t batch = 0, steps = 0;
  double tauVis = 0.0, tauTxt = 0.05;
  Device device = Device::kCpu;
  PlacedInt8 roles;
  PlacedFloat32 alignment, sequenceScore;

  Status Run() override {
    if (device == Device::kCuda) {
      cuda::CoordinationOperands in{frVis.operand, frTxt.operand, ratioVis.operand, ratioTxt.operand, mask.operand, batch, steps};
      return cuda::StagedCoordinationScores(in, tauVis, tauTxt,
                                            {roles.Destination(), alignment.Destination(), sequenceScore.Destination()});
    }
    auto floats = [](const ArrayOperand& op) { return static_cast<const float*>(op.operand.data); };
    CoordinationInputs in{floats(frVis), floats(frTxt), floats(ratioVis), floats(ratioTxt),
                          static_cast<const std::uint8_t*>(mask.operand.data), batch, steps};
    return CoordinationScores(in, tauVis, tauTxt, {roles.data(), alignment.data(), sequenceScore.data()});
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("roles", roles.Value(env));
    result.Set("alignment", alignment.Value(env));
    result.Set("sequenceScore", sequenceScore.Value(env));
    return result;
  }
};

std::unique_ptr<KernelCall> PrepareCoordination(const Napi::CallbackInfo& info) {
  Arguments args(info, "coordinationScores");
  auto call = std::make_unique<CoordinationCall>();
  call->function = args.function();
  Napi::Object inputs = args.Object(0, "inputs");
  Napi::Object options = args.Object(1, "options", true);
  call->batch = args.Size(inputs, "batch", "inputs");
  call->steps = args.Size(inputs, "steps", "inputs");
  std::size_t n = CheckedProduct(call->batch, call->steps);
  const char* names[] = {"frVis", "frTxt", "ratioVis", "ratioTxt"};
  ArrayOperand* ops[] = {&call->frVis, &call->frTxt, &call->ratioVis, &call->ratioTxt};
  for (int a = 0; a < 4; ++a) {
    *ops[a] = ReadArray(args, inputs.Get(names[a]), Qualified("inputs", names[a]), ArrayKind::kFloat32, false);
    args.ExpectLength(ops[a]->length, n, Qualified("inputs", names[a]), "inputs.batch × inputs.steps");
    call->Keep(ops[a]->handle);
  }
  call->mask = ReadArray(args, inputs.Get("mask"), "inputs.mask", ArrayKind::kUint8, true);
  if (call->mask) args.ExpectLength(call->mask.length, n, "inputs.mask", "inputs.batch × inputs.steps");
  call->Keep(call->mask.handle);
  call->tauVis = args.Number(options, "tauVis", "options", 0.0);
  call->tauTxt = args.Number(options, "tauTxt", "options", 0.05);
  const std::initializer_list<const ArrayOperand*> operands = {&call->frVis, &call->frTxt, &call->ratioVis,
                                                               &call->ratioTxt, &call->mask};
  call->device = ResolveDevice(args, options, "options", operands);
  const bool onDevice = AnyOnDevice(operands);
  call->roles.Allocate(info.Env(), n, onDevice);
  call->alignment.Allocate(info.Env(), n, onDevice);
  call->sequenceScore.Allocate(info.Env(), call->batch, onDevice);
  return call;
}

struct NormalizeCall : KernelCall {
  ArrayView<float> scores;
  std::size_t groupSize = 0;
  Float32Output out;
  Status Run() override { return NormalizeScores(scores.data, scores.length, groupSize, out.data); }
  Napi::Value Result(Napi::Env) override { return out.Value(); }
};

std::unique_ptr<KernelCall> PrepareNormalize(const Napi::CallbackInfo& info) {
  Arguments args(info, "normalizeScores");
  auto call = std::make_unique<NormalizeCall>();
  call->function = args.function();
  call->scores = args.Float32(0, "scores");
  Napi::Object options = args.Object(1, "options", true);
  call->groupSize = args.Size(options, "groupSize", "options", 1, 0);
  if (call->groupSize && call->scores.length % call->groupSize != 0)
    args.ThrowRange("options.groupSize (" + std::to_string(call->groupSize) + ") must divide scores.length (" +
                    std::to_string(call->scores.length) + ")");
  call->out.Allocate(info.Env(), call->scores.length);
  call->Keep(call->scores.handle);
  return call;
}

struct ReweightCall : KernelCall {
  ArrayView<float> advantages, scores;
  ArrayView<std::int32_t> lengths;
  ReweightOptions options;
  Float32Output out;
  Status Run() override {
    options.lengths = lengths.data;
    return ReweightAdvantages(advantages.data, advantages.length, scores.data, scores.length, options, out.data);
  }
  Napi::Value Result(Napi::Env) override { return out.Value(); }
};

std::unique_ptr<KernelCall> PrepareReweight(const Napi::CallbackInfo& info) {
  Arguments args(info, "reweightAdvantages");
  auto call = std::make_unique<ReweightCall>();
  call->function = args.function();
  call->advantages = args.Float32(0, "advantages");
  call->scores = args.Float32(1, "normalizedScores");
  Napi::Object options = args.Object(2, "options", true);
  std::size_t batch = call->scores.length;
  if (batch == 0 ? call->advantages.length != 0 : call->advantages.length % batch != 0)
    args.ThrowRange("advantages.length (" + std::to_string(call->advantages.length) +
                    ") must be normalizedScores.length (" + std::to_string(batch) + ") or a multiple of it");
  ReweightOptions& o = call->options;
  o.alpha = args.Number(options, "alpha", "options", 0.2);
  o.min = args.Number(options, "min", "options", 0.8);
  o.max = args.Number(options, "max", "options", 1.2);
  if (o.min > o.max)
    args.ThrowRange("options.min (" + std::to_string(o.min) + ") must not exceed options.max (" +
                    std::to_string(o.max) + ")");
  o.minLength = args.Size(options, "minLength", "options", 0, 0);
  o.scaleByLength = args.Boolean(options, "scaleByLength", "options", false);
  if (o.scaleByLength && o.minLength == 0) args.ThrowRange("options.scaleByLength needs options.minLength > 0");
  call->lengths = args.Int32(options, "lengths", "options", true);
  if ((o.minLength > 0 || o.scaleByLength) && !call->lengths)
    args.ThrowType("options.lengths (Int32Array) is required when options.minLength > 0");
  if (call->lengths) {
    args.ExpectLength(call->lengths.length, batch, "options.lengths", "normalizedScores.length");
    for (std::size_t b = 0; b < batch; ++b)
      if (call->lengths.data[b] < 0)
        args.ThrowRange("options.lengths[" + std::to_string(b) + "] must be ≥ 0 (got " +
                        std::to_string(call->lengths.data[b]) + ")");
  }
  call->out.Allocate(info.Env(), call->advantages.length);
  call->Keep(call->advantages.handle);
  call->Keep(call->scores.handle);
  call->Keep(call->lengths.handle);
  return call;
}

}  // namespace

void RegisterCoordination(Napi::Env env, Napi::Object exports) {
  ExportKernel(env, exports, "coordinationScores", PrepareCoordination, true);
  ExportKernel(env, exports, "normalizeScores", PrepareNormalize, false);
  ExportKernel(env, exports, "reweightAdvantages", PrepareReweight, false);
}

}  // namespace dyco::bind
