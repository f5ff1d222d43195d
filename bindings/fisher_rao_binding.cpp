// fisherRao(p, q, { rows, cols }) and fisherRaoAdjacent(x, { batch, steps, width, lengths? }).
#include "arguments.hpp"
#include "checks.hpp"
#include "fisher_rao.hpp"
#include "kernel_call.hpp"
#include "kernels.hpp"

namespace dyco::bind {
namespace {

struct FisherRaoCall : KernelCall {
  ArrayView<float> p, q;
  std::size_t rows = 0, cols = 0;
  Float32Output out;
  Status Run() override { return FisherRao(p.data, q.data, rows, cols, out.data); }
  Napi::Value Result(Napi::Env) override { return out.Value(); }
};

std::unique_ptr<KernelCall> PrepareFisherRao(const Napi::CallbackInfo& info) {
  Arguments args(info, "fisherRao");
  auto call = std::make_unique<FisherRaoCall>();
  call->function = args.function();
  call->p = args.Float32(0, "p");
  call->q = args.Float32(1, "q");
  Napi::Object shape = args.Object(2, "shape");
  call->rows = args.Size(shape, "rows", "shape");
  call->cols = args.Size(shape, "cols", "shape", 1);
  std::size_t n = CheckedProduct(call->rows, call->cols);
  args.ExpectLength(call->p.length, n, "p", "shape.rows × shape.cols");
  args.ExpectLength(call->q.length, n, "q", "shape.rows × shape.cols");
  call->out.Allocate(info.Env(), call->rows);
  call->Keep(call->p.handle);
  call->Keep(call->q.handle);
  return call;
}

struct FisherRaoAdjacentCall : KernelCall {
  ArrayView<float> x;
  ArrayView<std::int32_t> lengths;
  std::size_t batch = 0, steps = 0, width = 0;
  Float32Output out;
  Status Run() override {
    if (Status s = CheckLengths("lengths", lengths.data, batch * steps, width); !s.ok) return s;
    return FisherRaoAdjacent(x.data, batch, steps, width, lengths.data, out.data);
  }
  Napi::Value Result(Napi::Env) override { return out.Value(); }
};

std::unique_ptr<KernelCall> PrepareFisherRaoAdjacent(const Napi::CallbackInfo& info) {
  Arguments args(info, "fisherRaoAdjacent");
  auto call = std::make_unique<FisherRaoAdjacentCall>();
  call->function = args.function();
  call->x = args.Float32(0, "x");
  Napi::Object shape = args.Object(1, "shape");
  call->batch = args.Size(shape, "batch", "shape");
  call->steps = args.Size(shape, "steps", "shape");
  call->width = args.Size(shape, "width", "shape", 1);
  call->lengths = args.Int32(shape, "lengths", "shape", true);
  std::size_t rows = CheckedProduct(call->batch, call->steps);
  args.ExpectLength(call->x.length, CheckedProduct(rows, call->width), "x", "shape.batch × shape.steps × shape.width");
  if (call->lengths) args.ExpectLength(call->lengths.length, rows, "shape.lengths", "shape.batch × shape.steps");
  call->out.Allocate(info.Env(), rows);
  call->Keep(call->x.handle);
  call->Keep(call->lengths.handle);
  return call;
}

}  // namespace

void RegisterFisherRao(Napi::Env env, Napi::Object exports) {
  ExportKernel(env, exports, "fisherRao", PrepareFisherRao, true);
  ExportKernel(env, exports, "fisherRaoAdjacent", PrepareFisherRaoAdjacent, true);
}

}  // namespace dyco::bind
