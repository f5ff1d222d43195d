#include "parallel.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace dyco {
namespace {

// Below this much work (in "element operations") threads cost more than they save.
constexpr double kMinParallelWork = 1 << 16;

std::size_t ReadThreadCount() {
  if (const char* env = std::getenv("DYCO_RL_NUM_THREADS")) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (end != env && n >= 1 && n <= 1024) return static_cast<std::size_t>(n);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

class ThreadPool {
 public:
  explicit ThreadPool(std::size_t threads) : size_(threads) {
    for (std::size_t i = 1; i < threads; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }
  std::size_t size() const { return size_; }

  // Runs task(worker) for worker in [0, size); the caller is worker 0. Returns false without
  // running anything when another caller is inside.
  bool TryRun(const std::function<void(std::size_t)>& task) {
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = &task;
      pending_ = workers_.size();
      ++generation_;
    }
    wake_.notify_all();
    task(0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
    task_ = nullptr;
    return true;
  }

 private:
  void WorkerLoop(std::size_t index) {
    std::size_t seen = 0;
    for (;;) {
      const std::function<void(std::size_t)>* task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
        task = task_;
      }
      (*task)(index);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::size_t size_;
  std::vector<std::thread> workers_;
  std::mutex busy_;   // held by the one caller using the pool
  std::mutex mutex_;  // guards the fields below
  std::condition_variable wake_, done_;
  const std::function<void(std::size_t)>* task_ = nullptr;
  std::size_t pending_ = 0;
  std::size_t generation_ = 0;
  bool stopping_ = false;
};

ThreadPool& Pool() {
  // Leaked on purpose: joining threads from a static destructor at process exit can deadlock
  // when Node tears down the addon.
  static ThreadPool* pool = new ThreadPool(ReadThreadCount());
  return *pool;
}

}  // namespace

std::size_t ThreadCount() { return Pool().size(); }

void ParallelFor(std::size_t n, double costPerItem, const std::function<void(std::size_t, std::size_t)>& body) {
  if (n == 0) return;
  ThreadPool& pool = Pool();
  std::size_t parts = std::min(pool.size(), n);
  if (parts <= 1 || static_cast<double>(n) * costPerItem < kMinParallelWork) {
    body(0, n);
    return;
  }
  auto chunk = [&](std::size_t worker) {
    std::size_t begin = n * worker / parts, end = n * (worker + 1) / parts;
    if (begin < end) body(begin, end);
  };
  auto task = [&](std::size_t worker) {
    if (worker < parts) chunk(worker);
  };
  if (!pool.TryRun(task)) body(0, n);
}

}  // namespace dyco
