// The hot loops built for -march=x86-64-v3 (AVX2, FMA, BMI2); see simd_loops.hpp. The flags are set in CMakeLists.txt.
#define DYCO_ISA_NAMESPACE isa_avx2
#define DYCO_ISA_NAME "avx2"
#include "../simd_loops.inc"
