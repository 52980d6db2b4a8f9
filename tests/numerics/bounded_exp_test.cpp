// bounded_exp against MPFR: the proven relative bound kBoundedExpRelativeError on > 10⁶ points
// over [kBoundedExpUnderflow, 709] (with and without a shift, so that x − shift is inexact in
// double), the edges (0, tiny and subnormal arguments, the underflow and overflow thresholds,
// ±inf, NaN), the exact-argument decision at the underflow threshold, in-place use and a
// non-finite shift. Prints the measured maximum error.
#include "numerics/bounded_exp.hpp"

#include <gtest/gtest.h>
#include <mpfr.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <vector>

#include "numerics/rng.hpp"

namespace attncert {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kUnitRoundoff = 0x1p-53;

// The exact a = x − shift (2200 bits hold the difference of any two doubles of the test) and
// e^a correctly rounded to 160 bits: a reference whose own error (2⁻¹⁶⁰ relative) is far below
// the bound checked.
class ExactExp {
 public:
  ExactExp() {
    mpfr_inits2(2200, a_, nullptr);
    mpfr_inits2(160, exp_a_, diff_, nullptr);
  }
  ~ExactExp() { mpfr_clears(a_, exp_a_, diff_, nullptr); }
  ExactExp(const ExactExp&) = delete;
  ExactExp& operator=(const ExactExp&) = delete;

  /// Sets a = x − shift exactly.
  void set(double x, double shift) {
    mpfr_set_d(a_, x, MPFR_RNDN);  // exact: 2200 ≥ 53 bits
    ASSERT_EQ(mpfr_sub_d(a_, a_, shift, MPFR_RNDN), 0) << "x − shift not exact at 2200 bits: x = " << x << ", shift = "
                          << shift;
  }
  /// Sign of a − c for a double c.
  int compare(double c) const { return mpfr_cmp_d(a_, c); }
  /// |y − e^a| / e^a (relative error) and the same in ulps of e^a (ulp = 2^(E−53) for
  /// e^a ∈ [2^(E−1), 2^E)).
  void error(double y, double& relative, double& ulps) {
    mpfr_exp(exp_a_, a_, MPFR_RNDN);
    mpfr_sub_d(diff_, exp_a_, y, MPFR_RNDN);
    mpfr_abs(diff_, diff_, MPFR_RNDN);
    const mpfr_exp_t e = mpfr_get_exp(exp_a_);
    mpfr_div(diff_, diff_, exp_a_, MPFR_RNDU);
    relative = mpfr_get_d(diff_, MPFR_RNDU);
    mpfr_mul(diff_, diff_, exp_a_, MPFR_RNDU);
    mpfr_mul_2si(diff_, diff_, 53 - e, MPFR_RNDU);
    ulps = mpfr_get_d(diff_, MPFR_RNDU);
  }

 private:
  mpfr_t a_, exp_a_, diff_;
};

struct Worst {
  double relative = 0, ulps = 0, x = 0, shift = 0;
  long checked = 0;
  long inexact_differences = 0;
};

// Checks y = bounded_exp(x, shift) against the contract for the exact a = x − shift.
void check_point(ExactExp& ref, double x, double shift, double y, Worst& worst) {
  ref.set(x, shift);
  if (std::isfinite(x) && ref.compare(x - shift) != 0) ++worst.inexact_differences;
  if (std::isnan(x)) {
    EXPECT_TRUE(std::isnan(y)) << "x = NaN gave " << y;
    return;
  }
  if (x == -kInf || ref.compare(kBoundedExpUnderflow) < 0) {
    EXPECT_EQ(y, 0.0) << "x = " << x << ", shift = " << shift << " (below the underflow)";
    return;
  }
  if (x == kInf || ref.compare(kBoundedExpOverflow) > 0) {
    EXPECT_EQ(y, kInf) << "x = " << x << ", shift = " << shift << " (above the overflow)";
    return;
  }
  ASSERT_TRUE(std::isnormal(y)) << "x = " << x << ", shift = " << shift << " gave " << y;
  double relative = 0, ulps = 0;
  ref.error(y, relative, ulps);
  EXPECT_LE(relative, kBoundedExpRelativeError)
      << "x = " << x << ", shift = " << shift << ": " << relative / kUnitRoundoff << " u";
  ++worst.checked;
  worst.ulps = std::max(worst.ulps, ulps);
  if (relative > worst.relative) {
    worst.relative = relative;
    worst.x = x;
    worst.shift = shift;
  }
}

void check_all(const std::vector<double>& x, double shift, Worst& worst) {
  std::vector<double> y(x.size());
  bounded_exp(x.data(), shift, y.data(), x.size());
  ExactExp ref;
  for (std::size_t i = 0; i < x.size(); ++i) check_point(ref, x[i], shift, y[i], worst);
}

void print(const char* what, const Worst& worst) {
  std::printf("%s: %ld points, max error %.4f u (u = 2^-53; at x = %.17g, shift = %.17g), "
              "max %.4f ulp of e^a; bound %.1f u\n",
              what, worst.checked, worst.relative / kUnitRoundoff, worst.x, worst.shift,
              worst.ulps, kBoundedExpRelativeError / kUnitRoundoff);
}

TEST(BoundedExp, WithinTheProvenBoundOverTheWholeRange) {
  const std::uint64_t seed = 20261203;
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  Rng rng(seed);
  Worst worst;
  // 2²⁰ arguments uniform over [U, 709], in chunks of odd length (vector tails included).
  for (int chunk = 0; chunk < 64; ++chunk) {
    std::vector<double> x(16384 + static_cast<std::size_t>(chunk % 7));
    for (double& v : x) v = rng.uniform(kBoundedExpUnderflow, 709.0);
    check_all(x, 0.0, worst);
  }
  // 2¹⁸ arguments near 0 where the reduced argument is the argument itself.
  std::vector<double> small(1 << 18);
  for (double& v : small) v = rng.uniform(-2.0, 2.0);
  check_all(small, 0.0, worst);
  // Shifts with many significant bits below x's last bit, so that t = fl(x − shift) ≠ x − shift
  // and the exact rounding error must be carried into the reduced argument (it is up to
  // 2⁻⁴⁴ absolute here: 512u relative if dropped); then shifts like a row maximum, x ≤ shift.
  for (int chunk = 0; chunk < 16; ++chunk) {
    const double shift = rng.uniform(-4.0, 4.0);
    std::vector<double> x(16384);
    for (double& v : x) v = rng.uniform(kBoundedExpUnderflow + 4, 705.0);
    check_all(x, shift, worst);
  }
  for (int chunk = 0; chunk < 4; ++chunk) {
    const double shift = rng.uniform(-1000.0, 1000.0);
    std::vector<double> x(16384);
    for (double& v : x) v = shift - rng.uniform(0.0, 700.0);
    check_all(x, shift, worst);
  }
  std::printf("%ld points with fl(x - shift) != x - shift\n", worst.inexact_differences);
  EXPECT_GE(worst.inexact_differences, 100'000);
  print("bounded_exp vs MPFR", worst);
  EXPECT_GE(worst.checked, 1'000'000);
}

TEST(BoundedExp, Edges) {
  const double tiny = std::numeric_limits<double>::denorm_min();
  const double U = kBoundedExpUnderflow, O = kBoundedExpOverflow;
  const std::vector<double> x = {0.0,
                                 -0.0,
                                 tiny,
                                 -tiny,
                                 std::numeric_limits<double>::min(),
                                 1e-300,
                                 -1e-300,
                                 U,
                                 std::nextafter(U, kInf),
                                 std::nextafter(U, -kInf),
                                 -708.3964185322641,  // ≈ ln(DBL_MIN): e^x normal, but < U
                                 -745.2,              // e^x below the subnormals
                                 -1e300,
                                 -kInf,
                                 709.0,
                                 709.78,
                                 O,
                                 std::nextafter(O, kInf),
                                 709.7827128933840,  // ≈ ln(DBL_MAX)
                                 709.79,
                                 1e300,
                                 kInf,
                                 std::numeric_limits<double>::quiet_NaN()};
  std::vector<double> y(x.size());
  bounded_exp(x.data(), 0.0, y.data(), x.size());
  Worst worst;
  ExactExp ref;
  for (std::size_t i = 0; i < x.size(); ++i) check_point(ref, x[i], 0.0, y[i], worst);
  EXPECT_EQ(y[0], 1.0);
  EXPECT_EQ(y[9], 0.0);
  EXPECT_EQ(y[13], 0.0);
  EXPECT_EQ(y[17], kInf);
  EXPECT_EQ(y[21], kInf);
  EXPECT_TRUE(std::isnan(y[22]));
  print("edges", worst);
}

// When fl(x − shift) equals the threshold U exactly, the exact x − shift decides: below U
// gives 0, at or above U the bounded value. Searches shifts that put both cases on U.
TEST(BoundedExp, UnderflowDecidedOnTheExactArgument) {
  const double U = kBoundedExpUnderflow;
  int below = 0, above = 0;
  ExactExp ref;
  Worst worst;
  for (int k = 1; k < 2000 && (below < 5 || above < 5); ++k) {
    const double shift = k * 0.0123456789;
    const double x = U + shift;  // rounded: x − shift is U only up to the rounding of this sum
    if (x - shift != U) continue;
    double y = -1;
    bounded_exp(&x, shift, &y, 1);
    ref.set(x, shift);
    (ref.compare(U) < 0 ? below : above) += 1;
    check_point(ref, x, shift, y, worst);
  }
  std::printf("fl(x - shift) = U: %d cases with x - shift < U, %d with x - shift >= U\n", below,
              above);
  EXPECT_GE(below, 1);
  EXPECT_GE(above, 1);
}

TEST(BoundedExp, InPlaceAndEmpty) {
  std::vector<double> x = {-1.0, 0.0, 1.0, 2.5, -3.0};
  const std::vector<double> original = x;
  bounded_exp(x.data(), 1.0, x.data(), x.size());
  ExactExp ref;
  Worst worst;
  for (std::size_t i = 0; i < x.size(); ++i) check_point(ref, original[i], 1.0, x[i], worst);
  bounded_exp(nullptr, 0.0, nullptr, 0);
}

TEST(BoundedExp, NonFiniteShiftIsRefused) {
  double x = 0, y = 0;
  EXPECT_THROW(bounded_exp(&x, kInf, &y, 1), std::domain_error);
  EXPECT_THROW(bounded_exp(&x, std::numeric_limits<double>::quiet_NaN(), &y, 1),
               std::domain_error);
}

}  // namespace
}  // namespace attncert
