// Runs an emulated kernel: the blocks of the grid one after another, the threads of a block as
// fibers (fiber_context.hpp) on the calling OS thread. A fiber runs until it reaches a warp shuffle or
// __syncthreads, or returns; the scheduler completes a warp's shuffle once its 32 lanes all wait at
// one, and releases a barrier once every live thread of the block reached it at the same place.
// Two schedules order the warps between barriers (see Schedule below). Anything else (a shuffle
// with a lane that has returned or waits at a barrier, barriers at different places) is the
// undefined behaviour of divergent synchronisation on a GPU, reported as a kernel fault naming the
// block, the threads and the lines.
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "emulator_state.hpp"
#include "fiber_context.hpp"

namespace dyco::emulator {
namespace {

constexpr int kWarpLanes = 32;
constexpr unsigned kMaxBlockThreads = 1024;
// Kernels keep small register arrays and lambdas on their stack; 256 KiB leaves room for
// unoptimised and sanitizer builds. A guard page below each stack turns an overflow into a fault.
constexpr std::size_t kStackBytes = 256 << 10;

enum class State { kRunnable, kShuffle, kSync, kDone };

struct Fiber {
  FiberContext context;
  uint3 index;
  State state = State::kDone;
  // Where it waits (a barrier's source line) and what it brings to a shuffle.
  const char* file = nullptr;
  int line = 0;
  unsigned mask = 0;
  int laneMask = 0;
  std::size_t bytes = 0;
  unsigned char value[8] = {};
  unsigned char result[8] = {};
  // What it brings to a barrier (__syncthreads_or) and what the barrier gives back: the OR over the block.
  int predicate = 0;
  int barrierOr = 0;
};

// Fiber stacks, mapped once and reused by every block (pages are committed as they are touched).
struct Stacks {
  std::vector<char*> bottoms;
  char* Get(std::size_t i) {
    while (bottoms.size() <= i) {
      const long page = sysconf(_SC_PAGESIZE);
      void* base = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (base == MAP_FAILED) {
        std::perror("[dyco-rl CUDA emulator] mapping a fiber stack");
        std::abort();
      }
      mprotect(base, page, PROT_NONE);
      bottoms.push_back(static_cast<char*>(base) + page);
    }
    return bottoms[i];
  }
};

// The launch in progress. One at a time (gLaunchMutex), so plain globals.
std::mutex gLaunchMutex;
Stacks gStacks;
std::vector<Fiber> gFibers;
FiberContext gSchedulerContext;
Fiber* gCurrent = nullptr;
const std::function<void()>* gBody = nullptr;
uint3 gBlockIndex{0, 0, 0};
dim3 gBlockDim, gGridDim;
volatile sig_atomic_t gInKernel = 0;

[[noreturn]] void OutsideKernel(const char* what) {
  std::fprintf(stderr, "[dyco-rl CUDA emulator] %s used outside a kernel\n", what);
  std::abort();
}

void Yield() { SwitchContext(gCurrent->context, gSchedulerContext); }

// A fiber's life: the kernel body, then back to the scheduler for good.
[[noreturn]] void FiberEntry() {
  (*gBody)();
  gCurrent->state = State::kDone;
  Yield();
  std::abort();  // a finished fiber is never resumed
}

// Runs a fiber until it yields or returns.
void Resume(Fiber& f) {
  gCurrent = &f;
  SwitchContext(gSchedulerContext, f.context);
  gCurrent = nullptr;
}

std::string Where(const Fiber& f) {
  return "thread (" + std::to_string(f.index.x) + "," + std::to_string(f.index.y) + "," + std::to_string(f.index.z) + ")";
}

std::string Waiting(const Fiber& f) {
  switch (f.state) {
    case State::kShuffle: return "waits at a warp shuffle";
    case State::kSync: return std::string("waits at __syncthreads (") + f.file + ":" + std::to_string(f.line) + ")";
    case State::kDone: return "has returned";
    default: return "runs";
  }
}

// Completes warp w's shuffle if its lanes wait at one. An error text when some lanes wait at a
// shuffle and others are elsewhere, or the lanes disagree on what they exchange.
bool CompleteShuffle(std::size_t w, std::size_t threads, std::string& error) {
  const std::size_t first = w * kWarpLanes;
  const std::size_t lanes = std::min<std::size_t>(kWarpLanes, threads - first);
  Fiber* warp = &gFibers[first];
  const Fiber* shuffling = std::find_if(warp, warp + lanes, [](const Fiber& x) { return x.state == State::kShuffle; });
  if (shuffling == warp + lanes) return false;
  const unsigned fullMask = lanes == kWarpLanes ? 0xffffffffu : (1u << lanes) - 1u;
  for (std::size_t l = 0; l < lanes; ++l) {
    const Fiber& f = warp[l];
    if (f.state != State::kShuffle) {
      error = "divergent warp shuffle: " + Where(*shuffling) + " waits at a shuffle while " + Where(f) + " " + Waiting(f);
      return false;
    }
    if (f.mask != fullMask) {
      error = "warp shuffle with mask " + std::to_string(f.mask) + " by " + Where(f) + ": only full-warp masks are emulated";
      return false;
    }
    if (f.laneMask != warp[0].laneMask || f.bytes != warp[0].bytes) {
      error = "lanes of one warp shuffle different values: " + Where(warp[0]) + " and " + Where(f);
      return false;
    }
    if (f.laneMask < 0 || static_cast<std::size_t>(l ^ f.laneMask) >= lanes) {
      error = "warp shuffle by " + Where(f) + " with lane mask " + std::to_string(f.laneMask) + " leaves the warp";
      return false;
    }
  }
  for (std::size_t l = 0; l < lanes; ++l) {
    std::memcpy(warp[l].result, warp[l ^ warp[l].laneMask].value, warp[l].bytes);
    warp[l].state = State::kRunnable;
  }
  return true;
}

// The order in which the warps of a block make progress between barriers (DYCO_RL_CUDA_EMULATOR_SCHEDULE):
// - lockstep (default): every thread runs to its next shuffle or barrier before any shuffle
//   completes, so all warps advance together;
// - warps-ahead: the last warp first runs as far as it can (its shuffles complete as soon as its
//   lanes arrive) until it waits at a barrier or returns, then the one before it, and so on. A
//   missing barrier then shows: a warp that runs ahead overwrites shared memory that the others
//   have not read yet (or reads what they have not written), and the results go wrong.
enum class Schedule { kLockstep, kWarpsAhead };

Schedule ScheduleFromEnvironment() {
  const char* text = std::getenv("DYCO_RL_CUDA_EMULATOR_SCHEDULE");
  if (!text || !*text || std::strcmp(text, "lockstep") == 0) return Schedule::kLockstep;
  if (std::strcmp(text, "warps-ahead") == 0) return Schedule::kWarpsAhead;
  std::fprintf(stderr, "[dyco-rl CUDA emulator] DYCO_RL_CUDA_EMULATOR_SCHEDULE must be lockstep or warps-ahead (got '%s')\n", text);
  std::abort();
}

// Runs the runnable lanes of warp w until each waits or returns.
void RunWarp(std::size_t w, std::size_t threads) {
  const std::size_t end = std::min<std::size_t>((w + 1) * kWarpLanes, threads);
  for (std::size_t t = w * kWarpLanes; t < end; ++t)
    if (gFibers[t].state == State::kRunnable) Resume(gFibers[t]);
}

// Runs one block to completion; false with the reason when its synchronisation goes wrong.
bool RunBlock(std::size_t threads, Schedule schedule, std::string& error) {
  for (std::size_t t = 0; t < threads; ++t) {
    Fiber& f = gFibers[t];
    f.index = {static_cast<unsigned>(t % gBlockDim.x), static_cast<unsigned>(t / gBlockDim.x % gBlockDim.y),
               static_cast<unsigned>(t / (gBlockDim.x * gBlockDim.y))};
    f.state = State::kRunnable;
    StartContext(f.context, gStacks.Get(t), kStackBytes, FiberEntry);
  }
  const std::size_t warps = (threads + kWarpLanes - 1) / kWarpLanes;
  for (;;) {
    if (schedule == Schedule::kLockstep) {
      bool released = true;
      while (released) {
        for (std::size_t w = 0; w < warps; ++w) RunWarp(w, threads);
        released = false;
        for (std::size_t w = 0; w < warps; ++w) released |= CompleteShuffle(w, threads, error);
        if (!error.empty()) return false;
      }
    } else {
      for (std::size_t w = warps; w-- > 0;) {
        do RunWarp(w, threads);
        while (CompleteShuffle(w, threads, error));
        if (!error.empty()) return false;
      }
    }
    // Every live fiber now waits at a barrier.
    const Fiber* first = nullptr;
    for (std::size_t t = 0; t < threads; ++t) {
      Fiber& f = gFibers[t];
      if (f.state != State::kSync) continue;
      if (!first) {
        first = &f;
      } else if (f.line != first->line || std::strcmp(f.file, first->file) != 0) {
        error = "threads of one block wait at different barriers: " + Where(*first) + " " + Waiting(*first) + ", " +
                Where(f) + " " + Waiting(f);
        return false;
      }
    }
    if (!first) return true;  // every thread has returned
    int barrierOr = 0;
    for (std::size_t t = 0; t < threads; ++t)
      if (gFibers[t].state == State::kSync) barrierOr |= gFibers[t].predicate;
    for (std::size_t t = 0; t < threads; ++t) {
      if (gFibers[t].state != State::kSync) continue;
      gFibers[t].barrierOr = barrierOr;
      gFibers[t].state = State::kRunnable;
    }
  }
}

// A fault inside a kernel (a read past an allocation into its guard page, say) names the block,
// the thread and the allocation, then takes the default action (the process ends, as a GPU
// context would be lost). Faults elsewhere go to whatever handler was there before.
struct sigaction gPreviousSegv, gPreviousBus;

void OnFault(int number, siginfo_t* info, void* context) {
  if (gInKernel && gCurrent) {
    char where[256];
    DescribeAddress(info->si_addr, where, sizeof where);
    char message[512];
    const int n = std::snprintf(message, sizeof message,
                                "[dyco-rl CUDA emulator] invalid memory access at %p by block (%u,%u,%u) thread (%u,%u,%u)%s\n",
                                info->si_addr, gBlockIndex.x, gBlockIndex.y, gBlockIndex.z, gCurrent->index.x,
                                gCurrent->index.y, gCurrent->index.z, where);
    if (n > 0) (void)!write(STDERR_FILENO, message, static_cast<std::size_t>(n));
    ::signal(number, SIG_DFL);
    return;  // the access faults again, now fatally
  }
  const struct sigaction& previous = number == SIGSEGV ? gPreviousSegv : gPreviousBus;
  if (previous.sa_flags & SA_SIGINFO) {
    previous.sa_sigaction(number, info, context);
  } else if (previous.sa_handler == SIG_IGN) {
    return;
  } else if (previous.sa_handler != SIG_DFL) {
    previous.sa_handler(number);
  } else {
    ::signal(number, SIG_DFL);
  }
}

void InstallFaultHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = OnFault;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &gPreviousSegv);
    sigaction(SIGBUS, &action, &gPreviousBus);
  });
}

}  // namespace

const uint3& ThreadIndex() {
  if (!gCurrent) OutsideKernel("threadIdx");
  return gCurrent->index;
}
const uint3& BlockIndex() {
  if (!gCurrent) OutsideKernel("blockIdx");
  return gBlockIndex;
}
const dim3& BlockDim() {
  if (!gCurrent) OutsideKernel("blockDim");
  return gBlockDim;
}
const dim3& GridDim() {
  if (!gCurrent) OutsideKernel("gridDim");
  return gGridDim;
}

int SyncThreadsOr(int predicate, const char* file, int line) {
  if (!gCurrent) OutsideKernel("__syncthreads");
  gCurrent->state = State::kSync;
  gCurrent->file = file;
  gCurrent->line = line;
  gCurrent->predicate = predicate != 0;
  Yield();
  return gCurrent->barrierOr;
}

void SyncThreads(const char* file, int line) { SyncThreadsOr(0, file, line); }

void ShuffleXor(unsigned mask, void* value, std::size_t bytes, int laneMask) {
  if (!gCurrent) OutsideKernel("__shfl_xor_sync");
  Fiber& f = *gCurrent;
  f.state = State::kShuffle;
  f.mask = mask;
  f.laneMask = laneMask;
  f.bytes = bytes;
  std::memcpy(f.value, value, bytes);
  Yield();
  std::memcpy(value, gCurrent->result, bytes);
}

void RunGrid(const LaunchConfig& config, const std::function<void()>& body) {
  const std::size_t threads = static_cast<std::size_t>(config.block.x) * config.block.y * config.block.z;
  if (threads == 0 || threads > kMaxBlockThreads || config.grid.x == 0 || config.grid.y == 0 || config.grid.z == 0) {
    RecordLaunchError(cudaErrorInvalidConfiguration,
                      "launch of " + std::to_string(threads) + " threads per block over a grid of " +
                          std::to_string(config.grid.x) + "x" + std::to_string(config.grid.y) + "x" + std::to_string(config.grid.z));
    return;
  }
  if (config.sharedBytes != 0) {
    RecordLaunchError(cudaErrorInvalidConfiguration, "dynamic shared memory is not emulated");
    return;
  }
  std::lock_guard<std::mutex> lock(gLaunchMutex);
  InstallFaultHandler();
  if (gFibers.size() < threads) gFibers.resize(threads);
  const Schedule schedule = ScheduleFromEnvironment();  // per launch: cheap next to a launch, and tests may switch
  gBody = &body;
  gBlockDim = config.block;
  gGridDim = config.grid;
  gInKernel = 1;
  std::string error;
  for (unsigned z = 0; z < config.grid.z && error.empty(); ++z)
    for (unsigned y = 0; y < config.grid.y && error.empty(); ++y)
      for (unsigned x = 0; x < config.grid.x && error.empty(); ++x) {
        gBlockIndex = {x, y, z};
        if (!RunBlock(threads, schedule, error))
          error = "block (" + std::to_string(x) + "," + std::to_string(y) + "," + std::to_string(z) + "): " + error;
      }
  gInKernel = 0;
  gBody = nullptr;
  if (!error.empty()) RecordKernelFault(error);
}

}  // namespace dyco::emulator
