// Function multiversioning: a function marked ATTNCERT_CPU_CLONES is compiled for x86-64-v4
// (AVX-512), x86-64-v3 (AVX2 + FMA) and the baseline, and the dynamic loader picks the clone
// for the CPU it runs on (GCC/Clang target_clones, resolved once through an ifunc). This is
// how the portable build (no -march=native) runs wide vector loops; Eigen's own vectorisation
// is fixed at compile time (SSE2 in that build) and BLIS chooses its kernel itself (blas.hpp).
// Only for non-inline functions in .cpp files; elsewhere it expands to nothing.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__)
#define ATTNCERT_CPU_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ATTNCERT_CPU_CLONES
#endif
