// Start-up self-test of the CPU twins: each twin runs a few small fixed cases and the digest of
// its outputs is compared with the digest a correct build produced (recorded in
// twin_self_test.cpp). A twin built with value-changing floating-point flags (contraction the
// contraction barrier could not stop, fast-math on a compiler the #error does not see, x87
// excess precision) gives other bits and is refused before it can vouch for a device
// (docs/bit_exactness.md).
#pragma once

#include <cstdint>
#include <string>

namespace attncert::gpu {

struct TwinDigests {
  std::uint64_t flash_attention = 0;
  std::uint64_t linear_attention = 0;
  std::uint64_t jacobian_norm = 0;
};

/// The twins' digests as this build computes them: FNV-1a (64 bit) over the outputs' stored
/// bit patterns (fp32, or fp16/bf16 for linear attention's narrow outputs), in output order,
/// with every NaN replaced by one pattern first (the payload of a NaN is not a value; ±0 stay
/// distinct: the twins produce them deterministically). The cases cover fp32, fp16 and bf16
/// inputs and the IEEE corners (±0, subnormals, underflowing exp, a NaN).
TwinDigests compute_twin_digests();

/// The digests of a correct build (any flags without contraction or fast-math, any compiler).
TwinDigests recorded_twin_digests();

/// Empty when the process rounds to nearest and keeps subnormals (no FTZ/DAZ) and every twin
/// reproduces its recorded digest; otherwise one line naming the problem or the twins that
/// differ ("the CPU twins were built with value-changing floating-point flags …").
std::string twin_self_test_failure();

}  // namespace attncert::gpu
