// Feature maps of linear attention: the Taylor-2 identity (exactly), Performer unbiasedness
// within its known variance (C.performer-mse), orthogonal Performer blocks, cosFormer's
// re-weighting, Ball enclosures of the Mp reference, and bad input.
#include "numerics/feature_maps.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <stdexcept>
#include <string>

#include "numerics/ball.hpp"
#include "numerics/mp.hpp"
#include "numerics/rng.hpp"
#include "numerics/scalar_traits.hpp"
#include "numerics/tier_conversions.hpp"
#include "tests/numerics/linear_attention_test_support.hpp"

namespace attncert {
namespace {

using namespace linear_attention_testing;  // NOLINT(google-build-using-namespace)

// --- Taylor-2 ---------------------------------------------------------------------------------

TEST(Taylor2FeatureMap, InnerProductIsExactlyOnePlusSPlusHalfSSquaredInExactBalls) {
  constexpr std::uint64_t seed = 101;
  ATTNCERT_TRACE_SEED(seed);
  Rng rng(seed);
  const FeatureMap phi = FeatureMap::taylor2();
  for (Index d : {1, 2, 5, 16}) {
    const RowMatrix<double> q = random_matrix(rng, 3, d), k = random_matrix(rng, 4, d);
    // Exact balls: + and × of exact balls are exact, so both sides are exact rationals.
    const RowMatrix<Ball> qb = to_ball(q, Ball::kExact), kb = to_ball(k, Ball::kExact);
    const RowMatrix<Ball> fq = phi.query_features<Ball>(qb), fk = phi.key_features<Ball>(kb);
    ASSERT_EQ(fq.cols(), 1 + d + d * (d + 1) / 2);
    for (Index i = 0; i < 3; ++i) {
      for (Index j = 0; j < 4; ++j) {
        Ball inner(0), s(0);
        for (Index a = 0; a < fq.cols(); ++a) inner += fq(i, a) * fk(j, a);
        for (Index a = 0; a < d; ++a) s += qb(i, a) * kb(j, a);
        const Ball expected = Ball(1) + s + s * s * Ball(0.5);
        ASSERT_TRUE(inner.is_exact() && expected.is_exact());
        EXPECT_TRUE(certainly(inner == expected)) << inner << " vs " << expected;
      }
    }
  }
}

TEST(Taylor2FeatureMap, InnerProductIsExactInDoubleOnSmallIntegers) {
  // Integers up to 4 in d = 3: every product and sum below is an integer or half-integer far
  // below 2^53, so double arithmetic is exact and == is the right comparison.
  const FeatureMap phi = FeatureMap::taylor2();
  RowMatrix<double> q(2, 3), k(2, 3);
  q << 1, -2, 3, 4, 0, -1;
  k << -3, 2, 1, 2, 2, 2;
  const RowMatrix<double> fq = phi.query_features<double>(q), fk = phi.key_features<double>(k);
  for (Index i = 0; i < 2; ++i)
    for (Index j = 0; j < 2; ++j) {
      const double s = q.row(i).dot(k.row(j));
      EXPECT_EQ(fq.row(i).dot(fk.row(j)), 1.0 + s + 0.5 * s * s) << "i=" << i << " j=" << j;
    }
}

// --- Performer ------------------------------------------------------------------------------

// C.performer-mse: MSE = (1/m)·e^{‖x+y‖²}·e^{2xᵀy}·(1 − e^{−‖x+y‖²}); the estimator is unbiased,
// so this is its variance and the mean of N independent estimators has standard error
// sqrt(MSE/N). |mean − e^{xᵀy}| ≤ 5 standard errors fails with probability < 1e-6 (CLT).
void check_performer_mean(bool orthogonal) {
  constexpr std::uint64_t base_seed = 20251123;
  ATTNCERT_TRACE_SEED(base_seed);
  constexpr Index d = 4, m = 8, trials = 2000;
  RowMatrix<double> x(1, d), y(1, d);
  x << 0.3, -0.2, 0.5, 0.1;
  y << -0.1, 0.4, 0.2, -0.3;
  double sum = 0.0;
  for (Index t = 0; t < trials; ++t) {
    const FeatureMap phi = FeatureMap::performer(d, m, base_seed + static_cast<std::uint64_t>(t),
                                                 orthogonal);
    const RowMatrix<double> fx = phi.query_features<double>(x), fy = phi.key_features<double>(y);
    sum += fx.row(0).dot(fy.row(0));
  }
  const double mean = sum / static_cast<double>(trials);
  const double xy = x.row(0).dot(y.row(0)), s2 = (x + y).squaredNorm();
  const double mse = std::exp(s2) * std::exp(2.0 * xy) * (1.0 - std::exp(-s2)) / m;
  // Orthogonal blocks: each ω_i is still N(0, I) (unbiased) and Choromanski et al. 2021
  // (Thm. 2) show the MSE of positive orthogonal features is no larger, so the iid MSE is a
  // valid (conservative) variance here too.
  const double tolerance = 5.0 * std::sqrt(mse / static_cast<double>(trials));
  std::cout << "performer" << (orthogonal ? " (orthogonal)" : "") << ": seeds " << base_seed
            << ".." << base_seed + trials - 1 << ", mean " << mean << ", e^{x.y} "
            << std::exp(xy) << ", tolerance " << tolerance << "\n";
  EXPECT_LE(std::abs(mean - std::exp(xy)), tolerance);
}

TEST(PerformerFeatureMap, MeanMatchesExpWithinMseDerivedTolerance) { check_performer_mean(false); }

TEST(PerformerFeatureMap, OrthogonalMeanMatchesExpWithinMseDerivedTolerance) {
  check_performer_mean(true);
}

TEST(PerformerFeatureMap, OrthogonalBlocksHaveOrthogonalRowsAndReproduceFromSeed) {
  constexpr std::uint64_t seed = 77;
  ATTNCERT_TRACE_SEED(seed);
  constexpr Index d = 5, m = 12;  // two full blocks and a partial one
  const RowMatrix<double> w = performer_directions(d, m, seed, true);
  ASSERT_EQ(w.rows(), m);
  ASSERT_EQ(w.cols(), d);
  // Within a block, rows are orthogonal up to Gram–Schmidt rounding: |cos| ≤ c·d·u, c = 10
  // (two MGS passes, each O(d·u)).
  const double tol = 10.0 * d * ScalarTraits<double>::unit_roundoff();
  for (Index b = 0; b < m; b += d)
    for (Index i = b; i < std::min(b + d, m); ++i)
      for (Index j = b; j < i; ++j) {
        const double c = w.row(i).dot(w.row(j)) / (w.row(i).norm() * w.row(j).norm());
        EXPECT_LE(std::abs(c), tol) << "rows " << i << ", " << j;
      }
  EXPECT_EQ(w, performer_directions(d, m, seed, true));
  EXPECT_NE(w, performer_directions(d, m, seed + 1, true));
  EXPECT_EQ(FeatureMap::performer(d, m, seed, true).performer_directions(), w);
}

TEST(PerformerFeatureMap, FeaturesArePositiveAndBallEnclosesMp) {
  constexpr std::uint64_t seed = 5;
  ATTNCERT_TRACE_SEED(seed);
  Rng rng(seed);
  const FeatureMap phi = FeatureMap::performer(3, 7, seed);
  const RowMatrix<double> x = random_matrix(rng, 4, 3);
  const RowMatrix<Ball> fb = phi.query_features<Ball>(to_ball(x, 128));
  MpPrecision guard(256);
  const RowMatrix<Mp> fm = phi.query_features<Mp>(to_mp(x, 256));
  for (Index i = 0; i < 4; ++i)
    for (Index r = 0; r < 7; ++r) {
      EXPECT_TRUE(certainly(fb(i, r) > 0));
      EXPECT_TRUE(contains(fb(i, r), fm(i, r))) << fb(i, r);
      EXPECT_LT(fb(i, r).relative_radius(), 1e-30);
    }
}

// --- elu+1, relu, cosFormer ----------------------------------------------------------------

TEST(EluPlusOneFeatureMap, BallStraddlingZeroEnclosesTheImage) {
  const FeatureMap phi = FeatureMap::elu_plus_one();
  RowMatrix<Ball> x(1, 1);
  x(0, 0) = Ball::interval(-0.5, 0.25, 64);
  const Ball f = phi.query_features<Ball>(x)(0, 0);
  for (double t : {-0.5, -0.1, 0.0, 0.1, 0.25}) {
    const double expected = t > 0 ? t + 1.0 : std::exp(t);
    EXPECT_TRUE(f.contains(expected)) << "t=" << t << " f=" << f;
  }
  RowMatrix<double> xd(1, 3);
  xd << -2.0, 0.0, 3.0;
  const RowMatrix<double> fd = phi.query_features<double>(xd);
  EXPECT_EQ(fd(0, 0), std::exp(-2.0));
  EXPECT_EQ(fd(0, 1), 1.0);
  EXPECT_EQ(fd(0, 2), 4.0);
}

TEST(CosFormerFeatureMap, InnerProductIsReluKernelTimesCosineOfPositionGap) {
  constexpr std::uint64_t seed = 9;
  ATTNCERT_TRACE_SEED(seed);
  Rng rng(seed);
  constexpr Index L = 6, d = 3, M = 10, offset = 2;
  const FeatureMap phi = FeatureMap::cosformer(M);
  const RowMatrix<double> q = random_matrix(rng, L, d), k = random_matrix(rng, L, d);
  const RowMatrix<double> fq = phi.query_features<double>(q, offset);
  const RowMatrix<double> fk = phi.key_features<double>(k, offset);
  // Both sides: a 2d-term dot product of rounded products, ≤ c·d·u relative to the sum of
  // absolute terms (c = 8 for the cos/sin, product and sum roundings).
  const double u = ScalarTraits<double>::unit_roundoff();
  for (Index i = 0; i < L; ++i)
    for (Index j = 0; j < L; ++j) {
      double relu_dot = 0.0, abs_sum = 0.0;
      for (Index a = 0; a < d; ++a) {
        relu_dot += std::max(q(i, a), 0.0) * std::max(k(j, a), 0.0);
        abs_sum += std::abs(std::max(q(i, a), 0.0) * std::max(k(j, a), 0.0));
      }
      const double expected =
          relu_dot * std::cos(std::numbers::pi / 2.0 * static_cast<double>(i - j) / M);
      EXPECT_NEAR(fq.row(i).dot(fk.row(j)), expected, 8.0 * (2 * d) * u * abs_sum + 1e-300);
    }
  // Ball encloses Mp (cos/sin of the exact rational angle).
  const RowMatrix<Ball> fb = phi.query_features<Ball>(to_ball(q, 128), offset);
  MpPrecision guard(256);
  const RowMatrix<Mp> fm = phi.query_features<Mp>(to_mp(q, 256), offset);
  for (Index i = 0; i < L; ++i)
    for (Index a = 0; a < 2 * d; ++a) EXPECT_TRUE(contains(fb(i, a), fm(i, a))) << fb(i, a);
}

TEST(FeatureMaps, BallEnclosesMpForEveryMap) {
  constexpr std::uint64_t seed = 31;
  ATTNCERT_TRACE_SEED(seed);
  Rng rng(seed);
  const RowMatrix<double> x = random_matrix(rng, 5, 4);
  for (const FeatureMap& phi :
       {FeatureMap::identity(), FeatureMap::relu(), FeatureMap::elu_plus_one(),
        FeatureMap::taylor2(), FeatureMap::performer(4, 6, seed, true), FeatureMap::cosformer(5)}) {
    SCOPED_TRACE(phi.name());
    const RowMatrix<Ball> fb = phi.key_features<Ball>(to_ball(x, 96));
    MpPrecision guard(300);
    const RowMatrix<Mp> fm = phi.key_features<Mp>(to_mp(x, 300));
    ASSERT_EQ(fb.cols(), phi.feature_dim(4));
    ASSERT_EQ(fm.cols(), fb.cols());
    for (Index i = 0; i < fb.rows(); ++i)
      for (Index a = 0; a < fb.cols(); ++a) EXPECT_TRUE(contains(fb(i, a), fm(i, a))) << fb(i, a);
  }
}

// --- bad input ------------------------------------------------------------------------------

TEST(FeatureMaps, BadInputGetsClearErrors) {
  EXPECT_THROW(FeatureMap::performer(3, 0, 1), std::invalid_argument);
  expect_throw_mentioning([] { FeatureMap::performer(3, 0, 1); }, "m = 0");
  expect_throw_mentioning([] { FeatureMap::performer(0, 4, 1); }, "d = 0");
  expect_throw_mentioning([] { FeatureMap::cosformer(-1); }, "horizon");

  RowMatrix<double> x(2, 3);
  x << 1, 2, 3, 4, std::nan(""), 6;
  EXPECT_THROW(FeatureMap::relu().query_features<double>(x), std::domain_error);
  expect_throw_mentioning([&] { FeatureMap::relu().query_features<double>(x); }, "(1, 1)");
  x(1, 1) = INFINITY;
  EXPECT_THROW(FeatureMap::elu_plus_one().key_features<double>(x), std::domain_error);
  x(1, 1) = 5;

  const FeatureMap perf = FeatureMap::performer(4, 3, 1);
  EXPECT_THROW(perf.query_features<double>(x), std::invalid_argument);  // d = 3 ≠ 4
  EXPECT_THROW(FeatureMap::cosformer(0).query_features<double>(x), std::invalid_argument);
  expect_throw_mentioning([&] { FeatureMap::cosformer(2).query_features<double>(x, 1); },
                          "horizon M >= 3");
  // Exact balls carry no precision for exp: a clear error, not a silent exact claim.
  EXPECT_THROW(FeatureMap::elu_plus_one().query_features<Ball>(to_ball(-x, Ball::kExact)),
               std::domain_error);
}

}  // namespace
}  // namespace attncert
