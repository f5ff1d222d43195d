// Square root and reciprocal in one MUFU instruction each (PTX sqrt.approx.ftz.f32 and
// rcp.approx.ftz.f32, what nvcc emits for sqrtf and 1/x under -prec-sqrt=false / -prec-div=false):
// within 1 ulp of the exact result on sm_52 and newer (CUDA programming guide, "Mathematical
// functions"), subnormal inputs and results flushed to zero. CUDA's IEEE sqrtf and division cost
// 8–12 instructions each with their range checks; the Fisher–Rao kernels use these instead where
// a relative error of a few units in 1e-7 is harmless: the denominator √p + √q of a term whose
// numerator p − q is formed exactly (row_math.cuh). Nothing else should use them.
//
// The CPU emulator of test/emulator/ replaces this file with its own (test/emulator/include/), which
// rounds each result off by up to 2 ulp, so the tests see at least the hardware's error.
#pragma once

namespace dyco::cuda::detail {

__device__ __forceinline__ float ApproxSqrt(float x) {
  float root;
  asm("sqrt.approx.ftz.f32 %0, %1;" : "=f"(root) : "f"(x));
  return root;
}

__device__ __forceinline__ float ApproxReciprocal(float x) {
  float reciprocal;
  asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(reciprocal) : "f"(x));
  return reciprocal;
}

}  // namespace dyco::cuda::detail
