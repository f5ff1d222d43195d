// Stands in for CUDA's <cuda_fp16.h> in the emulated build (DYCO_CUDA=EMULATE): see ../emulated_cuda.hpp.
#pragma once
#include "../emulated_cuda.hpp"
