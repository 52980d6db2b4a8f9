// Prints the digests of the CPU twins' outputs on the self-test's fixed cases
// (gpu/twin_self_test.hpp), one "name 0x…" line per twin, and whether this build could contract
// (FMA instructions available to the compiler). tests/gpu builds it twice — normally and with
// hostile flags — and compares the two outputs (compare_twin_fingerprints.cmake).
#include <cstdio>
#include <string>

#include "gpu/twin_self_test.hpp"

int main() {
  const attncert::gpu::TwinDigests d = attncert::gpu::compute_twin_digests();
  std::printf("flash_attention 0x%016llx\n", static_cast<unsigned long long>(d.flash_attention));
  std::printf("linear_attention 0x%016llx\n", static_cast<unsigned long long>(d.linear_attention));
  std::printf("jacobian_norm 0x%016llx\n", static_cast<unsigned long long>(d.jacobian_norm));
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
  std::printf("fma instructions: available\n");
#else
  std::printf("fma instructions: none\n");
#endif
  const std::string failure = attncert::gpu::twin_self_test_failure();
  std::printf("self-test: %s\n", failure.empty() ? "ok" : failure.c_str());
  return 0;
}
