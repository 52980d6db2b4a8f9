// ATTNCERT_HOST_DEVICE marks the per-tile math that a CUDA kernel and its CPU twin share: nvcc
// compiles it for both sides, g++ sees plain inline functions. Keep such code free of anything
// whose rounding could differ between host and device (no implicit contraction: the gpu target
// builds with --fmad=false, and every fused multiply-add is written as an explicit fmaf).
#pragma once

#if defined(__CUDACC__)
#define ATTNCERT_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define ATTNCERT_HOST_DEVICE inline
#endif
