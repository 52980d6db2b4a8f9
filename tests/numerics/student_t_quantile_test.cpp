// student_t_quantile: a certified enclosure of the exact quantile, checked against the closed
// forms for ν = 1 (Cauchy: q = cot(π·tail)) and ν = 2 (q = (1 − 2τ)/√(2τ(1 − τ))), evaluated
// in Arb at 256 bits, and against Boost for the ν used by the Performer claims.
#include "numerics/student_t_quantile.hpp"

#include <arb.h>
#include <gtest/gtest.h>

#include <boost/math/distributions/students_t.hpp>
#include <stdexcept>

#include "numerics/ball.hpp"

namespace attncert {
namespace {

constexpr long kPrec = 256;
// The enclosure is promised a few ulps wide (2^-48 relative steps from Boost's estimate, which
// is accurate to a few ulps); 1e-12 relative leaves ample room and still catches a loose bound.
constexpr double kWidth = 1e-12;

void expect_encloses(double dof, double tail, const Ball& exact) {
  SCOPED_TRACE("ν = " + std::to_string(dof) + ", tail = " + std::to_string(tail));
  const QuantileEnclosure q = student_t_quantile(dof, tail);
  EXPECT_TRUE(certainly(Ball(q.lower) <= exact));
  EXPECT_TRUE(certainly(Ball(q.upper) >= exact));
  EXPECT_LE(q.upper - q.lower, kWidth * q.upper);
}

TEST(StudentTQuantile, CauchyMatchesCotangent) {
  for (const double tail : {0.25, 0.05, 5e-5, 1e-9}) {
    Ball exact;
    const Ball t(tail);
    arb_cot_pi(exact.arb(), t.arb(), kPrec);
    expect_encloses(1, tail, exact);
  }
}

TEST(StudentTQuantile, TwoDegreesOfFreedomMatchClosedForm) {
  for (const double tail : {0.25, 0.05, 5e-5, 1e-9}) {
    const Ball t(tail, kPrec);
    const Ball exact = (Ball(1) - Ball(2) * t) / sqrt(Ball(2) * t * (Ball(1) - t));
    expect_encloses(2, tail, exact);
  }
}

TEST(StudentTQuantile, PerformerQuantileAgreesWithBoost) {
  // ν = 1999, two-sided confidence 1 − 1e-4: the C.performer-* intervals.
  const QuantileEnclosure q = student_t_quantile(1999, 5e-5);
  const double boost_q = boost::math::quantile(
      boost::math::complement(boost::math::students_t_distribution<double>(1999), 5e-5));
  EXPECT_LE(q.lower, boost_q * (1 + 1e-14));  // Boost is accurate to a few ulps, 1e-14 ≈ 45 ulps
  EXPECT_GE(q.upper, boost_q * (1 - 1e-14));
  EXPECT_LE(q.upper - q.lower, kWidth * q.upper);
  EXPECT_GT(q.lower, 3.8);  // the normal quantile z_{1 − 5e-5} = 3.8906; t is heavier-tailed
}

TEST(StudentTQuantile, RejectsBadArguments) {
  EXPECT_THROW(student_t_quantile(0, 0.1), std::invalid_argument);
  EXPECT_THROW(student_t_quantile(5, 0.5), std::invalid_argument);
  EXPECT_THROW(student_t_quantile(5, 0.0), std::invalid_argument);
}

}  // namespace
}  // namespace attncert
