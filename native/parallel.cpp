#include "parallel.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace dyco {
namespace {

// Below this much work (in "element operations") threads cost more than they save.
constexpr double kMinParallelWork = 1 << 16;
// Chunks per thread: more than one so that a thread the OS did not schedule in time leaves its
// share to the others instead of holding up the call.
constexpr std::size_t kChunksPerThread = 4;
// How long an idle thread spins (yielding) for the next job before sleeping: waking a sleeping
// thread costs ~50 µs in a VM, more than most kernel calls, and a training step runs several
// kernels back to back.
constexpr auto kSpin = std::chrono::microseconds(100);

std::size_t ReadThreadCount() {
  if (const char* env = std::getenv("DYCO_RL_NUM_THREADS")) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (end != env && n >= 1 && n <= 1024) return static_cast<std::size_t>(n);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Polls `ready` for up to kSpin, yielding the core every few polls so that, when threads outnumber
// free cores, the thread being waited for can run. Returns whether `ready` became true.
template <typename Ready>
bool SpinUntil(Ready ready) {
  auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (unsigned n = 1;; ++n) {
    if (ready()) return true;
    CpuRelax();
    if (n % 64 == 0) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
  }
}

// Work is claimed chunk by chunk from an atomic counter by the caller and whichever workers are
// awake: the caller waits only for chunks a worker has actually started, never for a worker that
// is still asleep or descheduled.
class ThreadPool {
 public:
  explicit ThreadPool(std::size_t threads) : size_(threads) {
    for (std::size_t i = 1; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
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

  // Runs body over [0, n) in `chunks` contiguous chunks. Returns false without running anything
  // when another caller is inside.
  bool TryRun(std::size_t n, std::size_t chunks, const std::function<void(std::size_t, std::size_t)>& body) {
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) return false;
    body_ = &body;
    items_ = n;
    chunks_ = chunks;
    next_.store(0);
    done_.store(0);
    open_.store(true);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    RunChunks();
    if (!SpinUntil([this] { return done_.load() == chunks_; })) {
      std::unique_lock<std::mutex> lock(mutex_);
      finished_.wait(lock, [this] { return done_.load() == chunks_; });
    }
    // Close the job, then wait out any worker that entered it: after this nobody reads body_.
    // (open_ and active_ are sequentially consistent: a worker either sees the job closed or is
    // counted in active_ here.)
    open_.store(false);
    while (active_.load() != 0) std::this_thread::yield();
    return true;
  }

 private:
  void RunChunks() {
    for (;;) {
      std::size_t chunk = next_.fetch_add(1);
      if (chunk >= chunks_) return;
      std::size_t begin = items_ * chunk / chunks_, end = items_ * (chunk + 1) / chunks_;
      if (begin < end) (*body_)(begin, end);
      if (done_.fetch_add(1) + 1 == chunks_) {
        std::lock_guard<std::mutex> lock(mutex_);
        finished_.notify_one();
      }
    }
  }

  void WorkerLoop() {
    std::size_t seen = 0;
    for (;;) {
      auto fresh = [&] { return generation_.load() != seen; };
      if (!SpinUntil(fresh)) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || fresh(); });
        if (stopping_) return;
      }
      seen = generation_.load();
      active_.fetch_add(1);
      if (open_.load()) RunChunks();
      active_.fetch_sub(1);
    }
  }

  std::size_t size_;
  std::vector<std::thread> workers_;
  std::mutex busy_;   // held by the one caller using the pool
  std::mutex mutex_;  // pairs with the condition variables
  std::condition_variable wake_, finished_;
  bool stopping_ = false;  // guarded by mutex_

  // The current job; written by the caller before open_ is set, read by workers inside it.
  const std::function<void(std::size_t, std::size_t)>* body_ = nullptr;
  std::size_t items_ = 0;
  std::size_t chunks_ = 0;
  std::atomic<std::size_t> next_{0};
  std::atomic<std::size_t> done_{0};
  std::atomic<bool> open_{false};
  std::atomic<std::size_t> active_{0};
  std::atomic<std::size_t> generation_{0};
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
  if (pool.size() <= 1 || n < 2 || static_cast<double>(n) * costPerItem < kMinParallelWork) {
    body(0, n);
    return;
  }
  std::size_t chunks = std::min(n, pool.size() * kChunksPerThread);
  if (!pool.TryRun(n, chunks, body)) body(0, n);
}

}  // namespace dyco
