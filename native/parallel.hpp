// A small persistent thread pool for splitting row-parallel kernels. Work is cut into contiguous
// chunks and each output element is computed by exactly one thread with a fixed order of
// operations, so results never depend on the number of threads.
#pragma once
#include <cstddef>
#include <functional>

namespace dyco {

// Threads used by ParallelFor (the calling thread included). Set once from DYCO_RL_NUM_THREADS or
// std::thread::hardware_concurrency().
std::size_t ThreadCount();

// Calls body(begin, end) over disjoint contiguous sub-ranges covering [0, n). Runs inline when the
// work is small (n * costPerItem below a threshold) or the pool is busy with another caller (an
// async call on a libuv thread, say): the pool is never entered twice at once.
void ParallelFor(std::size_t n, double costPerItem, const std::function<void(std::size_t, std::size_t)>& body);

}  // namespace dyco
