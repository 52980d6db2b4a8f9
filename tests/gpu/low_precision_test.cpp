// The kernels' shared arithmetic: fp16/bf16 rounding emulation against an independent
// reference (frexp/ldexp rounding of the double value), and portable_expf against exp in double.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "gpu/dtype.hpp"
#include "gpu/portable_exp.hpp"
#include "numerics/rng.hpp"

namespace attncert::gpu {
namespace {

constexpr std::uint64_t kSeed = 20261123;

// Round-to-nearest-even of x to `precision` significant bits with exponent range
// [emin, emax] (subnormals below 2^emin, overflow to inf), computed in double — a second,
// independent implementation of what the bit tricks in dtype.hpp do.
double reference_round(double x, int precision, int emin, int emax) {
  if (x == 0 || !std::isfinite(x)) return x;
  int e;
  std::frexp(x, &e);                      // |x| ∈ [2^(e-1), 2^e)
  const int exponent = std::max(e - 1, emin);
  const double quantum = std::ldexp(1.0, exponent - (precision - 1));
  const double q = std::nearbyint(x / quantum);  // ties to even under the default mode
  const double r = q * quantum;
  const double max_finite = std::ldexp(2.0 - std::ldexp(1.0, 1 - precision), emax);
  if (std::fabs(r) > max_finite) return std::copysign(INFINITY, x);
  return r;
}

TEST(LowPrecision, Fp16AndBf16RoundingMatchAnIndependentReference) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  Rng rng(kSeed);
  for (int i = 0; i < 1 << 20; ++i) {
    // Random bit patterns cover every exponent, subnormals and overflow alike.
    const float x = bits_float(static_cast<std::uint32_t>(rng.next_u64()));
    if (!std::isfinite(x)) continue;
    const double h = reference_round(x, 11, -14, 15);
    const double b = reference_round(x, 8, -126, 127);
    ASSERT_EQ(static_cast<double>(round_through(DType::f16, x)), h) << "x = " << x;
    ASSERT_EQ(static_cast<double>(round_through(DType::bf16, x)), b) << "x = " << x;
  }
}

TEST(LowPrecision, EveryFp16AndBf16ValueRoundTrips) {
  for (std::uint32_t bits = 0; bits < 65536; ++bits) {
    const auto h = static_cast<std::uint16_t>(bits);
    const float f = f16_bits_to_float(h);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(round_through(DType::f16, f)));
      continue;
    }
    EXPECT_EQ(float_to_f16_bits(f), h);
    const float g = bf16_bits_to_float(h);
    if (!std::isnan(g)) EXPECT_EQ(float_to_bf16_bits(g), h);
  }
}

TEST(LowPrecision, PortableExpStaysWithinItsStatedBound) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  Rng rng(kSeed + 1);
  double worst = 0;
  for (int i = 0; i < 1 << 22; ++i) {
    const float x = static_cast<float>(
        rng.uniform(kPortableExpUnderflow, kPortableExpOverflow));
    const double exact = std::exp(static_cast<double>(x));  // error 2^-53: negligible here
    const double rel = std::fabs(portable_expf(x) - exact) / exact;
    worst = std::max(worst, rel);
    ASSERT_LE(rel, kPortableExpRelativeError) << "x = " << x;
  }
  RecordProperty("max_relative_error_ulp", std::to_string(worst / 0x1p-24));
  EXPECT_EQ(portable_expf(0.0f), 1.0f);
  EXPECT_EQ(portable_expf(-INFINITY), 0.0f);
  EXPECT_EQ(portable_expf(-1e5f), 0.0f);
  EXPECT_TRUE(std::isinf(portable_expf(100.0f)));
  EXPECT_TRUE(std::isnan(portable_expf(NAN)));
}

TEST(LowPrecision, DtypeNamesParseBack) {
  for (DType t : {DType::f32, DType::f16, DType::bf16})
    EXPECT_EQ(parse_dtype(dtype_name(t)), t);
  EXPECT_FALSE(parse_dtype("fp8").has_value());
}

}  // namespace
}  // namespace attncert::gpu
