#include "fisher_rao.hpp"

#include <algorithm>

#include "checks.hpp"
#include "failure.hpp"
#include "parallel.hpp"
#include "row_math.hpp"

namespace dyco {
namespace {

// Rough cost of one row entry (two square roots) relative to a plain add, for ParallelFor.
constexpr double kEntryCost = 4.0;

// Finds the first invalid entry among the given segments of `base`, in the order given.
Status LocateInvalid(const char* name, const float* base, std::size_t offsetA, std::size_t offsetB, std::size_t n) {
  for (std::size_t offset : {offsetA, offsetB}) {
    std::size_t k = FirstInvalid(base + offset, n);
    if (k < n) return Status::Invalid(name, offset + k, base[offset + k], kExpectProbability);
  }
  return Status::Ok();
}

}  // namespace

Status FisherRao(const float* p, const float* q, std::size_t rows, std::size_t cols, float* out) {
  FirstFailure failure;
  ParallelFor(rows, kEntryCost * static_cast<double>(cols), [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      const float* a = p + i * cols;
      const float* b = q + i * cols;
      Mass ma = SumChecked(a, cols), mb = SumChecked(b, cols);
      if (!ma.valid || !mb.valid) {
        failure.Record(i);
        out[i] = 0.0f;
        continue;
      }
      out[i] = FisherRaoOfSegments(a, ma.sum, b, mb.sum, cols);
    }
  });
  if (!failure.any()) return Status::Ok();
  std::size_t row = failure.item(), offset = row * cols;
  std::size_t k = FirstInvalid(p + offset, cols);
  if (k < cols) return Status::Invalid("p", offset + k, p[offset + k], kExpectProbability);
  k = FirstInvalid(q + offset, cols);
  return Status::Invalid("q", offset + k, q[offset + k], kExpectProbability);
}

Status FisherRaoAdjacent(const float* x, std::size_t batch, std::size_t steps, std::size_t width,
                         const std::int32_t* lengths, float* out) {
  FirstFailure failure;
  // Flat rows split into contiguous chunks: the previous row of each pair is still in cache from
  // the iteration before, so every row is read from memory once. Its mass is reused too: each row's
  // mass is also taken up to the prefix the next pair will need, split at the current prefix.
  ParallelFor(batch * steps, kEntryCost * static_cast<double>(width), [&](std::size_t begin, std::size_t end) {
    std::size_t cachedRow = FirstFailure::kNone, cachedPrefix = 0;
    Mass cachedMass{0.0, true};
    for (std::size_t i = begin; i < end; ++i) {
      std::size_t t = i % steps;
      if (t == 0) {
        out[i] = 0.0f;
        continue;
      }
      std::size_t lenPrev = LengthAt(lengths, i - 1, width), lenCur = LengthAt(lengths, i, width);
      std::size_t m = std::min(lenPrev, lenCur);
      const float* prev = x + (i - 1) * width;
      const float* cur = x + i * width;
      Mass mp = cachedRow == i - 1 && cachedPrefix == m ? cachedMass : SumChecked(prev, m);
      Mass mc = SumChecked(cur, m);
      // The next pair of this sequence compares this row over min(lenCur, lenNext) ≥ m or < m.
      std::size_t next = t + 1 < steps ? std::min(lenCur, LengthAt(lengths, i + 1, width)) : m;
      cachedRow = i;
      cachedPrefix = next;
      if (next == m) {
        cachedMass = mc;
      } else if (next > m) {
        Mass tail = SumChecked(cur + m, next - m);
        cachedMass = {mc.sum + tail.sum, mc.valid && tail.valid};
      } else {
        cachedRow = FirstFailure::kNone;  // shrinking context: the next pair sums its own prefix
      }
      if (!mp.valid || !mc.valid) {
        failure.Record(i);
        out[i] = 0.0f;
        continue;
      }
      out[i] = FisherRaoOfSegments(prev, mp.sum, cur, mc.sum, m);
    }
  });
  if (!failure.any()) return Status::Ok();
  std::size_t i = failure.item();
  std::size_t lenPrev = LengthAt(lengths, i - 1, width), lenCur = LengthAt(lengths, i, width);
  return LocateInvalid("x", x, (i - 1) * width, i * width, std::min(lenPrev, lenCur));
}

}  // namespace dyco
