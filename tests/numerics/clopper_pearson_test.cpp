// clopper_pearson: the ends are certified outer bounds on the exact Clopper–Pearson interval.
//
// The reference is independent of the implementation's incomplete beta: at a double p the
// binomial tail Σ_j C(n, j) p^j (1 − p)^{n−j} is a dyadic rational, computed exactly in Ball
// arithmetic (exact balls, + − × only). The tails are monotone in p, so "lower is below p_L"
// is exactly P(Bin(n, lower) ≥ k) ≤ γ/2, and "upper is above p_U" is P(Bin(n, upper) ≤ k) ≤ γ/2.
#include "numerics/clopper_pearson.hpp"

#include <gtest/gtest.h>

#include <boost/math/special_functions/beta.hpp>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace attncert {
namespace {

// The bounds are promised within ~2^-44 relative of the exact ends (monotone_root_bound.hpp);
// 1e-12 leaves a factor ~20 of room, and still catches a bound that is loose by construction.
constexpr double kTightness = 1e-12;

// P(Bin(n, p) ≥ k), exactly (an exact ball).
Ball upper_binomial_tail(std::uint64_t k, std::uint64_t n, double p) {
  std::vector<Ball> row{Ball(1)};  // C(m, ·), Pascal's rule, exact
  for (std::uint64_t m = 1; m <= n; ++m) {
    std::vector<Ball> next(m + 1, Ball(1));
    for (std::uint64_t j = 1; j < m; ++j) next[j] = row[j - 1] + row[j];
    row = std::move(next);
  }
  const Ball P(p), Q = Ball(1) - Ball(p);
  Ball sum(0);
  for (std::uint64_t j = k; j <= n; ++j) {
    Ball term = row[j];
    for (std::uint64_t i = 0; i < j; ++i) term *= P;
    for (std::uint64_t i = j; i < n; ++i) term *= Q;
    sum += term;
  }
  EXPECT_TRUE(sum.is_exact());
  return sum;
}

// Checks the defining property of outer bounds, and that each end is within kTightness of the
// exact one (a point kTightness further in lies on the other side of the root).
void expect_certified_outer_bounds(std::uint64_t k, std::uint64_t n, double gamma) {
  SCOPED_TRACE("k = " + std::to_string(k) + ", n = " + std::to_string(n) +
               ", γ = " + std::to_string(gamma));
  const ProportionInterval ci = clopper_pearson(k, n, gamma);
  const Ball tail(gamma / 2);
  if (k == 0) {
    EXPECT_EQ(ci.lower, 0.0);
  } else {
    EXPECT_TRUE(certainly(upper_binomial_tail(k, n, ci.lower) <= tail))
        << "lower " << ci.lower << " above p_L";
    EXPECT_TRUE(certainly(upper_binomial_tail(k, n, ci.lower * (1 + kTightness)) > tail))
        << "lower loose";
  }
  if (k == n) {
    EXPECT_EQ(ci.upper, 1.0);
  } else {  // P(Bin ≤ k) = 1 − P(Bin ≥ k + 1)
    EXPECT_TRUE(certainly(Ball(1) - upper_binomial_tail(k + 1, n, ci.upper) <= tail))
        << "upper " << ci.upper << " below p_U";
    EXPECT_TRUE(
        certainly(Ball(1) - upper_binomial_tail(k + 1, n, ci.upper * (1 - kTightness)) > tail))
        << "upper loose";
  }
}

TEST(ClopperPearson, ZeroAndAllSuccessesMatchTheirClosedForms) {
  // k = 0: p_U = 1 − (γ/2)^{1/n}; k = n: p_L = (γ/2)^{1/n} (the binomial tail is one term).
  for (const std::uint64_t n : {1, 2, 7, 100, 4096, 8192}) {
    for (const double gamma : {1e-3, 1e-4, 0.05}) {
      const long prec = 256;
      const Ball root = exp(log(Ball(gamma / 2, prec)) / Ball(static_cast<double>(n), prec));
      const ProportionInterval none = clopper_pearson(0, n, gamma);
      const ProportionInterval all = clopper_pearson(n, n, gamma);
      EXPECT_EQ(none.lower, 0.0);
      EXPECT_EQ(all.upper, 1.0);
      const Ball exact_upper = Ball(1) - root;
      EXPECT_TRUE(certainly(Ball(none.upper) >= exact_upper)) << n << " " << gamma;
      EXPECT_TRUE(certainly(Ball(none.upper * (1 - kTightness)) < exact_upper))
          << n << " " << gamma;
      EXPECT_TRUE(certainly(Ball(all.lower) <= root)) << n << " " << gamma;
      EXPECT_TRUE(certainly(Ball(all.lower * (1 + kTightness)) > root)) << n << " " << gamma;
    }
  }
}

// The previous implementation inverted I_p(k + 1, n − k) = 1 − γ/2 with 1 − γ/2 rounded to a
// double and widened the result by 1e-12: for γ = 4e-11 the rounding moves the tail by ~1e-6
// relative, far more than the widening, and the "upper bound" lay below the exact p_U.
TEST(ClopperPearson, UpperEndContainsTheExactOneForSmallGamma) {
  expect_certified_outer_bounds(6, 23, 3.9673587092961665e-11);
  const double old_upper =
      boost::math::ibeta_inv(7.0, 17.0, 1 - 3.9673587092961665e-11 / 2) * (1 + 1e-12);
  EXPECT_GT(clopper_pearson(6, 23, 3.9673587092961665e-11).upper, old_upper);
}

TEST(ClopperPearson, RandomCountsAndConfidencesAreCertifiedOuterBounds) {
  constexpr unsigned kSeed = 20261203u;
  std::cout << "[ seed ] RandomCountsAndConfidences: mt19937_64 seed " << kSeed << "\n";
  RecordProperty("seed", static_cast<int>(kSeed));
  std::mt19937_64 rng(kSeed);
  std::uniform_real_distribution<double> log10_gamma(-13, std::log10(0.5));
  for (int it = 0; it < 200; ++it) {
    const std::uint64_t n = 1 + rng() % 40;
    const std::uint64_t k = rng() % (n + 1);
    expect_certified_outer_bounds(k, n, std::pow(10.0, log10_gamma(rng)));
  }
}

TEST(ClopperPearson, BallIsTheHullOverTheUndecidedCounts) {
  const Ball b = clopper_pearson_ball(3, 2, 100, 1e-3, 128);
  EXPECT_TRUE(b.contains(clopper_pearson(3, 100, 1e-3).lower));
  EXPECT_TRUE(b.contains(clopper_pearson(5, 100, 1e-3).upper));
  EXPECT_LE(b.lower(), clopper_pearson(3, 100, 1e-3).lower);
  EXPECT_GE(b.upper(), clopper_pearson(5, 100, 1e-3).upper);
}

TEST(ClopperPearson, RejectsBadArguments) {
  EXPECT_THROW(clopper_pearson(0, 0, 0.1), std::invalid_argument);
  EXPECT_THROW(clopper_pearson(3, 2, 0.1), std::invalid_argument);
  EXPECT_THROW(clopper_pearson(1, 2, 0.0), std::invalid_argument);
  EXPECT_THROW(clopper_pearson(1, 2, 1.0), std::invalid_argument);
}

}  // namespace
}  // namespace attncert
