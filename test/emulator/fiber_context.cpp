// FiberContext (fiber_context.hpp). On x86-64: the System V ABI's callee-saved state (rbx, rbp,
// r12–r15, the MXCSR and x87 control words) is pushed on the current stack, the stack pointer
// saved, the other one loaded and its state popped; the caller-saved registers are the compiler's
// business, since the switch is an ordinary call. Elsewhere: getcontext/makecontext/swapcontext.
#include "fiber_context.hpp"

#include <cstdint>
#include <cstring>

#if defined(__x86_64__)

extern "C" void dyco_emulator_switch(void** saveStackPointer, void* loadStackPointer);

asm(R"(
  .text
  .globl dyco_emulator_switch
  .hidden dyco_emulator_switch
  .type dyco_emulator_switch, @function
dyco_emulator_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size dyco_emulator_switch, .-dyco_emulator_switch
)");

namespace dyco::emulator {

void StartContext(FiberContext& context, char* stack, std::size_t bytes, void (*entry)()) {
  // The first switch pops what dyco_emulator_switch pushes and "returns" into entry with the stack
  // pointer ≡ 8 (mod 16), as after a call. Layout, from the top: a null return address for entry
  // (it never returns), entry's address, rbp, rbx, r12–r15 (zero), then the control words.
  auto top = (reinterpret_cast<std::uintptr_t>(stack) + bytes) & ~std::uintptr_t{15};
  auto* slots = reinterpret_cast<std::uint64_t*>(top) - 2;  // 16-byte aligned: entry's return slot
  slots[1] = 0;
  slots[0] = reinterpret_cast<std::uint64_t>(entry);
  std::uint64_t* frame = slots - 7;  // control words + six registers
  std::memset(frame, 0, 7 * sizeof(std::uint64_t));
  std::uint32_t mxcsr;
  std::uint16_t fpuControl;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fpuControl));
  std::memcpy(reinterpret_cast<char*>(frame), &mxcsr, sizeof mxcsr);
  std::memcpy(reinterpret_cast<char*>(frame) + 4, &fpuControl, sizeof fpuControl);
  context.stackPointer = frame;
}

void SwitchContext(FiberContext& from, FiberContext& to) { dyco_emulator_switch(&from.stackPointer, to.stackPointer); }

}  // namespace dyco::emulator

#else

namespace dyco::emulator {

void StartContext(FiberContext& context, char* stack, std::size_t bytes, void (*entry)()) {
  getcontext(&context.context);
  context.context.uc_stack.ss_sp = stack;
  context.context.uc_stack.ss_size = bytes;
  context.context.uc_link = nullptr;
  makecontext(&context.context, entry, 0);
}

void SwitchContext(FiberContext& from, FiberContext& to) { swapcontext(&from.context, &to.context); }

}  // namespace dyco::emulator

#endif
