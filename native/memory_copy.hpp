// A multi-threaded memcpy over the kernels' thread pool: the bandwidth roofline the benchmark
// compares every kernel with, measured on the same machine in the same run.
#pragma once
#include <cstddef>

namespace dyco {

void CopyMemory(const void* src, void* dst, std::size_t bytes);

}  // namespace dyco
