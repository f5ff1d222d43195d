#include "simd_loops.hpp"

#include <cstdlib>
#include <cstring>

namespace dyco {
namespace {

const SimdLoops& Detect() {
#if DYCO_ISA_VARIANTS
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v4")) return isa_avx512::Table();
  if (__builtin_cpu_supports("x86-64-v3")) return isa_avx2::Table();
#endif
  return isa_baseline::Table();
}

const SimdLoops& Choose() {
  const SimdLoops& best = Detect();
  // DYCO_RL_SIMD=baseline|avx2 runs a lower level, to test or compare the builds on one machine.
  if (const char* wanted = std::getenv("DYCO_RL_SIMD")) {
#if DYCO_ISA_VARIANTS
    // Levels in ascending order, up to the detected one: an override can only lower the level.
    for (const SimdLoops* table : {&isa_baseline::Table(), &isa_avx2::Table(), &isa_avx512::Table()}) {
      if (std::strcmp(wanted, table->isa) == 0) return *table;
      if (table == &best) break;
    }
#endif
  }
  return best;
}

}  // namespace

const SimdLoops& Loops() {
  static const SimdLoops& chosen = Choose();
  return chosen;
}

}  // namespace dyco
