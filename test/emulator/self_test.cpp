// Checks the emulator itself (scripts/test-cuda-emulated.sh runs it before test/cuda): that warp
// shuffles, votes and barriers mean what they mean on a GPU, that every block and thread runs, that fresh
// device memory reads as NaN, and that each misuse it promises to catch is caught: divergent
// barriers and shuffles (launch failure), a missing barrier (wrong results under the warps-ahead
// schedule), a read past an allocation (the process faults), a copy outside an allocation
// (invalid value). Each misuse runs in a child process, since a kernel fault
// is sticky for the rest of a process, as on a GPU. Exits 0 when everything holds.
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <functional>
#include <vector>

#include "emulated_cuda.hpp"

using dyco::emulator::Args;
using dyco::emulator::Launch;

namespace {

int gFailures = 0;

void Expect(bool ok, const char* what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok) ++gFailures;
}

// out[block·256 + thread] = (the warp's sum of thread indices, lane ^ 5's index, the block's sum).
__global__ void Reductions(unsigned* out) {
  __shared__ unsigned warpSums[8];
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  unsigned sum = threadIdx.x;
  for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
  const unsigned partner = __shfl_xor_sync(0xffffffffu, threadIdx.x, 5);
  if (lane == 0) warpSums[warp] = sum;
  __syncthreads();
  unsigned block = 0;
  for (int w = 0; w < 8; ++w) block += warpSums[w];
  unsigned* o = out + 3 * (blockIdx.x * blockDim.x + threadIdx.x);
  o[0] = sum;
  o[1] = partner;
  o[2] = block + blockIdx.x * gridDim.x;
}

// Two block sums through the same shared slots, without the barrier that must separate the second
// sum's writes from the first sum's reads: under warps-ahead a warp that runs ahead overwrites
// slots another warp has not read yet. out[thread] = first sum (every thread should see 256·255/2).
__global__ void MissingBarrier(unsigned* out) {
  __shared__ unsigned slots[8];
  unsigned totals[2];
  for (int round = 0; round < 2; ++round) {
    unsigned v = round == 0 ? threadIdx.x : 1000000u;
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
    if (threadIdx.x % 32 == 0) slots[threadIdx.x / 32] = v;
    __syncthreads();
    totals[round] = 0;
    for (int w = 0; w < 8; ++w) totals[round] += slots[w];
    // (the __syncthreads() that belongs here is missing)
  }
  out[threadIdx.x] = totals[0];
}

// out[block·256 + thread] = (the warp's vote on "lane 3 of an even warp, or thread 37 of block 1",
// the block's OR barrier on "thread 200 of block 2").
__global__ void Votes(int* out) {
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int warpVote = __any_sync(0xffffffffu, (warp % 2 == 0 && lane == 3) || (blockIdx.x == 1 && threadIdx.x == 37));
  const int blockVote = __syncthreads_or(blockIdx.x == 2 && threadIdx.x == 200);
  int* o = out + 2 * (blockIdx.x * blockDim.x + threadIdx.x);
  o[0] = warpVote;
  o[1] = blockVote;
}

__global__ void BarrierInDivergentCode() {
  if (threadIdx.x < 100) __syncthreads();
  else __syncthreads();  // another barrier
}

__global__ void ShuffleInDivergentCode(float* out) {
  float v = 1.0f;
  if (threadIdx.x % 32 < 16) v = __shfl_xor_sync(0xffffffffu, v, 1);
  out[threadIdx.x] = v;
}

__global__ void ReadPastTheEnd(const float* in, float* out, int n) { out[threadIdx.x] = in[n + threadIdx.x]; }

// Runs f in a child process; returns its wait status.
int InChild(const std::function<int()>& f) {
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) _exit(f());
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

bool ExitedWith(int status, int code) { return WIFEXITED(status) && WEXITSTATUS(status) == code; }

}  // namespace

int main() {
  {
    constexpr unsigned kBlocks = 3, kThreads = 256;
    unsigned* d = nullptr;
    cudaMalloc(reinterpret_cast<void**>(&d), 3 * kBlocks * kThreads * sizeof(unsigned));
    Reductions * Launch(kBlocks, kThreads, 0, nullptr) | Args(d);
    Expect(cudaGetLastError() == cudaSuccess, "a correct kernel launches without error");
    std::vector<unsigned> h(3 * kBlocks * kThreads);
    cudaMemcpyAsync(h.data(), d, h.size() * sizeof(unsigned), cudaMemcpyDeviceToHost, nullptr);
    bool sums = true, partners = true, blocks = true;
    for (unsigned b = 0; b < kBlocks; ++b)
      for (unsigned t = 0; t < kThreads; ++t) {
        const unsigned* o = &h[3 * (b * kThreads + t)];
        const unsigned first = t / 32 * 32;
        sums &= o[0] == 32 * first + 31 * 32 / 2;
        partners &= o[1] == (t ^ 5u);
        blocks &= o[2] == kThreads * (kThreads - 1) / 2 + b * kBlocks;
      }
    Expect(sums, "an xor-butterfly of shuffles leaves every lane with its warp's sum");
    Expect(partners, "__shfl_xor_sync(mask, v, 5) reads lane ^ 5");
    Expect(blocks, "shared memory written before __syncthreads is read after it, in every block");
    cudaFree(d);
  }
  {
    constexpr unsigned kBlocks = 3, kThreads = 256;
    int* d = nullptr;
    cudaMalloc(reinterpret_cast<void**>(&d), 2 * kBlocks * kThreads * sizeof(int));
    Votes * Launch(kBlocks, kThreads, 0, nullptr) | Args(d);
    std::vector<int> h(2 * kBlocks * kThreads);
    cudaMemcpyAsync(h.data(), d, h.size() * sizeof(int), cudaMemcpyDeviceToHost, nullptr);
    bool warpVotes = true, blockVotes = true;
    for (unsigned b = 0; b < kBlocks; ++b)
      for (unsigned t = 0; t < kThreads; ++t) {
        const unsigned warp = t / 32;
        warpVotes &= h[2 * (b * kThreads + t)] == ((warp % 2 == 0 || (b == 1 && warp == 1)) ? 1 : 0);
        blockVotes &= h[2 * (b * kThreads + t) + 1] == (b == 2 ? 1 : 0);
      }
    Expect(warpVotes, "__any_sync is 1 on every lane of a warp where one lane's predicate holds, 0 elsewhere");
    Expect(blockVotes, "__syncthreads_or is non-zero on every thread of the block where one thread's predicate holds, 0 elsewhere");
    cudaFree(d);
  }
  {
    float* d = nullptr;
    cudaMalloc(reinterpret_cast<void**>(&d), 3 * sizeof(float));
    float h[3];
    cudaMemcpyAsync(h, d, sizeof h, cudaMemcpyDeviceToHost, nullptr);
    Expect(std::isnan(h[0]) && std::isnan(h[2]), "fresh device memory reads as NaN");
    Expect(cudaMemcpyAsync(h, d + 1, sizeof h, cudaMemcpyDeviceToHost, nullptr) == cudaErrorInvalidValue,
           "a copy that runs past an allocation is an invalid value");
    cudaGetLastError();
    cudaFree(d);
  }
  {
    // Whether a missing barrier shows depends on the schedule: run it under both, each in a child
    // that reads the schedule from its environment.
    auto wrongSums = [](const char* schedule) {
      return InChild([schedule] {
        setenv("DYCO_RL_CUDA_EMULATOR_SCHEDULE", schedule, 1);
        unsigned* d = nullptr;
        cudaMalloc(reinterpret_cast<void**>(&d), 256 * sizeof(unsigned));
        MissingBarrier * Launch(1, 256, 0, nullptr) | Args(d);
        unsigned h[256];
        cudaMemcpyAsync(h, d, sizeof h, cudaMemcpyDeviceToHost, nullptr);
        int wrong = 0;
        for (unsigned v : h) wrong += v != 256 * 255 / 2;
        return wrong > 0 ? 1 : 0;
      });
    };
    Expect(ExitedWith(wrongSums("lockstep"), 0), "lockstep: warps advance together, so the missing barrier goes unseen");
    Expect(ExitedWith(wrongSums("warps-ahead"), 1), "warps-ahead: a warp running ahead overwrites unread shared memory");
  }
  Expect(ExitedWith(InChild([] {
                      BarrierInDivergentCode * Launch(1, 256, 0, nullptr) | Args();
                      return cudaGetLastError() == cudaErrorLaunchFailure && cudaStreamSynchronize(nullptr) == cudaErrorLaunchFailure ? 0 : 1;
                    }),
                    0),
         "barriers at different places are a sticky launch failure");
  Expect(ExitedWith(InChild([] {
                      float* d = nullptr;
                      cudaMalloc(reinterpret_cast<void**>(&d), 256 * sizeof(float));
                      ShuffleInDivergentCode * Launch(1, 256, 0, nullptr) | Args(d);
                      return cudaGetLastError() == cudaErrorLaunchFailure ? 0 : 1;
                    }),
                    0),
         "a full-warp shuffle reached by half a warp is a launch failure");
  const int fault = InChild([] {
    float *in = nullptr, *out = nullptr;
    cudaMalloc(reinterpret_cast<void**>(&in), 1024 * sizeof(float));
    cudaMalloc(reinterpret_cast<void**>(&out), 256 * sizeof(float));
    ReadPastTheEnd * Launch(1, 256, 0, nullptr) | Args(static_cast<const float*>(in), out, 1000);
    return 0;
  });
  Expect(WIFSIGNALED(fault) && WTERMSIG(fault) == SIGSEGV, "a read past the end of an allocation faults");
  std::printf("%s\n", gFailures ? "the CUDA emulator's self-test FAILED" : "the CUDA emulator's self-test passed");
  return gFailures ? 1 : 0;
}
