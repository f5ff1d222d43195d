// Token sampling on the host from one logits row: temperature, nucleus (top-p) truncation and an
// inverse-CDF draw from the policy's own seeded generator. Doing it here (not with LibTorch's
// global generator) makes a rollout a pure function of the seed, the weights and the inputs, on
// every LibTorch version.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace dyco::runner {

struct SamplingOptions {
  double temperature = 1.0;  // 0: greedy
  double topP = 1.0;         // keep the smallest set of most likely tokens whose mass reaches topP
};

struct SampledToken {
  std::int32_t token;
  // log-probability of the token under softmax(logits / temperature) over the whole vocabulary
  // (before top-p truncation), which is what a teacher-forced pass at the same temperature gives;
  // for greedy decoding, under softmax(logits).
  float logprob;
};

// A uniform double in [0, 1) with 53 random bits.
double UniformDouble(std::mt19937_64& generator);

// `scratch` is reused across calls to avoid allocating per token.
SampledToken SampleToken(const float* logits, std::size_t vocab, const SamplingOptions& options,
                         std::mt19937_64& generator, std::vector<double>& scratch, std::vector<std::int32_t>& order);

}  // namespace dyco::runner
