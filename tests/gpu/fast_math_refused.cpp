// Compiled by tests/gpu/CMakeLists.txt (fast_math_refused) with -ffast-math, which must fail with
// gpu/rounded_arithmetic.hpp's #error, and without it, which must succeed: the shared per-tile
// math refuses fast-math at compile time instead of giving the twins other bits.
#include "gpu/flash_attention_tile.cuh"
#include "gpu/jacobian_norm_tile.cuh"
#include "gpu/linear_attention_tile.cuh"

float fast_math_refused_probe(float a, float b) { return attncert::gpu::portable_expf(a) * b; }
