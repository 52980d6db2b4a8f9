// Function multiversioning: a function marked ATTNCERT_CPU_CLONES is compiled for x86-64-v4
// (AVX-512), x86-64-v3 (AVX2 + FMA) and the baseline, and the dynamic loader picks the clone
// for the CPU it runs on (GCC/Clang target_clones, resolved once through an ifunc). This is
// how the portable build (no -march=native) runs wide vector loops; Eigen's own vectorisation
// is fixed at compile time (SSE2 in that build) and BLIS chooses its kernel itself (blas.hpp).
// Only for non-inline functions in .cpp files; elsewhere it expands to nothing.
#pragma once

#include <cstddef>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__)
#define ATTNCERT_CPU_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ATTNCERT_CPU_CLONES
#endif

namespace attncert {

/// Eight doubles as one GCC/Clang vector value, the width of an AVX-512 register: the row
/// passes written with it run at full width in the v4 clone and are split by the compiler in the
/// others. Load and store through std::memcpy (unaligned); don't pass it by value across
/// functions — the ABI differs between clones (-Wpsabi).
using DoubleLanes = double __attribute__((vector_size(64)));
/// As many floats as DoubleLanes has doubles.
using FloatLanes = float __attribute__((vector_size(32)));
inline constexpr std::ptrdiff_t kDoubleLanes = sizeof(DoubleLanes) / sizeof(double);

}  // namespace attncert
