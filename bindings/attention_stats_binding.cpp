// attentionStats(attn, { batch, steps, keys, modality, lengths? }, options?).
#include "attention_stats.hpp"
#include "checks.hpp"
#include "kernels.hpp"
#include "operands.hpp"

namespace dyco::bind {
namespace {

struct AttentionStatsCall : KernelCall {
  ArrayOperand attn, modality, lengths;
  std::size_t batch = 0, steps = 0, keys = 0;
  Device device = Device::kCpu;
  PlacedFloat32 ratioVis, ratioTxt, frVis, frTxt;

  Status Run() override {
    if (device == Device::kCuda)
      return cuda::StagedAttentionStats(attn.operand, batch, steps, keys, modality.operand, lengths.operand,
                                        {ratioVis.Destination(), ratioTxt.Destination(), frVis.Destination(), frTxt.Destination()});
    ModalityRuns runs;
    if (Status s = BuildModalityRuns(static_cast<const std::uint8_t*>(modality.operand.data), keys, &runs); !s.ok) return s;
    const auto* lengthData = static_cast<const std::int32_t*>(lengths.operand.data);
    if (Status s = CheckLengths("lengths", lengthData, batch * steps, keys); !s.ok) return s;
    std::vector<float> hostAttn;
    return AttentionStats(HostFloats(attn, hostAttn), batch, steps, keys, runs, lengthData,
                          {ratioVis.data(), ratioTxt.data(), frVis.data(), frTxt.data()});
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("ratioVis", ratioVis.Value(env));
    result.Set("ratioTxt", ratioTxt.Value(env));
    result.Set("frVis", frVis.Value(env));
    result.Set("frTxt", frTxt.Value(env));
    return result;
  }
};

std::unique_ptr<KernelCall> PrepareAttentionStats(const Napi::CallbackInfo& info) {
  Arguments args(info, "attentionStats");
  auto call = std::make_unique<AttentionStatsCall>();
  call->function = args.function();
  call->attn = ReadArray(args, info[0], "attn", ArrayKind::kFloat, false);
  Napi::Object shape = args.Object(1, "shape");
  call->batch = args.Size(shape, "batch", "shape");
  call->steps = args.Size(shape, "steps", "shape");
  call->keys = args.Size(shape, "keys", "shape", 1);
  call->modality = ReadArray(args, shape.Get("modality"), "shape.modality", ArrayKind::kUint8, false);
  call->lengths = ReadArray(args, shape.Get("lengths"), "shape.lengths", ArrayKind::kInt32, true);
  std::size_t rows = CheckedProduct(call->batch, call->steps);
  args.ExpectLength(call->attn.length, CheckedProduct(rows, call->keys), "attn",
                    "shape.batch × shape.steps × shape.keys");
  args.ExpectLength(call->modality.length, call->keys, "shape.modality", "shape.keys");
  if (call->lengths) args.ExpectLength(call->lengths.length, rows, "shape.lengths", "shape.batch × shape.steps");
  Napi::Object options = args.Object(2, "options", true);
  const std::initializer_list<const ArrayOperand*> operands = {&call->attn, &call->modality, &call->lengths};
  call->device = ResolveDevice(args, options, "options", operands);
  for (PlacedFloat32* out : {&call->ratioVis, &call->ratioTxt, &call->frVis, &call->frTxt})
    out->Allocate(info.Env(), rows, AnyOnDevice(operands));
  call->Keep(call->attn.handle);
  call->Keep(call->modality.handle);
  call->Keep(call->lengths.handle);
  return call;
}

}  // namespace

void RegisterAttentionStats(Napi::Env env, Napi::Object exports) {
  ExportKernel(env, exports, "attentionStats", PrepareAttentionStats, true);
}

}  // namespace dyco::bind
