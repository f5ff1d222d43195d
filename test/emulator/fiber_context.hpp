// Execution contexts for the emulator's fibers: a stack and the registers a function call must
// preserve. On x86-64 the switch is a few instructions (fiber_context.cpp); elsewhere it is
// ucontext's swapcontext, which also saves the signal mask with a system call on every switch
// (about half the emulator's time when every thread of a block swaps at each warp shuffle).
#pragma once
#include <cstddef>

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

namespace dyco::emulator {

struct FiberContext {
#if defined(__x86_64__)
  void* stackPointer = nullptr;
#else
  ucontext_t context;
#endif
};

// Makes `context` start `entry` on the stack [stack, stack + bytes) when it is first switched to.
// `entry` must never return: it ends by switching away for good.
void StartContext(FiberContext& context, char* stack, std::size_t bytes, void (*entry)());

// Saves the current context in `from` and continues in `to`; returns when something switches
// back to `from`.
void SwitchContext(FiberContext& from, FiberContext& to);

}  // namespace dyco::emulator
