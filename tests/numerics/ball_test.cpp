// Ball: containment of exact values, consistency across precisions, aliasing, tri-state
// comparisons at ties, exactness rules and bad input.
#include "numerics/ball.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "numerics/eigen_support.hpp"
#include "numerics/mp.hpp"
#include "numerics/scalar_traits.hpp"
#include "numerics/tier_conversions.hpp"

namespace attncert {
namespace {

// An MPFR result is correctly rounded (error <= 1/2 ulp at `bits`), so the exact value lies in
// [m − |m|·2^(1−bits), m + |m|·2^(1−bits)] (a slightly generous 2 ulp). A ball that contains
// this whole interval certainly contains the exact value.
Ball exact_value_interval(const Mp& m, long bits) {
  Ball b = to_ball(m, bits);
  Ball err = abs(b) * Ball(std::ldexp(1.0, static_cast<int>(1 - bits)));
  arb_add_error(b.arb(), err.arb());
  return b;
}

template <class BallFn, class MpFn>
void expect_encloses(BallFn ball_fn, MpFn mp_fn, double x, long prec) {
  const long ref_bits = 4 * prec;  // the reference is 3·prec bits sharper than the ball
  Ball b = ball_fn(Ball(x, prec));
  MpPrecision scope(ref_bits);
  const Mp ref = mp_fn(mp_from_double(x, ref_bits));
  const Ball exact = exact_value_interval(ref, mp_bits(ref));
  // Rigorous necessary condition: the ball meets the interval that holds the exact value.
  EXPECT_TRUE(b.overlaps(exact)) << "x = " << x << ", prec = " << prec << ", ball = " << b
                                 << ", ref = " << ref;
  // Containment of that whole interval whenever the ball is much wider than it. (A correct
  // ball could only fail this if its edge fell within 2^-3p of the exact value.)
  if (b.radius() > 1024 * exact.radius()) {
    EXPECT_TRUE(b.contains(exact)) << "x = " << x << ", prec = " << prec << ", ball = " << b
                                   << ", ref = " << ref;
  }
  // Radius near the working precision: Arb's elementary functions lose at most a few bits
  // (its exp near 0 and pow bound the error with a cruder term), so allow 2^12 ulps.
  EXPECT_LE(b.relative_radius(), std::ldexp(1.0, static_cast<int>(12 - prec)))
      << "x = " << x << ", prec = " << prec;
}

TEST(BallContainment, ElementaryFunctionsEncloseExactValues) {
  for (long prec : {53L, 64L, 128L, 256L}) {
    for (double x : {1e-300, 1e-8, 0.1, 0.5, 1.0, 2.0, 3.75, 100.0, 700.0}) {
      expect_encloses([](const Ball& b) { return exp(b); },
                      [](const Mp& m) { return Mp(boost::multiprecision::exp(m)); }, x, prec);
      expect_encloses([](const Ball& b) { return exp(-b); },
                      [](const Mp& m) { return Mp(boost::multiprecision::exp(-m)); }, x, prec);
      expect_encloses([](const Ball& b) { return log(b); },
                      [](const Mp& m) { return Mp(boost::multiprecision::log(m)); }, x, prec);
      expect_encloses([](const Ball& b) { return sqrt(b); },
                      [](const Mp& m) { return Mp(boost::multiprecision::sqrt(m)); }, x, prec);
      expect_encloses([](const Ball& b) { return Ball(1) / (b + 3); },
                      [](const Mp& m) { return Mp(1 / (m + 3)); }, x, prec);
      expect_encloses([](const Ball& b) { return pow(b, Ball(0.3)); },
                      [](const Mp& m) { return Mp(boost::multiprecision::pow(m, Mp(0.3))); },
                      x, prec);
    }
  }
}

TEST(BallContainment, ConversionsFromDoubleAndMpAreExact) {
  for (double x : {0.1, -3.5e-310, 1e308, std::nextafter(1.0, 2.0)}) {
    Ball b(x, 64);
    EXPECT_TRUE(b.is_exact());
    EXPECT_TRUE(b.contains(x));
    EXPECT_EQ(b.mid(), x);
  }
  MpPrecision scope(300);
  const Mp third = Mp(1) / 3;  // 300-bit rounding of 1/3: not a double
  const Ball b = to_ball(third, 64);
  EXPECT_TRUE(b.is_exact());
  EXPECT_TRUE(contains(b, third));
  EXPECT_EQ(midpoint_mp(b), third);
}

TEST(BallPrecision, EnclosuresOverlapAcrossPrecisionsAndShrink) {
  const Ball e64 = exp(Ball(1.0, 64)), e128 = exp(Ball(1.0, 128)), e512 = exp(Ball(1.0, 512));
  EXPECT_TRUE(e64.overlaps(e128));
  EXPECT_TRUE(e128.overlaps(e512));
  EXPECT_TRUE(e64.contains(e512));
  EXPECT_LT(e512.radius(), e128.radius());
  EXPECT_LT(e128.radius(), e64.radius());
}

TEST(BallPrecision, ResultTakesLargestOperandPrecision) {
  const Ball a(1.0, 64), b(3.0, 200);
  EXPECT_EQ((a / b).precision(), 200);
  EXPECT_EQ((Ball(2.0) * a).precision(), 64);
  EXPECT_EQ(exp(b).precision(), 200);
}

TEST(BallExactness, RingOperationsOnExactBallsStayExact) {
  const Ball s = Ball(0.1) + Ball(0.2);  // exact dyadic sum, unlike 0.1 + 0.2 in double
  EXPECT_TRUE(s.is_exact());
  EXPECT_FALSE(s.contains(0.1 + 0.2));  // the double sum rounds; the exact sum is not it
  const Ball p = Ball(1e-300) * Ball(1e-300);  // far below double range, exact in a ball
  EXPECT_TRUE(p.is_exact());
  EXPECT_TRUE(certainly(p > Ball(0)));
}

TEST(BallExactness, DivisionAndFunctionsOfExactBallsNeedAPrecision) {
  EXPECT_THROW(Ball(1) / Ball(3), std::domain_error);
  EXPECT_THROW(exp(Ball(1)), std::domain_error);
  try {
    (void)log(Ball(2));
    FAIL() << "expected std::domain_error";
  } catch (const std::domain_error& e) {
    EXPECT_NE(std::string(e.what()).find("precision"), std::string::npos) << e.what();
  }
}

TEST(BallAliasing, CompoundOperationsWithThemselves) {
  Ball a(1.5, 128);
  a += a;
  EXPECT_TRUE(certainly(a == Ball(3.0)));
  a *= a;
  EXPECT_TRUE(certainly(a == Ball(9.0)));
  a -= a;
  EXPECT_TRUE(a.is_zero());
  Ball b = exp(Ball(0.5, 128));
  Ball q = b;
  q /= q;  // x/x for a ball with radius: contains 1 but is wider than a point
  EXPECT_TRUE(q.contains(1.0));
  Ball& self = b;
  b = self;  // self-assignment keeps the value
  EXPECT_TRUE(b.contains(exp(Ball(0.5, 256))));
  swap(b, b);
  EXPECT_TRUE(b.contains(exp(Ball(0.5, 256))));
}

TEST(BallComparison, TiesBetweenExactBallsAreDecided) {
  const Ball one(1.0), also_one(1.0, 256);
  EXPECT_EQ(one == also_one, Tri::True);
  EXPECT_EQ(one <= also_one, Tri::True);
  EXPECT_EQ(one >= also_one, Tri::True);
  EXPECT_EQ(one < also_one, Tri::False);
  EXPECT_EQ(one > also_one, Tri::False);
  EXPECT_EQ(one != also_one, Tri::False);
}

TEST(BallComparison, OverlappingEnclosuresAreUnknown) {
  // exp(log 2) is 2 exactly, but its enclosure has a radius: no comparison with 2 is decided.
  const Ball two_ish = exp(log(Ball(2.0, 128)));
  EXPECT_TRUE(two_ish.contains(2.0));
  EXPECT_FALSE(two_ish.is_exact());
  EXPECT_EQ(two_ish == 2.0, Tri::Unknown);
  EXPECT_EQ(two_ish < 2.0, Tri::Unknown);
  EXPECT_EQ(two_ish <= 2.0, Tri::Unknown);
  EXPECT_EQ(two_ish > 2.0, Tri::Unknown);
  // …but a comparison the enclosure settles is decided.
  EXPECT_EQ(two_ish < 2.0000001, Tri::True);
  EXPECT_EQ(two_ish > 2.0000001, Tri::False);
}

TEST(BallComparison, TriLogicIsKleene) {
  EXPECT_EQ(Tri(Tri::True) && Tri(Tri::Unknown), Tri::Unknown);
  EXPECT_EQ(Tri(Tri::False) && Tri(Tri::Unknown), Tri::False);
  EXPECT_EQ(Tri(Tri::True) || Tri(Tri::Unknown), Tri::True);
  EXPECT_EQ(!Tri(Tri::Unknown), Tri::Unknown);
  EXPECT_FALSE(static_cast<bool>(Tri(Tri::Unknown)));
  EXPECT_TRUE(possibly(Tri::Unknown));
  EXPECT_FALSE(certainly(Tri::Unknown));
}

TEST(BallFunctions, MinMaxAbsHullIntervals) {
  const Ball a(-2.0, 64), b(3.0, 64);
  EXPECT_TRUE(certainly(min(a, b) == a));
  EXPECT_TRUE(certainly(max(a, b) == b));
  EXPECT_TRUE(certainly(abs(a) == Ball(2.0)));
  const Ball h = hull(a, b);
  EXPECT_TRUE(h.contains(-2.0) && h.contains(3.0) && h.contains(0.5));
  const Ball iv = Ball::interval(0.25, 0.75, 64);
  EXPECT_TRUE(iv.contains(0.25) && iv.contains(0.75) && !iv.contains(0.8));
  EXPECT_LE(iv.lower(), 0.25);
  EXPECT_GE(iv.upper(), 0.75);
  EXPECT_TRUE(certainly(pow(Ball(3.0), 4) == Ball(81.0)));  // integer power of exact: exact
  EXPECT_TRUE(pow(Ball(3.0), 4).is_exact());
}

TEST(BallFunctions, LogOfNonPositiveIsNotFinite) {
  EXPECT_FALSE(log(Ball(-1.0, 64)).is_finite());
  EXPECT_FALSE(sqrt(Ball::interval(-1.0, 1.0, 64)).is_finite());
  EXPECT_FALSE((Ball(1.0, 64) / Ball::interval(-1.0, 1.0, 64)).is_finite());
}

TEST(BallBadInput, NaNAndAbsurdPrecisionsAreRejected) {
  EXPECT_THROW(Ball(std::nan(""), 64), std::domain_error);
  EXPECT_THROW(Ball(1.0, 1), std::invalid_argument);
  EXPECT_THROW(Ball(1.0, 2'000'000), std::invalid_argument);
  EXPECT_THROW(Ball::interval(2.0, 1.0, 64), std::invalid_argument);
  try {
    Ball(1.0, -5);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 1000000]"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(Ball(-std::numeric_limits<double>::infinity(), 64));  // masked logit
}

TEST(BallScalarTraits, ReportTierAndRoundoff) {
  EXPECT_EQ(ScalarTraits<Ball>::name, "Ball");
  EXPECT_TRUE(ScalarTraits<Ball>::is_certified);
  EXPECT_FALSE(ScalarTraits<double>::is_certified);
  EXPECT_EQ(ScalarTraits<Ball>::unit_roundoff(Ball(1.0, 100)), std::ldexp(1.0, -100));
  EXPECT_EQ(ScalarTraits<double>::unit_roundoff(), std::ldexp(1.0, -53));
  EXPECT_EQ(ScalarTraits<float>::digits(), 24);
  EXPECT_DOUBLE_EQ(higham_gamma(10, 0.01), 0.1 / 0.9);
}

TEST(BallEigen, MatrixProductAndNormEncloseMpReference) {
  const long prec = 128;
  BallMatrix A(3, 3);
  MpPrecision scope(4 * prec);
  MpMatrix M(3, 3);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      const double v = 0.1 * (i + 1) - 0.37 * j + 0.01 * i * j;
      A(i, j) = exp(Ball(v, prec));
      M(i, j) = boost::multiprecision::exp(mp_from_double(v, 4 * prec));
    }
  }
  const BallMatrix P = A * A.transpose();
  const MpMatrix R = M * M.transpose();
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      // R is within a few hundred ulps at 4·prec of the exact product: far inside P's radius.
      EXPECT_TRUE(P(i, j).contains(exact_value_interval(R(i, j), 4 * prec - 8))) << i << j;
    }
  }
  const Ball norm = A.norm();
  const Mp ref = M.norm();
  EXPECT_TRUE(norm.contains(exact_value_interval(ref, 4 * prec - 8)));
}

}  // namespace
}  // namespace attncert
