// ATTNCERT_HOST_DEVICE marks the per-tile math that a CUDA kernel and its CPU twin share: nvcc
// compiles it for both sides, g++ sees plain inline functions. Keep such code free of anything
// whose rounding could differ between host and device: every float operation and comparison
// goes through gpu/rounded_arithmetic.hpp (rn_add, rn_fma, ieee_less …), which no compiler flag
// can change (docs/bit_exactness.md says what is guaranteed under which flags, and the tests).
#pragma once

#if defined(__CUDACC__)
#define ATTNCERT_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define ATTNCERT_HOST_DEVICE inline
#endif
