// Batched Fisher–Rao distances between probability rows (method §3), on the CPU.
#pragma once
#include <cstddef>
#include <cstdint>

#include "status.hpp"

namespace dyco {

// out[i] = FR between row i of p and row i of q (rows × cols, row-major), each row normalised
// first; a zero-mass row is uniform. Rejects negative, NaN and infinite entries.
Status FisherRao(const float* p, const float* q, std::size_t rows, std::size_t cols, float* out);

// out[b*steps + t] = FR between rows (b,t−1) and (b,t) of x (batch × steps × width) over their first
// m = min(len[t−1], len[t]) entries, each renormalised over that prefix; 0 at t = 0 or m = 0.
// lengths may be null (every row is `width` long); otherwise it must already be checked.
Status FisherRaoAdjacent(const float* x, std::size_t batch, std::size_t steps, std::size_t width,
                         const std::int32_t* lengths, float* out);

}  // namespace dyco
