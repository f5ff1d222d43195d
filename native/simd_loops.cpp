#include "simd_loops.hpp"

#include <cstdlib>
#include <cstring>

namespace dyco {
namespace {

// Orders the levels so an override can only lower the level, never ask for one the CPU lacks.
int Rank(const SimdLoops& table) {
  if (std::strcmp(table.isa, "avx512") == 0) return 2;
  if (std::strcmp(table.isa, "avx2") == 0) return 1;
  return 0;
}

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
    for (const SimdLoops* table : {&isa_baseline::Table(), &isa_avx2::Table(), &isa_avx512::Table()})
      if (std::strcmp(wanted, table->isa) == 0 && Rank(*table) <= Rank(best)) return *table;
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
