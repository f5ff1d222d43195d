#include "memory_copy.hpp"

#include <cstring>

#include "parallel.hpp"

namespace dyco {

void CopyMemory(const void* src, void* dst, std::size_t bytes) {
  constexpr std::size_t kBlock = 1 << 16;  // split on 64 KiB blocks so every thread streams whole pages
  std::size_t blocks = (bytes + kBlock - 1) / kBlock;
  const char* from = static_cast<const char*>(src);
  char* to = static_cast<char*>(dst);
  ParallelFor(blocks, static_cast<double>(kBlock), [&](std::size_t begin, std::size_t end) {
    std::size_t first = begin * kBlock, last = end * kBlock < bytes ? end * kBlock : bytes;
    std::memcpy(to + first, from + first, last - first);
  });
}

}  // namespace dyco
