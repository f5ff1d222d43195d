// Runtime dispatch for the hot loops. Prebuilt binaries must run on any x86-64 CPU, so instead of
// -march we let GCC compile each hot function for AVX-512, AVX2 and the baseline and pick one at
// load time (ifunc). Elsewhere the functions compile once for the target's default ISA.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DYCO_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DYCO_MULTIVERSION
#endif

namespace dyco {
// The instruction set the multiversioned loops run with on this CPU: "avx512", "avx2" or "baseline".
const char* SimdLevel();
}  // namespace dyco
