// gpu/twin_self_test: passes in this build, and names a floating-point environment in which the
// twins would give other bits (rounding mode, FTZ/DAZ). The hostile-flag builds are tested by
// the twin_fingerprint_* tests (tests/gpu/CMakeLists.txt).
#include "gpu/twin_self_test.hpp"

#include <gtest/gtest.h>

#include <cfenv>
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace attncert::gpu {
namespace {

TEST(TwinSelfTest, PassesInThisBuild) {
  const TwinDigests now = compute_twin_digests(), recorded = recorded_twin_digests();
  EXPECT_EQ(now.flash_attention, recorded.flash_attention);
  EXPECT_EQ(now.linear_attention, recorded.linear_attention);
  EXPECT_EQ(now.jacobian_norm, recorded.jacobian_norm);
  EXPECT_EQ(twin_self_test_failure(), "");
}

TEST(TwinSelfTest, RefusesAnotherRoundingMode) {
  ASSERT_EQ(std::fesetround(FE_UPWARD), 0);
  const std::string failure = twin_self_test_failure();
  std::fesetround(FE_TONEAREST);
  EXPECT_NE(failure.find("rounding mode is not round-to-nearest"), std::string::npos) << failure;
}

#if defined(__SSE__) || defined(__x86_64__)
TEST(TwinSelfTest, RefusesFlushToZero) {
  const unsigned saved = _mm_getcsr();
  _mm_setcsr(saved | 0x8040u);  // FTZ (bit 15) and DAZ (bit 6), what crtfastmath.o sets
  const std::string failure = twin_self_test_failure();
  _mm_setcsr(saved);
  EXPECT_NE(failure.find("flushes subnormals to zero"), std::string::npos) << failure;
}
#endif

}  // namespace
}  // namespace attncert::gpu
