#include "kernel_call.hpp"

#include <cmath>
#include <exception>
#include <sstream>
#include <string>

namespace dyco::bind {
namespace {

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  std::ostringstream out;
  out.precision(9);
  out << value;
  return out.str();
}

class KernelWorker : public Napi::AsyncWorker {
 public:
  KernelWorker(Napi::Env env, std::unique_ptr<KernelCall> call)
      : Napi::AsyncWorker(env, "dyco-rl:kernel"), call_(std::move(call)), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      status_ = call_->Run();
    } catch (const std::exception& e) {
      SetError(std::string(call_->function) + ": " + e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (!status_.ok) {
      deferred_.Reject(StatusError(env, call_->function, status_).Value());
      return;
    }
    try {
      deferred_.Resolve(call_->Result(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  std::unique_ptr<KernelCall> call_;
  Napi::Promise::Deferred deferred_;
  Status status_;
};

}  // namespace

void KernelCall::Keep(const Napi::Object& object) {
  if (!object.IsEmpty()) kept_.push_back(Napi::Persistent(object));
}

Napi::Error StatusError(Napi::Env env, const char* function, const Status& status) {
  std::string message = std::string(function) + ": " + (status.argument ? status.argument : "input") + "[" +
                        std::to_string(status.index) + "] must be " + status.expected + " (got " +
                        FormatValue(status.value) + ")";
  return Napi::RangeError::New(env, message);
}

Napi::Value RunSync(const Napi::CallbackInfo& info, Prepare prepare) {
  std::unique_ptr<KernelCall> call = prepare(info);
  Status status;
  try {
    status = call->Run();
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string(call->function) + ": " + e.what());
  }
  if (!status.ok) throw StatusError(info.Env(), call->function, status);
  return call->Result(info.Env());
}

Napi::Value RunAsync(const Napi::CallbackInfo& info, Prepare prepare) {
  Napi::Env env = info.Env();
  std::unique_ptr<KernelCall> call;
  try {
    call = prepare(info);
  } catch (const Napi::Error& e) {
    auto rejected = Napi::Promise::Deferred::New(env);
    rejected.Reject(e.Value());
    return rejected.Promise();
  }
  auto* worker = new KernelWorker(env, std::move(call));  // deletes itself after OnOK/OnError
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

void ExportKernel(Napi::Env env, Napi::Object exports, const char* name, Prepare prepare, bool withAsync) {
  // The Prepare function pointer travels as the callback's data.
  auto* data = reinterpret_cast<void*>(prepare);
  exports.Set(name, Napi::Function::New(
                        env, [](const Napi::CallbackInfo& info) { return RunSync(info, reinterpret_cast<Prepare>(info.Data())); },
                        name, data));
  if (withAsync) {
    std::string asyncName = std::string(name) + "Async";
    exports.Set(asyncName, Napi::Function::New(
                               env,
                               [](const Napi::CallbackInfo& info) { return RunAsync(info, reinterpret_cast<Prepare>(info.Data())); },
                               asyncName, data));
  }
}

}  // namespace dyco::bind
