// fisherRao(p, q, { rows, cols }, options?) and fisherRaoAdjacent(x, { batch, steps, width, lengths? }, options?).
#include "checks.hpp"
#include "fisher_rao.hpp"
#include "kernels.hpp"
#include "operands.hpp"

namespace dyco::bind {
namespace {

struct FisherRaoCall : KernelCall {
  ArrayOperand p, q;
  std::size_t rows = 0, cols = 0;
  Device device = Device::kCpu;
  PlacedFloat32 out;
  Status Run() override {
    if (device == Device::kCuda) return cuda::StagedFisherRao(p.operand, q.operand, rows, cols, out.Destination());
    std::vector<float> hostP, hostQ;
    return FisherRao(HostFloats(p, hostP), HostFloats(q, hostQ), rows, cols, out.data());
  }
  Napi::Value Result(Napi::Env env) override { return out.Value(env); }
};

std::unique_ptr<KernelCall> PrepareFisherRao(const Napi::CallbackInfo& info) {
  Arguments args(info, "fisherRao");
  auto call = std::make_unique<FisherRaoCall>();
  call->function = args.function();
  call->p = ReadArray(args, info[0], "p", ArrayKind::kFloat, false);
  call->q = ReadArray(args, info[1], "q", ArrayKind::kFloat, false);
  Napi::Object shape = args.Object(2, "shape");
  call->rows = args.Size(shape, "rows", "shape");
  call->cols = args.Size(shape, "cols", "shape", 1);
  std::size_t n = CheckedProduct(call->rows, call->cols);
  args.ExpectLength(call->p.length, n, "p", "shape.rows × shape.cols");
  args.ExpectLength(call->q.length, n, "q", "shape.rows × shape.cols");
  ExpectSameType(args, call->p, call->q);
  Napi::Object options = args.Object(3, "options", true);
  call->device = ResolveDevice(args, options, "options", {&call->p, &call->q});
  call->out.Allocate(info.Env(), call->rows, AnyOnDevice({&call->p, &call->q}));
  call->Keep(call->p.handle);
  call->Keep(call->q.handle);
  return call;
}

struct FisherRaoAdjacentCall : KernelCall {
  ArrayOperand x, lengths;
  std::size_t batch = 0, steps = 0, width = 0;
  Device device = Device::kCpu;
  PlacedFloat32 out;
  Status Run() override {
    if (device == Device::kCuda)
      return cuda::StagedFisherRaoAdjacent(x.operand, batch, steps, width, lengths.operand, out.Destination());
    const auto* lengthData = static_cast<const std::int32_t*>(lengths.operand.data);
    if (Status s = CheckLengths("lengths", lengthData, batch * steps, width); !s.ok) return s;
    std::vector<float> hostX;
    return FisherRaoAdjacent(HostFloats(x, hostX), batch, steps, width, lengthData, out.data());
  }
  Napi::Value Result(Napi::Env env) override { return out.Value(env); }
};

std::unique_ptr<KernelCall> PrepareFisherRaoAdjacent(const Napi::CallbackInfo& info) {
  Arguments args(info, "fisherRaoAdjacent");
  auto call = std::make_unique<FisherRaoAdjacentCall>();
  call->function = args.function();
  call->x = ReadArray(args, info[0], "x", ArrayKind::kFloat, false);
  Napi::Object shape = args.Object(1, "shape");
  call->batch = args.Size(shape, "batch", "shape");
  call->steps = args.Size(shape, "steps", "shape");
  call->width = args.Size(shape, "width", "shape", 1);
  call->lengths = ReadArray(args, shape.Get("lengths"), "shape.lengths", ArrayKind::kInt32, true);
  std::size_t rows = CheckedProduct(call->batch, call->steps);
  args.ExpectLength(call->x.length, CheckedProduct(rows, call->width), "x", "shape.batch × shape.steps × shape.width");
  if (call->lengths) args.ExpectLength(call->lengths.length, rows, "shape.lengths", "shape.batch × shape.steps");
  Napi::Object options = args.Object(2, "options", true);
  call->device = ResolveDevice(args, options, "options", {&call->x, &call->lengths});
  call->out.Allocate(info.Env(), rows, AnyOnDevice({&call->x, &call->lengths}));
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
