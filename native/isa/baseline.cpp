// The hot loops built for no -march: the x86-64 baseline (SSE2), or the target default elsewhere; see simd_loops.hpp. The flags are set in CMakeLists.txt.
#define DYCO_ISA_NAMESPACE isa_baseline
#define DYCO_ISA_NAME "baseline"
#include "../simd_loops.inc"
