// The host-facing calls of native/cuda_calls.hpp: stage the inputs, launch, place the outputs,
// read the failure slots back and turn them into the CPU kernels' Status. Plain C++ over
// cuda_device.hpp and cuda_kernels.hpp; in a build without CUDA those throw, saying why.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cuda_calls.hpp"
#include "cuda_kernels.hpp"
#include "logits_policy_loss.hpp"

namespace dyco::cuda {
namespace {

thread_local LaunchTiming* gTiming = nullptr;

// DYCO_RL_CUDA_POISON, read once per process: getenv on a libuv worker while JavaScript assigns
// process.env is a data race in glibc (the tests set the variable before their first call).
bool PoisonOutputs() {
  static const bool poison = [] {
    const char* value = std::getenv("DYCO_RL_CUDA_POISON");
    return value && *value && std::strcmp(value, "0") != 0;
  }();
  return poison;
}

// One call's device side: the calling thread's stream, temporary buffers (freed when the call
// ends, after the stream has been synchronised), and the failure slots.
class Stage {
 public:
  Stage() : stream_(ThreadStream()) {
    if (!Usable()) throw CudaError(-1, "CUDA cannot be used: " + UnusableReason());
    SelectDevice();
    failures_ = static_cast<FailureKey*>(Temporary(kFailureSlots * sizeof(FailureKey)));
  }
  // A call that threw part-way may still have work queued that writes its output buffers, and those
  // are freed later on another thread's stream (the JavaScript thread's), which is not ordered after
  // this one: wait for it first.
  ~Stage() {
    if (!finished_) SynchronizeQuietly(stream_);
  }
  Stage(const Stage&) = delete;
  Stage& operator=(const Stage&) = delete;

  void* stream() const { return stream_; }
  FailureKey* failures() const { return failures_; }

  // Device memory holding the operand's `bytes`: its own memory, or a copy of its host memory.
  const void* In(const Operand& op, std::size_t bytes) {
    if (!op) return nullptr;
    if (op.onDevice) return op.data;
    void* copy = Temporary(bytes);
    CopyToDevice(copy, op.data, bytes, stream_);
    return copy;
  }

  // Device memory for an output: a new buffer the destination keeps, or a temporary one. With
  // DYCO_RL_CUDA_POISON set (the tests set it) it starts as all-ones bytes (NaN, −1), so an element
  // a kernel fails to write cannot pass for a right answer.
  void* Out(const Destination& d, std::size_t bytes) {
    void* data;
    if (d.device) {
      *d.device = DeviceBuffer(bytes, stream_);
      data = d.device->data();
    } else {
      data = Temporary(bytes);
    }
    if (poison_) FillBytes(data, 0xff, bytes, stream_);
    return data;
  }

  // Copies an output to its host destination (if it has one).
  void Place(const Destination& d, const void* device, std::size_t bytes) {
    if (d.host) CopyToHost(d.host, device, bytes, stream_);
  }

  // Runs the kernel launch (once, or timed when a LaunchTiming is installed on this thread).
  void Launch(const std::function<int()>& launch, const char* what) {
    auto once = [&] { Check(launch(), what); };
    if (gTiming) gTiming->milliseconds = TimeLaunches(once, gTiming->warmup, gTiming->reps, stream_);
    else once();
  }

  // Waits for everything enqueued and returns the failure slots.
  std::vector<FailureKey> Finish() {
    std::vector<FailureKey> keys(kFailureSlots);
    CopyToHost(keys.data(), failures_, keys.size() * sizeof(FailureKey), stream_);
    Synchronize(stream_);
    finished_ = true;
    return keys;
  }

 private:
  void* Temporary(std::size_t bytes) {
    temporaries_.emplace_back(bytes, stream_);
    return temporaries_.back().data();
  }

  void* stream_;
  const bool poison_ = PoisonOutputs();
  FailureKey* failures_ = nullptr;
  std::vector<DeviceBuffer> temporaries_;
  bool finished_ = false;
};

// The element `index` of an operand (at `device` after staging) as a double, for error messages.
double FloatAt(const Operand& op, const void* device, std::size_t index, void* stream) {
  const std::size_t size = ElementBytes(op.dtype);
  unsigned char bits[4] = {};
  if (op.onDevice) {
    CopyToHost(bits, static_cast<const unsigned char*>(device) + index * size, size, stream);
    Synchronize(stream);
  } else {
    std::memcpy(bits, static_cast<const unsigned char*>(op.data) + index * size, size);
  }
  float value;
  WidenToFloat(bits, op.dtype, 1, &value);
  return value;
}

template <typename T>
double IntegerAt(const Operand& op, const void* device, std::size_t index, void* stream) {
  T value{};
  if (op.onDevice) {
    CopyToHost(&value, static_cast<const T*>(device) + index, sizeof(T), stream);
    Synchronize(stream);
  } else {
    value = static_cast<const T*>(op.data)[index];
  }
  return static_cast<double>(value);
}

std::string LengthRule(std::size_t max) { return "an integer in [0, " + std::to_string(max) + "]"; }

}  // namespace

void SetLaunchTiming(LaunchTiming* timing) { gTiming = timing; }

Status StagedFisherRao(const Operand& p, const Operand& q, std::size_t rows, std::size_t cols, Destination out) {
  Stage stage;
  const std::size_t bytes = rows * cols * ElementBytes(p.dtype);
  const void* dp = stage.In(p, bytes);
  const void* dq = stage.In(q, bytes);
  auto* result = static_cast<float*>(stage.Out(out, rows * sizeof(float)));
  stage.Launch([&] { return FisherRao({dp, p.dtype}, {dq, q.dtype}, rows, cols, result, stage.failures(), stage.stream()); },
               "running the kernels");
  stage.Place(out, result, rows * sizeof(float));
  const std::vector<FailureKey> keys = stage.Finish();
  if (keys[0] != kNoFailure) {
    const std::size_t row = keys[0] / (2 * cols), rest = keys[0] % (2 * cols);
    const bool inQ = rest >= cols;
    const std::size_t index = row * cols + rest % cols;
    const double value = inQ ? FloatAt(q, dq, index, stage.stream()) : FloatAt(p, dp, index, stage.stream());
    return Status::Invalid(inQ ? "q" : "p", index, value, kExpectProbability);
  }
  return Status::Ok();
}

Status StagedFisherRaoAdjacent(const Operand& x, std::size_t batch, std::size_t steps, std::size_t width,
                               const Operand& lengths, Destination out) {
  Stage stage;
  const std::size_t rows = batch * steps;
  const void* dx = stage.In(x, rows * width * ElementBytes(x.dtype));
  const auto* dl = static_cast<const std::int32_t*>(stage.In(lengths, rows * sizeof(std::int32_t)));
  auto* result = static_cast<float*>(stage.Out(out, rows * sizeof(float)));
  stage.Launch([&] { return FisherRaoAdjacent({dx, x.dtype}, batch, steps, width, dl, result, stage.failures(), stage.stream()); },
               "running the kernels");
  stage.Place(out, result, rows * sizeof(float));
  const std::vector<FailureKey> keys = stage.Finish();
  if (keys[0] != kNoFailure)
    return Status::Invalid("lengths", keys[0], IntegerAt<std::int32_t>(lengths, dl, keys[0], stage.stream()), LengthRule(width));
  if (keys[1] != kNoFailure) {
    const std::size_t pair = keys[1] / (2 * width), rest = keys[1] % (2 * width);
    const std::size_t index = (rest < width ? pair - 1 : pair) * width + rest % width;
    return Status::Invalid("x", index, FloatAt(x, dx, index, stage.stream()), kExpectProbability);
  }
  return Status::Ok();
}

Status StagedAttentionStats(const Operand& attn, std::size_t batch, std::size_t steps, std::size_t keys,
                            const Operand& modality, const Operand& lengths, const AttentionStatsDestinations& out) {
  Stage stage;
  const std::size_t rows = batch * steps, bytes = rows * sizeof(float);
  const void* da = stage.In(attn, rows * keys * ElementBytes(attn.dtype));
  const auto* dm = static_cast<const std::uint8_t*>(stage.In(modality, keys));
  const auto* dl = static_cast<const std::int32_t*>(stage.In(lengths, rows * sizeof(std::int32_t)));
  AttentionStatsOutputs o{static_cast<float*>(stage.Out(out.ratioVis, bytes)), static_cast<float*>(stage.Out(out.ratioTxt, bytes)),
                                static_cast<float*>(stage.Out(out.frVis, bytes)), static_cast<float*>(stage.Out(out.frTxt, bytes))};
  stage.Launch([&] { return AttentionStats({da, attn.dtype}, batch, steps, keys, dm, dl, o, stage.failures(), stage.stream()); },
               "running the kernels");
  stage.Place(out.ratioVis, o.ratioVis, bytes);
  stage.Place(out.ratioTxt, o.ratioTxt, bytes);
  stage.Place(out.frVis, o.frVis, bytes);
  stage.Place(out.frTxt, o.frTxt, bytes);
  const std::vector<FailureKey> found = stage.Finish();
  if (found[0] != kNoFailure)
    return Status::Invalid("modality", found[0], IntegerAt<std::uint8_t>(modality, dm, found[0], stage.stream()),
                           "0 (other), 1 (vision) or 2 (text)");
  if (found[1] != kNoFailure)
    return Status::Invalid("lengths", found[1], IntegerAt<std::int32_t>(lengths, dl, found[1], stage.stream()), LengthRule(keys));
  if (found[2] != kNoFailure)
    return Status::Invalid("attn", found[2], FloatAt(attn, da, found[2], stage.stream()), kExpectProbability);
  return Status::Ok();
}

Status StagedCoordinationScores(const CoordinationOperands& in, double tauVis, double tauTxt,
                                const CoordinationDestinations& out) {
  Stage stage;
  const std::size_t n = in.batch * in.steps, bytes = n * sizeof(float);
  const Operand* operands[4] = {&in.frVis, &in.frTxt, &in.ratioVis, &in.ratioTxt};
  const void* staged[4];
  for (int a = 0; a < 4; ++a) staged[a] = stage.In(*operands[a], bytes);
  const auto* dm = static_cast<const std::uint8_t*>(stage.In(in.mask, n));
  CoordinationInputs d{static_cast<const float*>(staged[0]), static_cast<const float*>(staged[1]),
                             static_cast<const float*>(staged[2]), static_cast<const float*>(staged[3]), dm, in.batch, in.steps};
  CoordinationOutputs o{static_cast<std::int8_t*>(stage.Out(out.roles, n)), static_cast<float*>(stage.Out(out.alignment, bytes)),
                              static_cast<float*>(stage.Out(out.sequenceScore, in.batch * sizeof(float)))};
  stage.Launch([&] { return CoordinationScores(d, tauVis, tauTxt, o, stage.failures(), stage.stream()); }, "running the kernels");
  stage.Place(out.roles, o.roles, n);
  stage.Place(out.alignment, o.alignment, bytes);
  stage.Place(out.sequenceScore, o.sequenceScore, in.batch * sizeof(float));
  const std::vector<FailureKey> keys = stage.Finish();
  if (keys[0] != kNoFailure)
    return Status::Invalid("mask", keys[0], IntegerAt<std::uint8_t>(in.mask, dm, keys[0], stage.stream()), kExpectMask);
  if (keys[1] != kNoFailure) {
    static const char* const names[4] = {"frVis", "frTxt", "ratioVis", "ratioTxt"};
    const std::size_t index = keys[1] / 4, a = keys[1] % 4;
    return Status::Invalid(names[a], index, FloatAt(*operands[a], staged[a], index, stage.stream()), kExpectFinite);
  }
  return Status::Ok();
}

Status StagedPolicyLoss(const PolicyLossOperands& in, const PolicyLossConfig& config, Destination grad,
                        PolicyLossMetrics* metrics) {
  Stage stage;
  const std::size_t n = in.batch * in.steps;
  const Operand* logs[3] = {&in.logp, &in.oldLogp, &in.refLogp};
  const void* staged[3];
  for (int a = 0; a < 3; ++a) staged[a] = stage.In(*logs[a], n * ElementBytes(logs[a]->dtype));
  const std::size_t advantageCount = in.perTokenAdvantages ? n : in.batch;
  const void* advantages = stage.In(in.advantages, advantageCount * sizeof(float));
  const auto* dm = static_cast<const std::uint8_t*>(stage.In(in.mask, n));
  PolicyLossDeviceInputs d{{staged[0], in.logp.dtype},
                           {staged[1], in.oldLogp.dtype},
                           {staged[2], in.refLogp.dtype},
                           static_cast<const float*>(advantages),
                           in.perTokenAdvantages,
                           dm,
                           in.batch,
                           in.steps};
  auto* g = static_cast<float*>(stage.Out(grad, n * sizeof(float)));
  auto* m = static_cast<double*>(stage.Out(Destination{}, 5 * sizeof(double)));
  stage.Launch([&] { return PolicyLoss(d, config, g, m, stage.failures(), stage.stream()); }, "running the kernels");
  stage.Place(grad, g, n * sizeof(float));
  double values[5];
  CopyToHost(values, m, sizeof values, stage.stream());
  const std::vector<FailureKey> keys = stage.Finish();
  if (keys[0] != kNoFailure)
    return Status::Invalid("mask", keys[0], IntegerAt<std::uint8_t>(in.mask, dm, keys[0], stage.stream()), kExpectMask);
  if (keys[1] != kNoFailure) {
    static const char* const names[4] = {"logp", "oldLogp", "refLogp", "advantages"};
    const std::size_t a = keys[1] / (n ? n : 1), index = keys[1] % (n ? n : 1);
    const double value = a < 3 ? FloatAt(*logs[a], staged[a], index, stage.stream())
                               : FloatAt(in.advantages, advantages, index, stage.stream());
    return Status::Invalid(names[a], index, value, kExpectFinite);
  }
  *metrics = PolicyLossMetrics{values[0], values[1], values[2], values[3], values[4]};
  return Status::Ok();
}

Status StagedLogitsPolicyLoss(const LogitsPolicyLossOperands& in, const PolicyLossConfig& config,
                              const LogitsGradientDestination& grad, Destination logp, PolicyLossMetrics* metrics) {
  // The CPU kernel's argument checks, in its order, before anything touches the device.
  if (!(in.temperature > 0.0) || !std::isfinite(in.temperature))
    return Status::Invalid("temperature", 0, in.temperature, "a finite number > 0");
  if (in.vocab == 0) return Status::Invalid("vocab", 0, 0.0, "an integer ≥ 1");
  Stage stage;
  const std::size_t n = in.batch * in.steps, entries = n * in.vocab;
  const std::size_t logitsBytes = entries * ElementBytes(in.logits.dtype);
  const void* dLogits = stage.In(in.logits, logitsBytes);
  const auto* dTargets = static_cast<const std::int32_t*>(stage.In(in.targets, n * sizeof(std::int32_t)));
  const Operand* logs[2] = {&in.oldLogp, &in.refLogp};
  const void* staged[2];
  for (int a = 0; a < 2; ++a) staged[a] = stage.In(*logs[a], n * ElementBytes(logs[a]->dtype));
  const std::size_t advantageCount = in.perTokenAdvantages ? n : in.batch;
  const auto* dAdvantages = static_cast<const float*>(stage.In(in.advantages, advantageCount * sizeof(float)));
  const auto* dm = static_cast<const std::uint8_t*>(stage.In(in.mask, n));
  auto* dLogp = static_cast<float*>(stage.Out(logp, n * sizeof(float)));
  auto* dMetrics = static_cast<double*>(stage.Out(Destination{}, 5 * sizeof(double)));
  void* dGrad = nullptr;
  if (grad.inPlace) dGrad = const_cast<void*>(dLogits);  // the DeviceArray itself, or this call's copy
  else if (grad.existing) dGrad = grad.existing;
  else if (grad.wanted()) dGrad = stage.Out(grad.out, entries * sizeof(float));
  const LogitsPolicyLossDeviceInputs d{{dLogits, in.logits.dtype},
                                       dTargets,
                                       in.temperature,
                                       {staged[0], in.oldLogp.dtype},
                                       {staged[1], in.refLogp.dtype},
                                       dAdvantages,
                                       in.perTokenAdvantages,
                                       dm,
                                       in.batch,
                                       in.steps,
                                       in.vocab};
  const LogitsPolicyLossDeviceOutputs o{dLogp, dMetrics, dGrad, grad.inPlace};
  stage.Launch([&] { return LogitsPolicyLoss(d, config, o, stage.failures(), stage.stream()); }, "running the kernels");
  stage.Place(logp, dLogp, n * sizeof(float));
  double values[5];
  CopyToHost(values, dMetrics, sizeof values, stage.stream());
  const std::vector<FailureKey> keys = stage.Finish();
  // The CPU's order of report: mask, targets, logits rows, then the loss terms.
  if (keys[0] != kNoFailure)
    return Status::Invalid("mask", keys[0], IntegerAt<std::uint8_t>(in.mask, dm, keys[0], stage.stream()), kExpectMask);
  if (keys[2] != kNoFailure)
    return Status::Invalid("targets", keys[2], IntegerAt<std::int32_t>(in.targets, dTargets, keys[2], stage.stream()),
                           "a token id in [0, " + std::to_string(in.vocab) + ")");
  if (keys[3] != kNoFailure) {
    const std::size_t row = keys[3], rowBytes = in.vocab * ElementBytes(in.logits.dtype);
    std::vector<unsigned char> host(rowBytes);
    CopyToHost(host.data(), static_cast<const unsigned char*>(dLogits) + row * rowBytes, rowBytes, stage.stream());
    Synchronize(stage.stream());
    const auto target = static_cast<std::int32_t>(IntegerAt<std::int32_t>(in.targets, dTargets, row, stage.stream()));
    return InvalidLogitsRow(host.data(), in.logits.dtype, in.vocab, in.steps, row, target);
  }
  if (keys[1] != kNoFailure) {
    static const char* const names[4] = {"logp", "oldLogp", "refLogp", "advantages"};
    const std::size_t a = keys[1] / (n ? n : 1), index = keys[1] % (n ? n : 1);
    const Operand logpOperand{dLogp, true, DType::kFloat32};
    const double value = a == 0   ? FloatAt(logpOperand, dLogp, index, stage.stream())
                         : a < 3  ? FloatAt(*logs[a - 1], staged[a - 1], index, stage.stream())
                                  : FloatAt(in.advantages, dAdvantages, index, stage.stream());
    return Status::Invalid(names[a], index, value, kExpectFinite);
  }
  // Every check passed: only now does a host gradient (a new array, options.gradLogits, or the host
  // logits in place) receive anything, so a failed call leaves the caller's buffers as they were.
  if (dGrad && !grad.inPlace && !grad.existing) stage.Place(grad.out, dGrad, entries * sizeof(float));
  if (grad.inPlace && !in.logits.onDevice) CopyToHost(const_cast<void*>(in.logits.data), dLogits, logitsBytes, stage.stream());
  Synchronize(stage.stream());
  *metrics = PolicyLossMetrics{values[0], values[1], values[2], values[3], values[4]};
  return Status::Ok();
}

}  // namespace dyco::cuda
