// attentionStats(attn, { batch, steps, keys, modality, lengths? }).
#include "arguments.hpp"
#include "attention_stats.hpp"
#include "checks.hpp"
#include "kernel_call.hpp"
#include "kernels.hpp"

namespace dyco::bind {
namespace {

struct AttentionStatsCall : KernelCall {
  ArrayView<float> attn;
  ArrayView<std::uint8_t> modality;
  ArrayView<std::int32_t> lengths;
  std::size_t batch = 0, steps = 0, keys = 0;
  Float32Output ratioVis, ratioTxt, frVis, frTxt;

  Status Run() override {
    ModalityRuns runs;
    if (Status s = BuildModalityRuns(modality.data, keys, &runs); !s.ok) return s;
    if (Status s = CheckLengths("lengths", lengths.data, batch * steps, keys); !s.ok) return s;
    return AttentionStats(attn.data, batch, steps, keys, runs, lengths.data,
                          {ratioVis.data, ratioTxt.data, frVis.data, frTxt.data});
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("ratioVis", ratioVis.Value());
    result.Set("ratioTxt", ratioTxt.Value());
    result.Set("frVis", frVis.Value());
    result.Set("frTxt", frTxt.Value());
    return result;
  }
};

std::unique_ptr<KernelCall> PrepareAttentionStats(const Napi::CallbackInfo& info) {
  Arguments args(info, "attentionStats");
  auto call = std::make_unique<AttentionStatsCall>();
  call->function = args.function();
  call->attn = args.Float32(0, "attn");
  Napi::Object shape = args.Object(1, "shape");
  call->batch = args.Size(shape, "batch", "shape");
  call->steps = args.Size(shape, "steps", "shape");
  call->keys = args.Size(shape, "keys", "shape", 1);
  call->modality = args.Uint8(shape, "modality", "shape", false);
  call->lengths = args.Int32(shape, "lengths", "shape", true);
  std::size_t rows = CheckedProduct(call->batch, call->steps);
  args.ExpectLength(call->attn.length, CheckedProduct(rows, call->keys), "attn",
                    "shape.batch × shape.steps × shape.keys");
  args.ExpectLength(call->modality.length, call->keys, "shape.modality", "shape.keys");
  if (call->lengths) args.ExpectLength(call->lengths.length, rows, "shape.lengths", "shape.batch × shape.steps");
  for (Float32Output* out : {&call->ratioVis, &call->ratioTxt, &call->frVis, &call->frTxt})
    out->Allocate(info.Env(), rows);
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
