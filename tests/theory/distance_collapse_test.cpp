// Distance collapse (paper A, Theorem 1 / Corollary 2): the three d̃ readings and Theorem 1's
// terms against a hand-computed example, the top-N tie-break, Ball enclosing the Mp reference,
// exact enumeration of E[d̃] against hand values and Monte Carlo, and the error paths.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <span>
#include <stdexcept>
#include <vector>

#include "numerics/ball.hpp"
#include "numerics/rng.hpp"
#include "numerics/scalar_traits.hpp"
#include "numerics/tier_conversions.hpp"
#include "theory/distance_collapse.hpp"
#include "theory/quantities.hpp"

namespace attncert {
namespace {

// Hand example: L = 3, d = 2, α = (1/2, 1/4, 1/4), x₀ = (1, 0), x₁ = (0, 1), x₂ = (2, 2), I = {0}.
// y_i = α_i x_i: y₀ = (.5, 0), y₁ = (0, .25), y₂ = (.5, .5); s = y₀.
//  A = ‖y₁ + y₂ − s‖ = ‖(0, .75)‖ = 3/4
//  B = ‖y₁ − s‖ + ‖y₂ − s‖ = ‖(−.5, .25)‖ + ‖(0, .5)‖ = √5/4 + 1/2
//  C = ‖y₁ + y₂ − 2s‖ = ‖(−.5, .75)‖ = √13/4
//  ᾱ = 1/2, d₁ = max(‖x₁ − x₀‖, ‖x₂ − x₀‖) = √5, M_N = 1, bound = √5/2 + (2·½ − ½)·1 = √5/2 + 1/2.
// Random I (N = 1): E[d̃_B] = ((√5/4 + ½) + √5/2 + (½ + √5/4))/3 = (1 + √5)/3; Jensen term
// (2/3)·(‖y₀ − ½(y₁+y₂)‖ + ‖y₁ − ½(y₀+y₂)‖ + ‖y₂ − ½(y₀+y₁)‖) = (2/3)(√13/8 + ½ + √13/8) = (1 + √13/2)/3.
const std::vector<double> kAlpha = {0.5, 0.25, 0.25};
const TokenMatrix<double> kX{3, 2, {1, 0, 0, 1, 2, 2}};
const std::vector<std::size_t> kSelected = {0};

// A handful of flops per value, each with relative error <= u: 16·u relative is ample.
double tol(double value) { return 16 * ScalarTraits<double>::unit_roundoff() * std::abs(value); }

TEST(DistanceCollapse, ReadingsMatchHandComputedExample) {
  const std::span<const double> a(kAlpha);
  const double A = dtilde<double>(DtildeReading::A, a, kX, kSelected);
  const double B = dtilde<double>(DtildeReading::B, a, kX, kSelected);
  const double C = dtilde<double>(DtildeReading::C, a, kX, kSelected);
  EXPECT_NEAR(A, 0.75, tol(0.75));
  EXPECT_NEAR(B, std::sqrt(5.0) / 4 + 0.5, tol(B));
  EXPECT_NEAR(C, std::sqrt(13.0) / 4, tol(C));
}

// The model study's double path (weighted tokens computed once) on the hand example, and on
// random rows against the generic dtilde<double> (same formulas, other summation order). Each
// reading sums <= L + 1 weighted tokens (C: the selected sum s counted up to L times) before a
// norm, so either order is within (L + d + 4)·u·(L + 1)·Σ‖y_i‖ of the exact value, absolutely.
TEST(DistanceCollapse, ReadingsFromWeightedTokensMatchTheGenericPath) {
  RowMatrix<double> X(3, 2);
  X << 1, 0, 0, 1, 2, 2;
  const WeightedTokens w = weighted_tokens(kAlpha, X);
  const std::array<double, 3> r = dtilde_readings(w, kSelected);
  EXPECT_NEAR(r[0], 0.75, tol(0.75));
  EXPECT_NEAR(r[1], std::sqrt(5.0) / 4 + 0.5, tol(r[1]));
  EXPECT_NEAR(r[2], std::sqrt(13.0) / 4, tol(r[2]));
  // N_s/N: s = y₀; r = min(‖y₁ − s‖, ‖y₂ − s‖) = min(√5/4, 1/2) = 1/2; ‖y₀ − s‖ = 0 <= r.
  EXPECT_EQ(protocol_distinguishable_fraction(w, kSelected), 1.0);
  // N = 2, d = 1: α = (.4, .3, .2, .1), x = (1, −1, 3, −2.5), y = (.4, −.3, .6, −.25), I = {0, 1},
  // s = .1; selected distances .3 and .4, non-selected .5 and .35, so r = .35 and only token 0
  // is inside: N_s/N = 1/2 (margins of .05, far above rounding).
  RowMatrix<double> X2(4, 1);
  X2 << 1, -1, 3, -2.5;
  EXPECT_EQ(protocol_distinguishable_fraction(weighted_tokens(std::vector<double>{0.4, 0.3, 0.2, 0.1}, X2),
                                              std::vector<std::size_t>{0, 1}),
            0.5);

  const std::uint64_t seed = 4242;
  std::cout << "seed " << seed << "\n";
  Rng rng(seed);
  for (int trial = 0; trial < 50; ++trial) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " trial " + std::to_string(trial));
    const long L = 2 + static_cast<long>(rng.uniform_int(0, 40)), d = 1 + static_cast<long>(rng.uniform_int(0, 9));
    std::vector<double> alpha = rng.normal_vector(static_cast<std::size_t>(L));
    double sum = 0;
    for (double& a : alpha) sum += (a = std::exp(a));
    for (double& a : alpha) a /= sum;
    RowMatrix<double> Xr(L + 3, d);  // more rows than weights: a causal row sees a prefix
    TokenMatrix<double> Xt{L, d, {}};
    for (long i = 0; i < L + 3; ++i)
      for (long c = 0; c < d; ++c) {
        Xr(i, c) = rng.normal();
        if (i < L) Xt.data.push_back(Xr(i, c));
      }
    const long N = 1 + static_cast<long>(rng.uniform_int(0, L - 2));
    const std::vector<std::size_t> top = top_n_indices(alpha, N);
    const std::array<double, 3> fast = dtilde_readings(weighted_tokens(alpha, Xr), top);
    const double scale = weighted_token_norm_sum<double>(std::span<const double>(alpha), Xt);
    const double slack = 2 * static_cast<double>((L + d + 4) * (L + 1)) *
                         ScalarTraits<double>::unit_roundoff() * scale;
    const DtildeReading readings[] = {DtildeReading::A, DtildeReading::B, DtildeReading::C};
    for (int k = 0; k < 3; ++k) {
      const double generic = dtilde<double>(readings[k], std::span<const double>(alpha), Xt, top);
      EXPECT_NEAR(fast[static_cast<std::size_t>(k)], generic, slack) << "reading " << k;
    }
  }
}

TEST(DistanceCollapse, WeightedTokensRefuseWhatTheyCannotHold) {
  RowMatrix<double> X(2, 2);
  X << 1, 0, 0, 1;
  EXPECT_THROW(weighted_tokens(kAlpha, X), std::invalid_argument);  // 3 weights, 2 tokens
  const WeightedTokens w = weighted_tokens(std::vector<double>{0.5, 0.5}, X);
  EXPECT_THROW(dtilde_readings(w, std::vector<std::size_t>{0, 1}), std::invalid_argument);  // none left out
  EXPECT_THROW(dtilde_readings(w, std::vector<std::size_t>{0, 0}), std::invalid_argument);
  EXPECT_THROW(protocol_distinguishable_fraction(w, std::vector<std::size_t>{5}), std::invalid_argument);
}

TEST(DistanceCollapse, Thm1FixedTermsMatchHandComputedExample) {
  const auto t = thm1_fixed_terms<double>(std::span<const double>(kAlpha), kX, kSelected);
  EXPECT_NEAR(t.alpha_bar, 0.5, tol(0.5));
  EXPECT_NEAR(t.d1, std::sqrt(5.0), tol(t.d1));
  EXPECT_NEAR(t.M_N, 1.0, tol(1.0));
  EXPECT_NEAR(t.bound, std::sqrt(5.0) / 2 + 0.5, tol(t.bound));
}

TEST(DistanceCollapse, RandomSubsetExpectationMatchesHandComputedExample) {
  const std::span<const double> a(kAlpha);
  const auto e = expected_over_random_subsets<double>(a, kX, 1);
  EXPECT_NEAR(e.dtilde[1], (1 + std::sqrt(5.0)) / 3, tol(e.dtilde[1]));
  const double jensen = thm1_random_jensen_term<double>(a, kX, 1);
  EXPECT_NEAR(jensen, (1 + std::sqrt(13.0) / 2) / 3, tol(jensen));
  // Readings B and C vanish when every token is selected; A becomes ‖s‖ = ‖Σ y_i‖ = ‖(1, .75)‖.
  const auto all = expected_over_random_subsets<double>(a, kX, 3);
  EXPECT_EQ(all.dtilde[1], 0.0);
  EXPECT_EQ(all.dtilde[2], 0.0);
  EXPECT_NEAR(all.dtilde[0], 1.25, tol(1.25));
}

TEST(DistanceCollapse, BallEnclosesHandComputedValues) {
  const long prec = 64;
  std::vector<Ball> alpha;
  for (double v : kAlpha) alpha.emplace_back(v, prec);
  TokenMatrix<Ball> X{3, 2, {}};
  for (double v : kX.data) X.data.emplace_back(v, prec);
  const std::span<const Ball> a(alpha);
  const Ball five(5.0, 256), thirteen(13.0, 256);
  const Ball exact_b = sqrt(five) / Ball(4) + Ball(0.5);
  const Ball exact_c = sqrt(thirteen) / Ball(4);
  const Ball b = dtilde<Ball>(DtildeReading::B, a, X, kSelected);
  const Ball c = dtilde<Ball>(DtildeReading::C, a, X, kSelected);
  // Both balls contain the exact value, so they must overlap.
  EXPECT_TRUE(b.overlaps(exact_b)) << b.str() << " vs " << exact_b.str();
  EXPECT_TRUE(c.overlaps(exact_c)) << c.str() << " vs " << exact_c.str();
  EXPECT_TRUE(dtilde<Ball>(DtildeReading::A, a, X, kSelected).contains(0.75));
  const auto e = expected_over_random_subsets<Ball>(a, X, 1);
  EXPECT_TRUE(e.dtilde[1].overlaps((Ball(1) + sqrt(five)) / Ball(3)));
  // Radius: a few dozen roundings at 64 bits.
  EXPECT_LT(b.relative_radius(), 1e-15);
}

TEST(DistanceCollapse, TopNBreaksTiesTowardLowerIndex) {
  const std::vector<double> l = {0, 1, 1, -2};
  EXPECT_EQ(top_n_indices(l, 1), (std::vector<std::size_t>{1}));
  EXPECT_EQ(top_n_indices(l, 2), (std::vector<std::size_t>{1, 2}));
  EXPECT_EQ(top_n_indices(l, 3), (std::vector<std::size_t>{0, 1, 2}));
  const std::vector<double> tied = {3, 3, 3};
  EXPECT_EQ(top_n_indices(tied, 2), (std::vector<std::size_t>{0, 1}));
  const std::vector<double> masked = {-INFINITY, -INFINITY, 0};
  EXPECT_EQ(top_n_indices(masked, 2), (std::vector<std::size_t>{0, 2}));
}

TEST(DistanceCollapse, TopNFromQueryKeysUsesExactLogits) {
  // l₀ = 1e16, l₁ = 1e16 + 1: equal after rounding to double, so a rounded ranking would tie and
  // pick index 0; the exact ranking picks 1.
  Instance x;
  x.arrays["q"] = RowMatrix<double>(1, 2);
  x.arrays["q"] << 1, 1;
  x.arrays["K"] = RowMatrix<double>(2, 2);
  x.arrays["K"] << 1e16, 0, 1e16, 1;
  ASSERT_EQ(1e16 + 1.0, 1e16);
  EXPECT_EQ(instance_top_n(x, 1), (std::vector<std::size_t>{1}));
}

TEST(DistanceCollapse, BallEnclosesMpOnRandomInstances) {
  const std::uint64_t seed = 20250817;
  std::cout << "seed " << seed << "\n";
  for (int k = 0; k < 20; ++k) {
    Rng rng = Rng(seed).substream(static_cast<std::uint64_t>(k));
    SCOPED_TRACE("seed " + std::to_string(seed) + " substream " + std::to_string(k));
    const long L = 2 + static_cast<long>(rng.below(7)), d = 1 + static_cast<long>(rng.below(4));
    const long N = 1 + static_cast<long>(rng.below(static_cast<std::uint64_t>(L - 1)));
    Instance x;
    x.scalars = {{"N", static_cast<double>(N)}, {"T", 0.7}};
    x.arrays["logits"] = RowMatrix<double>(1, L);
    x.arrays["X"] = RowMatrix<double>(L, d);
    for (long i = 0; i < L; ++i) x.arrays["logits"](0, i) = rng.normal(0, 3);
    for (long i = 0; i < L * d; ++i) x.arrays["X"].data()[i] = rng.normal();
    const long prec = 64;
    for (const char* name : {"dtilde_A", "dtilde_B", "dtilde_C"}) {
      const Ball b = quantity<Ball>(name, x, TierContext<Ball>{prec});
      MpPrecision scope(256);
      const Mp m = quantity<Mp>(name, x, TierContext<Mp>{256});
      EXPECT_TRUE(contains(b, m)) << name << ": " << b.str();
      EXPECT_LT(b.radius(), 1e-12 * (1 + std::abs(b.mid()))) << name;
    }
    // The enumeration and the Jensen term too.
    const TokenMatrix<Ball> Xb = instance_tokens(x, TierContext<Ball>{prec});
    std::vector<Ball> ab;
    std::vector<Mp> am;
    MpPrecision scope(256);
    const TokenMatrix<Mp> Xm = instance_tokens(x, TierContext<Mp>{256});
    for (long i = 0; i < L; ++i) {
      // Any weights will do for enclosure; both tiers get the same double 1/L exactly.
      const double w = 1.0 / static_cast<double>(L);
      ab.emplace_back(w, prec);
      am.push_back(mp_from_double(w, 256));
    }
    const auto eb = expected_over_random_subsets<Ball>(std::span<const Ball>(ab), Xb, N);
    const auto em = expected_over_random_subsets<Mp>(std::span<const Mp>(am), Xm, N);
    for (std::size_t r = 0; r < 3; ++r) EXPECT_TRUE(contains(eb.dtilde[r], em.dtilde[r])) << r;
    EXPECT_TRUE(contains(eb.context_norm, em.context_norm));
    EXPECT_TRUE(contains(thm1_random_jensen_term<Ball>(std::span<const Ball>(ab), Xb, N),
                         thm1_random_jensen_term<Mp>(std::span<const Mp>(am), Xm, N)));
  }
}

TEST(DistanceCollapse, EnumerationAgreesWithMonteCarlo) {
  const std::uint64_t seed = 7;
  std::cout << "seed " << seed << "\n";
  SCOPED_TRACE("seed " + std::to_string(seed));
  Rng rng(seed);
  const long L = 7, d = 3, N = 3;
  std::vector<double> alpha = rng.uniform_vector(static_cast<std::size_t>(L), 0.1, 1.0);
  double total = 0;
  for (double v : alpha) total += v;
  for (double& v : alpha) v /= total;
  const TokenMatrix<double> X{L, d, rng.normal_vector(static_cast<std::size_t>(L * d))};
  const auto exact = expected_over_random_subsets<double>(std::span<const double>(alpha), X, N);
  // Hoeffding: every d̃ lies in [0, R] with R = (L − N)·2·Σ_i‖y_i‖ (triangle inequality, ‖s‖ ≤
  // Σ‖y_i‖), so |mean − E| <= R·√(ln(2/δ)/(2n)) except with probability δ = 1e-9.
  double R = 0;
  for (long i = 0; i < L; ++i) {
    double ss = 0;
    for (long c = 0; c < d; ++c) ss += alpha[static_cast<std::size_t>(i)] * X(i, c) * alpha[static_cast<std::size_t>(i)] * X(i, c);
    R += std::sqrt(ss);
  }
  R *= 2.0 * static_cast<double>(L - N);
  const long n = 200000;
  const double t = R * std::sqrt(std::log(2e9) / (2.0 * static_cast<double>(n)));
  for (int r = 0; r < 3; ++r) {
    const double mc = expected_dtilde_monte_carlo(static_cast<DtildeReading>(r), alpha, X, N, n, seed + 1);
    EXPECT_NEAR(mc, exact.dtilde[static_cast<std::size_t>(r)], t) << "reading " << r;
  }
}

TEST(DistanceCollapse, ProjectKeepsNBelowLAndIsIdempotent) {
  Instance x;
  x.arrays["logits"] = RowMatrix<double>::Zero(1, 5);
  x.arrays["X"] = RowMatrix<double>::Zero(5, 2);
  for (double n : {1.0, 4.0, 5.0, 9.0, 63.0}) {
    x.scalars["N"] = n;
    project_top_n(x);
    const double once = x.scalar("N");
    EXPECT_GE(once, 1);
    EXPECT_LE(once, 4);
    EXPECT_EQ(top_n_admissible(x), Tri::True);
    project_top_n(x);
    EXPECT_EQ(x.scalar("N"), once);
  }
  x.scalars["N"] = 5;  // N = L leaves no non-selected token
  EXPECT_EQ(top_n_admissible(x), Tri::False);
}

TEST(DistanceCollapse, BadInputThrowsWithRange) {
  const std::span<const double> a(kAlpha);
  const std::vector<std::size_t> none = {};
  const std::vector<std::size_t> all = {0, 1, 2};
  EXPECT_THROW(thm1_fixed_terms<double>(a, kX, none), std::invalid_argument);
  EXPECT_THROW(thm1_fixed_terms<double>(a, kX, all), std::invalid_argument);
  const std::vector<std::size_t> out_of_range = {3};
  EXPECT_THROW(dtilde<double>(DtildeReading::B, a, kX, out_of_range), std::invalid_argument);
  const std::vector<double> short_alpha = {1.0};
  EXPECT_THROW(dtilde<double>(DtildeReading::B, short_alpha, kX, kSelected), std::invalid_argument);
  EXPECT_THROW(top_n_indices(kAlpha, 0), std::invalid_argument);
  EXPECT_THROW(top_n_indices(kAlpha, 4), std::invalid_argument);
  const std::vector<double> nan_logits = {0, NAN};
  EXPECT_THROW(top_n_indices(nan_logits, 1), std::domain_error);
  const TokenMatrix<double> big{kMaxEnumerationTokens + 1, 1,
                                std::vector<double>(static_cast<std::size_t>(kMaxEnumerationTokens + 1), 1.0)};
  const std::vector<double> big_alpha(static_cast<std::size_t>(kMaxEnumerationTokens + 1), 0.01);
  EXPECT_THROW(expected_over_random_subsets<double>(big_alpha, big, 1), std::invalid_argument);
  Instance x;
  x.arrays["logits"] = RowMatrix<double>::Zero(1, 3);
  x.scalars["N"] = 1;
  EXPECT_THROW(quantity<double>("dtilde_B", x, TierContext<double>{}), std::invalid_argument);  // no X
  x.arrays["X"] = RowMatrix<double>::Zero(3, 2);
  x.scalars["N"] = 0.5;
  EXPECT_THROW(quantity<double>("dtilde_B", x, TierContext<double>{}), std::invalid_argument);
  try {
    x.scalars["N"] = 4;
    quantity<double>("dtilde_A", x, TierContext<double>{});
    FAIL() << "N > L accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[1, 3]"), std::string::npos) << e.what();
  }
}

TEST(DistanceCollapse, GrowthMeasurementRejectsBadOptions) {
  DtildeGrowthOptions o;
  o.lengths = {4, 8};
  o.N = 5;  // N must be below every length
  EXPECT_THROW(measure_dtilde_growth(o), std::invalid_argument);
  o.N = 1;
  o.trials = 2;
  o.d = 2;
  const DtildeGrowth g = measure_dtilde_growth(o);
  ASSERT_EQ(g.mean[1].size(), 2u);
  // C = ‖Σ_{i∉I}(y_i − s)‖ ≤ Σ_{i∉I}‖y_i − s‖ = B (triangle inequality); 1e-12 relative covers
  // the rounding of a few hundred flops at u = 2^-53.
  for (std::size_t k = 0; k < 2; ++k) EXPECT_LE(g.mean[2][k], g.mean[1][k] * (1 + 1e-12));
}

}  // namespace
}  // namespace attncert
