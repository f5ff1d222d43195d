// What the emulator's two halves share: the scheduler (scheduler.cpp) reports launch failures
// through the runtime (runtime.cpp), which owns the error state, and asks it which allocation an
// address belongs to when it names a faulting access.
#pragma once
#include <cstddef>
#include <string>

#include "emulated_cuda.hpp"

namespace dyco::emulator {

// A launch that did not start (bad configuration): not sticky, like cudaErrorInvalidConfiguration.
void RecordLaunchError(cudaError_t error, const std::string& detail);

// A kernel that went wrong while running (divergent barrier or shuffle): sticky, like a device
// fault, so every later call fails as it would on a GPU. The detail is printed and appended to
// cudaGetErrorString's text.
void RecordKernelFault(const std::string& detail);

// The device allocation that holds or borders `address` (within its guard page), described for a
// fault report; empty when there is none. Async-signal-safe: writes into `out` (size bytes).
void DescribeAddress(const void* address, char* out, std::size_t size);

// Multiprocessors the emulated device reports (DYCO_RL_CUDA_EMULATOR_SMS, default 2): few, so the
// kernels' grid-stride and run-walking loops take several turns even on small test inputs.
int EmulatedMultiprocessors();

}  // namespace dyco::emulator
