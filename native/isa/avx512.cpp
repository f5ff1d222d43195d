// The hot loops built for -march=x86-64-v4 (AVX-512 F/BW/CD/DQ/VL); see simd_loops.hpp. The flags are set in CMakeLists.txt.
#define DYCO_ISA_NAMESPACE isa_avx512
#define DYCO_ISA_NAME "avx512"
#include "../simd_loops.inc"
