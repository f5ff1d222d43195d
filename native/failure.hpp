// Records the lowest-numbered item that failed validation inside a ParallelFor, so the error a user
// sees is the first bad element in memory order, whatever the thread count.
#pragma once
#include <atomic>
#include <cstddef>
#include <limits>

namespace dyco {

class FirstFailure {
 public:
  static constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
  void Record(std::size_t item) {
    std::size_t current = item_.load(std::memory_order_relaxed);
    while (item < current && !item_.compare_exchange_weak(current, item, std::memory_order_relaxed)) {
    }
  }
  bool any() const { return item_.load() != kNone; }
  std::size_t item() const { return item_.load(); }

 private:
  std::atomic<std::size_t> item_{kNone};
};

}  // namespace dyco
