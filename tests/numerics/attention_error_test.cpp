// Softmax vs linear / kernel attention errors: the Taylor-2 kernel error within its certified
// remainder (C.taylor2), zero error when the kernel is exp itself, Ball error enclosures of the
// Mp reference, double errors within rounding of the Ball ones, Performer's error shrinking
// with m, and bad input.
#include "numerics/attention_error.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
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

TEST(KernelApproximationError, Taylor2ErrorIsWithinCertifiedTaylorRemainder) {
  constexpr std::uint64_t seed = 1234;
  ATTNCERT_TRACE_SEED(seed);
  Rng rng(seed);
  constexpr Index L = 6, d = 4;
  const RowMatrix<double> Q = random_matrix(rng, L, d), K = random_matrix(rng, L, d);
  const Ball scale = Ball(1, 128) / sqrt(Ball(4, 128));  // 1/√d, exact here but via Ball
  const auto eb = kernel_approximation_error<Ball>(to_ball(Q, 128), to_ball(K, 128),
                                                   FeatureMap::taylor2(), scale);
  const auto ed = kernel_approximation_error<double>(Q, K, FeatureMap::taylor2(), 0.5);
  for (Index i = 0; i < L; ++i)
    for (Index j = 0; j < L; ++j) {
      const double s = 0.5 * Q.row(i).dot(K.row(j));
      // C.taylor2 (Lagrange remainder): |e^s − (1 + s + s²/2)| ≤ |s|³ e^{max(s,0)} / 6, with the
      // exact s of the inputs enclosed in Ball.
      Ball sb(0);
      for (Index a = 0; a < d; ++a) sb += Ball(Q(i, a), 128) * Ball(K(j, a), 128);
      sb = sb * Ball(0.5);
      const Ball bound = pow(abs(sb), 3) * exp(max(sb, Ball(0, 128))) / Ball(6, 128);
      EXPECT_TRUE(certainly(eb.error(i, j) <= bound)) << eb.error(i, j) << " vs " << bound;
      // The double error is the same quantity up to the rounding of e^s and of the features
      // (|e^s| + Σ|φ_qφ_k| ≤ e^|s| + 1 + |s| + s²/2, relative error ≤ γ_{m+8}).
      const double m = static_cast<double>(FeatureMap::taylor2().feature_dim(d));
      const double scale_err = higham_gamma(static_cast<long>(m) + 8,
                                            ScalarTraits<double>::unit_roundoff()) *
                               (std::exp(std::abs(s)) + 1 + std::abs(s) + s * s / 2);
      EXPECT_LE(std::abs(ed.error(i, j) - eb.error(i, j).mid()), scale_err + eb.error(i, j).radius());
    }
  EXPECT_TRUE(certainly(eb.max >= eb.error(0, 0)));
}

TEST(AttentionApproximationError, ExpNormaliserHasZeroErrorAgainstSoftmax) {
  constexpr std::uint64_t seed = 8;
  ATTNCERT_TRACE_SEED(seed);
  Rng rng(seed);
  const RowMatrix<double> Q = random_matrix(rng, 5, 3), K = random_matrix(rng, 5, 3),
                          V = random_matrix(rng, 5, 2);
  const auto F = ScoreKernel<Ball>::normaliser([](const Ball& s) { return exp(s); }, "exp");
  for (const bool causal : {false, true}) {
    const auto e = attention_approximation_error<Ball>(to_ball(Q, 128), to_ball(K, 128),
                                                       to_ball(V, 128), F, Ball(0.5, 128), causal);
    // Both sides enclose the same exact numbers, so every error enclosure contains 0 and is
    // as narrow as the two enclosures (≈ 2^-120 relative).
    for (const Ball* x : {&e.weights_max, &e.weights_frobenius, &e.total_variation_max,
                          &e.output_max, &e.output_frobenius}) {
      EXPECT_TRUE(x->contains(0.0)) << *x;
      EXPECT_LT(x->upper(), 1e-30) << *x;
    }
  }
}

TEST(AttentionApproximationError, BallEnclosesMpAndDoubleIsWithinRounding) {
  constexpr std::uint64_t seed = 4711;
  ATTNCERT_TRACE_SEED(seed);
  Rng rng(seed);
  constexpr Index L = 7, d = 3, dv = 2;
  const RowMatrix<double> Q = random_matrix(rng, L, d), K = random_matrix(rng, L, d),
                          V = random_matrix(rng, L, dv);
  for (const FeatureMap& phi : {FeatureMap::elu_plus_one(), FeatureMap::taylor2(),
                                FeatureMap::performer(d, 16, seed)}) {
    for (const bool causal : {false, true}) {
      SCOPED_TRACE(phi.name() + (causal ? " causal" : ""));
      const auto eb = attention_approximation_error<Ball>(
          to_ball(Q, 128), to_ball(K, 128), to_ball(V, 128), phi, Ball(0.5, 128), causal);
      const auto ed = attention_approximation_error<double>(Q, K, V, phi, 0.5, causal);
      MpPrecision guard(256);
      const auto em = attention_approximation_error<Mp>(to_mp(Q, 256), to_mp(K, 256),
                                                        to_mp(V, 256), phi,
                                                        mp_from_double(0.5, 256), causal);
      EXPECT_TRUE(contains(eb.weights_max, em.weights_max)) << eb.weights_max;
      EXPECT_TRUE(contains(eb.weights_frobenius, em.weights_frobenius));
      EXPECT_TRUE(contains(eb.total_variation_max, em.total_variation_max));
      EXPECT_TRUE(contains(eb.output_max, em.output_max));
      EXPECT_TRUE(contains(eb.output_frobenius, em.output_frobenius));
      for (Index i = 0; i < L; ++i) EXPECT_TRUE(contains(eb.row_l1[i], em.row_l1[i]));
      // Double: each weight (in [0, 1]) and each output entry (|O| ≤ max|v|) carries ≤ γ_n
      // relative rounding, n = m + L + d + 16 (features, sums, exp, division); the measures are
      // 1-Lipschitz (max), √(#entries)-Lipschitz (Frobenius), #cols-Lipschitz (ℓ1) in the
      // entries, and each side contributes.
      const double g = 2.0 * higham_gamma(phi.feature_dim(d) + L + d + 16,
                                          ScalarTraits<double>::unit_roundoff());
      const double vmax = V.cwiseAbs().maxCoeff();
      auto near = [](double x, const Ball& b, double tol) {
        return std::abs(x - b.mid()) <= tol + b.radius();
      };
      EXPECT_TRUE(near(ed.weights_max, eb.weights_max, g));
      EXPECT_TRUE(near(ed.weights_frobenius, eb.weights_frobenius, g * L));
      EXPECT_TRUE(near(ed.total_variation_max, eb.total_variation_max, g * L));
      EXPECT_TRUE(near(ed.output_max, eb.output_max, g * vmax));
      EXPECT_TRUE(near(ed.output_frobenius, eb.output_frobenius, g * vmax * std::sqrt(L * dv)));
      // Total variation between two distributions is at most 1, and is half the ℓ1 distance.
      EXPECT_LE(eb.total_variation_max.lower(), 1.0);
      double max_l1 = 0.0;
      for (double x : ed.row_l1) max_l1 = std::max(max_l1, x);
      EXPECT_EQ(ed.total_variation_max, 0.5 * max_l1);
    }
  }
}

TEST(AttentionApproximationError, PerformerOutputErrorShrinksWithMoreFeatures) {
  // MSE ∝ 1/m (C.performer-mse): with 64× more features the typical output error drops by
  // ≈ 8×; over 20 seeds the mean error for m = 256 must be below the mean for m = 4 (a
  // factor-2 margin keeps it far from a coin flip).
  constexpr std::uint64_t seed = 606;
  ATTNCERT_TRACE_SEED(seed);
  Rng rng(seed);
  const RowMatrix<double> Q = random_matrix(rng, 6, 3, 0.5), K = random_matrix(rng, 6, 3, 0.5),
                          V = random_matrix(rng, 6, 2);
  double few = 0.0, many = 0.0;
  for (std::uint64_t t = 0; t < 20; ++t) {
    few += attention_approximation_error<double>(Q, K, V, FeatureMap::performer(3, 4, seed + t),
                                                 1.0, true)
               .output_frobenius;
    many += attention_approximation_error<double>(
                Q, K, V, FeatureMap::performer(3, 256, seed + t), 1.0, true)
                .output_frobenius;
  }
  std::cout << "performer output error (sum over 20 seeds): m=4 " << few << ", m=256 " << many << "\n";
  EXPECT_LT(2.0 * many, few);
}

TEST(AttentionApproximationError, BadInputGetsClearErrors) {
  RowMatrix<double> Q(2, 1), K(2, 1), V(2, 1);
  Q << 1, 1;
  K << -1, -2;
  V << 1, 2;
  try {
    attention_approximation_error<double>(Q, K, V, FeatureMap::identity(), 1.0, true);
    ADD_FAILURE() << "a negative normaliser must not be compared";
  } catch (const std::domain_error& e) {
    EXPECT_NE(std::string(e.what()).find("row 0"), std::string::npos) << e.what();
  }
  const RowMatrix<double> P = RowMatrix<double>::Zero(2, 2), A = RowMatrix<double>::Zero(2, 3);
  EXPECT_THROW(attention_difference<double>(P, A, V, V), std::invalid_argument);
  const RowMatrix<double> K3 = RowMatrix<double>::Ones(3, 1);
  EXPECT_THROW(attention_approximation_error<double>(Q, K3, V, FeatureMap::relu(), 1.0, false),
               std::invalid_argument);
  EXPECT_THROW(kernel_approximation_error<double>(Q, K, FeatureMap::relu(), -1.0),
               std::invalid_argument);
}

}  // namespace
}  // namespace attncert
