// Linear attention and kernel attention: the prefix-sum recurrence against the quadratic
// formula (computed here, independently), Ball enclosures of the double and Mp results,
// split-and-resume, edge shapes, reported non-positive normalisers, and bad input.
#include "numerics/linear_attention.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "numerics/ball.hpp"
#include "numerics/mp.hpp"
#include "numerics/rng.hpp"
#include "numerics/scalar_traits.hpp"
#include "numerics/softmax_attention.hpp"
#include "numerics/tier_conversions.hpp"
#include "tests/numerics/linear_attention_test_support.hpp"

namespace attncert {
namespace {

using namespace linear_attention_testing;  // NOLINT(google-build-using-namespace)

std::vector<FeatureMap> all_maps(Index d, std::uint64_t seed) {
  return {FeatureMap::relu(),        FeatureMap::elu_plus_one(),
          FeatureMap::taylor2(),     FeatureMap::performer(d, 2 * d + 1, seed),
          FeatureMap::performer(d, d + 2, seed, true), FeatureMap::cosformer()};
}

// The quadratic formula O_i = Σ_j w_ij v_j / Σ_j w_ij with w_ij = φ_q(q'_i)ᵀφ_k(k_j), written
// directly (no running state), plus a first-order rounding bound for comparing two double
// evaluations of it: each of numerator and denominator is a sum of ≤ m·L products, so
// |Δnum_c| ≤ γ·Σ_j |w|_ij |v_jc| and |Δden| ≤ γ·Σ_j |w|_ij with |w|_ij = Σ_a |φ_q||φ_k|, and
// |ΔO_ic| ≤ (|Δnum_c| + |O_ic|·|Δden|)/|den|. Two evaluations: twice that; c = 2 for the
// division and the scale multiplication.
struct Quadratic {
  RowMatrix<double> output, bound;
  Eigen::VectorXd den;
};
Quadratic quadratic_formula(const RowMatrix<double>& Q, const RowMatrix<double>& K,
                            const RowMatrix<double>& V, const FeatureMap& phi, double scale,
                            bool causal) {
  const FeatureMap map = phi.with_default_horizon(std::max(Q.rows(), K.rows()));
  const RowMatrix<double> Qs = scale * Q;
  const RowMatrix<double> fq = map.query_features<double>(Qs), fk = map.key_features<double>(K);
  const Index m = fq.cols();
  const double gamma = higham_gamma(m + K.rows() + 4, ScalarTraits<double>::unit_roundoff());
  Quadratic r{RowMatrix<double>::Zero(Q.rows(), V.cols()), RowMatrix<double>::Zero(Q.rows(), V.cols()),
              Eigen::VectorXd::Zero(Q.rows())};
  for (Index i = 0; i < Q.rows(); ++i) {
    const Index visible = causal ? i + 1 : K.rows();
    double den = 0.0, abs_den = 0.0;
    Eigen::RowVectorXd num = Eigen::RowVectorXd::Zero(V.cols()), abs_num = num;
    for (Index j = 0; j < visible; ++j) {
      const double w = fq.row(i).dot(fk.row(j));
      const double aw = fq.row(i).cwiseAbs().dot(fk.row(j).cwiseAbs());
      den += w;
      abs_den += aw;
      num += w * V.row(j);
      abs_num += aw * V.row(j).cwiseAbs();
    }
    r.output.row(i) = num / den;
    r.den(i) = den;
    for (Index c = 0; c < V.cols(); ++c)
      r.bound(i, c) = 2.0 * gamma * (abs_num(c) + std::abs(r.output(i, c)) * abs_den) / std::abs(den);
  }
  return r;
}

// ReLU-based maps give an exactly zero normaliser when relu(q_i) = 0 (or every visible key's
// relu features are orthogonal to it); the recurrence must report that row, not divide by 0.
// Returns whether row i is Ok (and so comparable); checks that a failed row is exactly that case.
template <class Result>
bool expect_ok_unless_relu_zero(const Result& r, const FeatureMap& phi, Index i, double quadratic_den) {
  const RowStatus st = r.row_status[static_cast<std::size_t>(i)];
  if (st == RowStatus::Ok) return true;
  const bool relu_based =
      phi.kind() == FeatureMapKind::Relu || phi.kind() == FeatureMapKind::CosFormer;
  EXPECT_TRUE(relu_based) << phi.name() << " row " << i << ": " << to_string(st);
  EXPECT_EQ(st, RowStatus::NormaliserNotPositive);
  EXPECT_EQ(quadratic_den, 0.0) << "row " << i;
  return false;
}

// --- prefix sums vs the quadratic formula -------------------------------------------------------

TEST(LinearAttention, PrefixSumRecurrenceMatchesQuadraticFormulaOnEdgeShapes) {
  constexpr std::uint64_t seed = 4242;
  ATTNCERT_TRACE_SEED(seed);
  Rng rng(seed);
  struct Shape {
    Index L, d, dv;
  };
  // L = 1, 2, odd L, d = 1, d > L; L = 300 spans three chunks of the double path (128).
  for (const Shape s : {Shape{1, 1, 1}, Shape{2, 3, 2}, Shape{7, 1, 3}, Shape{9, 4, 5},
                        Shape{3, 11, 2}, Shape{33, 8, 4}, Shape{300, 3, 2}}) {
    for (const bool causal : {true, false}) {
      const RowMatrix<double> Q = random_matrix(rng, s.L, s.d, 0.7), K = random_matrix(rng, s.L, s.d, 0.7),
                              V = random_matrix(rng, s.L, s.dv);
      const double scale = 1.0 / std::sqrt(static_cast<double>(s.d));
      for (const FeatureMap& phi : all_maps(s.d, seed)) {
        SCOPED_TRACE(phi.name() + " L=" + std::to_string(s.L) + " d=" + std::to_string(s.d) +
                     (causal ? " causal" : ""));
        const auto r = linear_attention<double>(Q, K, V, phi, scale, causal);
        const Quadratic ref = quadratic_formula(Q, K, V, phi, scale, causal);
        ASSERT_EQ(r.output.rows(), s.L);
        ASSERT_EQ(r.output.cols(), s.dv);
        for (Index i = 0; i < s.L; ++i) {
          if (!expect_ok_unless_relu_zero(r, phi, i, ref.den(i))) continue;
          for (Index c = 0; c < s.dv; ++c)
            EXPECT_NEAR(r.output(i, c), ref.output(i, c), ref.bound(i, c)) << i << "," << c;
        }
        EXPECT_EQ(r.state.tokens, s.L);
      }
    }
  }
}

TEST(LinearAttention, NonCausalWithDifferentQueryAndKeyLengthsMatchesQuadraticFormula) {
  constexpr std::uint64_t seed = 17;
  ATTNCERT_TRACE_SEED(seed);
  Rng rng(seed);
  const RowMatrix<double> Q = random_matrix(rng, 5, 3), K = random_matrix(rng, 8, 3),
                          V = random_matrix(rng, 8, 2);
  const FeatureMap phi = FeatureMap::elu_plus_one();
  const auto r = linear_attention<double>(Q, K, V, phi, 0.5, false);
  const Quadratic ref = quadratic_formula(Q, K, V, phi, 0.5, false);
  for (Index i = 0; i < 5; ++i)
    for (Index c = 0; c < 2; ++c) EXPECT_NEAR(r.output(i, c), ref.output(i, c), ref.bound(i, c));
}

TEST(LinearAttention, AttentionMatrixRowsSumToOneAndReproduceTheOutput) {
  constexpr std::uint64_t seed = 23;
  ATTNCERT_TRACE_SEED(seed);
  Rng rng(seed);
  const RowMatrix<double> Q = random_matrix(rng, 6, 4), K = random_matrix(rng, 6, 4),
                          V = random_matrix(rng, 6, 3);
  const FeatureMap phi = FeatureMap::taylor2();
  const auto A = linear_attention_matrix<double>(Q, K, phi, 0.5, true);
  ASSERT_TRUE(A.all_ok());
  const auto r = linear_attention<double>(Q, K, V, phi, 0.5, true);
  const RowMatrix<double> AV = A.weights * V;
  // Row sums: L additions of weights in [0, 1] → ≤ L·u; A·V vs recurrence: both ≤ γ_{m+L}
  // relative to Σ|w||v| (weights are positive for Taylor-2 since 1 + s + s²/2 > 0).
  const double u = ScalarTraits<double>::unit_roundoff();
  const double gamma = higham_gamma(phi.feature_dim(4) + 6 + 4, u);
  for (Index i = 0; i < 6; ++i) {
    EXPECT_NEAR(A.weights.row(i).sum(), 1.0, 8.0 * u);
    for (Index j = i + 1; j < 6; ++j) EXPECT_EQ(A.weights(i, j), 0.0);
    for (Index c = 0; c < 3; ++c)
      EXPECT_NEAR(AV(i, c), r.output(i, c), 4.0 * gamma * V.col(c).cwiseAbs().maxCoeff());
  }
}

// --- Ball enclosures ---------------------------------------------------------------------------

TEST(LinearAttention, CausalBallEnclosesMpAndDoubleIsWithinItsRoundingBound) {
  constexpr std::uint64_t seed = 99;
  ATTNCERT_TRACE_SEED(seed);
  Rng rng(seed);
  constexpr Index L = 9, d = 3, dv = 2;
  const RowMatrix<double> Q = random_matrix(rng, L, d), K = random_matrix(rng, L, d),
                          V = random_matrix(rng, L, dv);
  for (const FeatureMap& phi : all_maps(d, seed)) {
    SCOPED_TRACE(phi.name());
    const auto rb = linear_attention<Ball>(to_ball(Q, 128), to_ball(K, 128), to_ball(V, 128),
                                           phi, Ball(0.5, 128), true);
    const auto rd = linear_attention<double>(Q, K, V, phi, 0.5, true);
    const Quadratic ref = quadratic_formula(Q, K, V, phi, 0.5, true);  // for its bound
    MpPrecision guard(256);
    const auto rm = linear_attention<Mp>(to_mp(Q, 256), to_mp(K, 256), to_mp(V, 256), phi,
                                         mp_from_double(0.5, 256), true);
    Index compared = 0;
    for (Index i = 0; i < L; ++i) {
      // A zero normaliser (ReLU maps) is exactly zero in every tier: the same rows fail.
      EXPECT_EQ(rb.row_status[i], rm.row_status[i]) << "row " << i;
      EXPECT_EQ(rd.row_status[i], rm.row_status[i]) << "row " << i;
      if (!expect_ok_unless_relu_zero(rb, phi, i, ref.den(i))) continue;
      ++compared;
      for (Index c = 0; c < dv; ++c) {
        const Ball& b = rb.output(i, c);
        EXPECT_TRUE(contains(b, rm.output(i, c))) << b;
        EXPECT_LT(b.radius(), 1e-25);
        // The double recurrence is within its rounding bound (half the two-run bound) of
        // the exact value, which the ball encloses.
        EXPECT_LE(std::abs(rd.output(i, c) - b.mid()), 0.5 * ref.bound(i, c) + b.radius());
      }
    }
    EXPECT_GE(compared, L / 2);  // the check is not vacuous
    for (Index a = 0; a < rb.state.k_sum.size(); ++a)
      EXPECT_TRUE(contains(rb.state.k_sum(a), rm.state.k_sum(a)));
  }
}

TEST(LinearAttention, FloatTierAgreesWithDoubleWithinFloatRounding) {
  constexpr std::uint64_t seed = 7;
  ATTNCERT_TRACE_SEED(seed);
  Rng rng(seed);
  const RowMatrix<double> Q = random_matrix(rng, 12, 4), K = random_matrix(rng, 12, 4),
                          V = random_matrix(rng, 12, 3);
  const FeatureMap phi = FeatureMap::elu_plus_one();
  const auto rd = linear_attention<double>(Q, K, V, phi, 0.5, true);
  const auto rf = linear_attention<float>(Q.cast<float>(), K.cast<float>(), V.cast<float>(),
                                          phi, 0.5f, true);
  // Positive features: relative error of num and den ≤ γ_{m+L+4}(u_float) each, so
  // |ΔO| ≤ 2γ·max|v| (O is a convex combination of the v_j), plus the exp error of elu.
  const double gamma = higham_gamma(4 + 12 + 8, ScalarTraits<float>::unit_roundoff());
  for (Index i = 0; i < 12; ++i)
    for (Index c = 0; c < 3; ++c)
      EXPECT_NEAR(rf.output(i, c), rd.output(i, c), 4.0 * gamma * V.cwiseAbs().maxCoeff());
}

// --- split and resume ------------------------------------------------------------------------

TEST(LinearAttention, SplitAndResumeMatchesOneCall) {
  constexpr std::uint64_t seed = 2718;
  ATTNCERT_TRACE_SEED(seed);
  Rng rng(seed);
  constexpr Index L = 13, d = 4, dv = 3;
  const RowMatrix<double> Q = random_matrix(rng, L, d), K = random_matrix(rng, L, d),
                          V = random_matrix(rng, L, dv);
  std::vector<FeatureMap> maps = all_maps(d, seed);
  maps.back() = FeatureMap::cosformer(L);  // resuming needs a fixed horizon
  for (const FeatureMap& phi : maps) {
    const auto whole = linear_attention<double>(Q, K, V, phi, 0.5, true);
    const Quadratic ref = quadratic_formula(Q, K, V, phi, 0.5, true);
    const RowMatrix<double> fk = phi.with_default_horizon(L).key_features<double>(K);
    for (Index split : {Index{1}, Index{6}, L - 1}) {
      SCOPED_TRACE(phi.name() + " split at " + std::to_string(split));
      const auto first = linear_attention<double>(Q.topRows(split), K.topRows(split),
                                                  V.topRows(split), phi, 0.5, true);
      const RowMatrix<double> Qr = Q.bottomRows(L - split), Kr = K.bottomRows(L - split),
                              Vr = V.bottomRows(L - split);
      const auto rest = linear_attention<double>(Qr, Kr, Vr, phi, 0.5, true, &first.state);
      // The double path sums in chunks (blas::gemm), so a split changes the summation order:
      // both calls agree with the quadratic formula within its forward bound (any order), and
      // the states within 2γ_{L+2}·Σ_j |fk_j||v_j| of each other.
      for (Index i = 0; i < L; ++i) {
        if (!expect_ok_unless_relu_zero(whole, phi, i, ref.den(i))) continue;
        const auto& part = i < split ? first.output : rest.output;
        const Index row = i < split ? i : i - split;
        for (Index c = 0; c < dv; ++c)
          EXPECT_NEAR(part(row, c), ref.output(i, c), ref.bound(i, c)) << i << "," << c;
      }
      EXPECT_EQ(first.row_status, std::vector<RowStatus>(whole.row_status.begin(),
                                                          whole.row_status.begin() + split));
      const double state_gamma = 2 * higham_gamma(L + 2, ScalarTraits<double>::unit_roundoff());
      const RowMatrix<double> kv_abs = fk.cwiseAbs().transpose() * V.cwiseAbs();
      const Eigen::RowVectorXd k_sum_abs = fk.cwiseAbs().colwise().sum();
      for (Index a = 0; a < fk.cols(); ++a) {
        for (Index c = 0; c < dv; ++c)
          EXPECT_NEAR(rest.state.kv(a, c), whole.state.kv(a, c), state_gamma * kv_abs(a, c));
        EXPECT_NEAR(rest.state.k_sum(a), whole.state.k_sum(a), state_gamma * k_sum_abs(a));
      }
      EXPECT_EQ(rest.state.tokens, L);
    }
  }
  // A cosFormer map without a horizon cannot be resumed consistently: refused.
  const auto first = linear_attention<double>(Q.topRows(3), K.topRows(3), V.topRows(3),
                                              FeatureMap::cosformer(), 0.5, true);
  expect_throw_mentioning(
      [&] {
        linear_attention<double>(Q.bottomRows(L - 3), K.bottomRows(L - 3), V.bottomRows(L - 3),
                                 FeatureMap::cosformer(), 0.5, true, &first.state);
      },
      "explicit horizon");
}

TEST(LinearAttention, BallSplitAndResumeEnclosesOneCall) {
  constexpr std::uint64_t seed = 314;
  ATTNCERT_TRACE_SEED(seed);
  Rng rng(seed);
  constexpr Index L = 5, d = 2, dv = 2;
  const RowMatrix<Ball> Q = to_ball(random_matrix(rng, L, d), 100),
                        K = to_ball(random_matrix(rng, L, d), 100),
                        V = to_ball(random_matrix(rng, L, dv), 100);
  const FeatureMap phi = FeatureMap::elu_plus_one();
  const auto whole = linear_attention<Ball>(Q, K, V, phi, Ball(1), true);
  const auto first = linear_attention<Ball>(Q.topRows(2), K.topRows(2), V.topRows(2), phi, Ball(1), true);
  const RowMatrix<Ball> Qr = Q.bottomRows(3), Kr = K.bottomRows(3), Vr = V.bottomRows(3);
  const auto rest = linear_attention<Ball>(Qr, Kr, Vr, phi, Ball(1), true, &first.state);
  for (Index i = 0; i < 3; ++i)
    for (Index c = 0; c < dv; ++c) EXPECT_TRUE(rest.output(i, c).overlaps(whole.output(2 + i, c)));
}

// --- non-positive normalisers -------------------------------------------------------------------

TEST(LinearAttention, IdentityMapNegativeNormaliserIsReportedNotDividedThrough) {
  // d = 1: q = 1, keys −1 and −2: the normaliser of row 1 (causal) is −3, of row 0 it is −1.
  RowMatrix<double> Q(2, 1), K(2, 1), V(2, 1);
  Q << 1, 1;
  K << -1, -2;
  V << 5, 7;
  const auto r = linear_attention<double>(Q, K, V, FeatureMap::identity(), 1.0, true);
  EXPECT_FALSE(r.all_ok());
  EXPECT_EQ(r.row_status[0], RowStatus::NormaliserNotPositive);
  EXPECT_EQ(r.row_status[1], RowStatus::NormaliserNotPositive);
  EXPECT_EQ(r.normaliser(1), -3.0);
  EXPECT_TRUE(std::isnan(r.output(1, 0)));
  ASSERT_TRUE(r.first_failed_row().has_value());
  EXPECT_EQ(*r.first_failed_row(), 0);
  expect_throw_mentioning(
      [&] { linear_attention_or_throw<double>(Q, K, V, FeatureMap::identity(), 1.0, true); },
      "row 0");
  // A zero normaliser (keys 1 and −1, row 1) is reported too; row 0 (normaliser 1) is fine.
  K << 1, -1;
  const auto z = linear_attention<double>(Q, K, V, FeatureMap::identity(), 1.0, true);
  EXPECT_EQ(z.row_status[0], RowStatus::Ok);
  EXPECT_EQ(z.output(0, 0), 5.0);
  EXPECT_EQ(z.row_status[1], RowStatus::NormaliserNotPositive);
  expect_throw_mentioning(
      [&] { linear_attention_or_throw<double>(Q, K, V, FeatureMap::identity(), 1.0, true); },
      "row 1");
  // Ball: a normaliser enclosure that contains 0 is "not certainly > 0".
  RowMatrix<Ball> Qb(1, 1), Kb(2, 1), Vb(2, 1);
  Qb(0, 0) = Ball(1.0, 64);
  Kb(0, 0) = Ball(1.0, 64);
  Kb(1, 0) = Ball::interval(-1.0 - 1e-9, -1.0 + 1e-9, 64);
  Vb(0, 0) = Ball(1.0, 64);
  Vb(1, 0) = Ball(2.0, 64);
  const auto rb = linear_attention<Ball>(Qb, Kb, Vb, FeatureMap::identity(), Ball(1), false);
  EXPECT_EQ(rb.row_status[0], RowStatus::NormaliserUndecided);
  EXPECT_FALSE(rb.output(0, 0).is_finite());
  expect_throw_mentioning(
      [&] { linear_attention_or_throw<Ball>(Qb, Kb, Vb, FeatureMap::identity(), Ball(1), false); },
      "not certainly > 0");
}

// --- kernel attention ---------------------------------------------------------------------------

TEST(KernelAttention, ExpNormaliserReproducesSoftmaxAttention) {
  constexpr std::uint64_t seed = 55;
  ATTNCERT_TRACE_SEED(seed);
  Rng rng(seed);
  const RowMatrix<double> Q = random_matrix(rng, 7, 3), K = random_matrix(rng, 7, 3),
                          V = random_matrix(rng, 7, 2);
  const auto F = ScoreKernel<double>::normaliser([](const double& s) { return std::exp(s); }, "exp");
  for (const bool causal : {false, true}) {
    const auto r = kernel_attention<double>(Q, K, V, F, 0.5, causal);
    ASSERT_TRUE(r.all_ok());
    SoftmaxAttentionOptions<double> options;
    options.scale = 0.5;
    if (causal) options.keys = KeyVisibility::causal_mask();
    const auto soft = softmax_attention<double>(Q, K, V, options);
    // Both are convex combinations of V rows with weights accurate to ≈ (d + L + exp)·u each
    // (logits here are O(1), so the exp error is a few u): c = 4 on γ_{d+L+8}.
    const double gamma = higham_gamma(3 + 7 + 8, ScalarTraits<double>::unit_roundoff());
    for (Index i = 0; i < 7; ++i)
      for (Index c = 0; c < 2; ++c)
        EXPECT_NEAR(r.output(i, c), soft.output(i, c), 4.0 * gamma * V.cwiseAbs().maxCoeff());
  }
}

TEST(KernelAttention, PowerKernelMatchesDirectFormulaAndBallEnclosesMp) {
  constexpr std::uint64_t seed = 66;
  ATTNCERT_TRACE_SEED(seed);
  Rng rng(seed);
  constexpr Index L = 6, d = 3;
  // Positive entries keep every s = q·k > 0 (paper B's domain s ∈ [r, R], r > 0).
  RowMatrix<double> Q = random_matrix(rng, L, d).cwiseAbs(), K = random_matrix(rng, L, d).cwiseAbs();
  Q.array() += 0.1;
  K.array() += 0.1;
  const RowMatrix<double> V = random_matrix(rng, L, 2);
  for (const double beta : {1.0, 2.5, 3.0}) {
    SCOPED_TRACE("beta = " + std::to_string(beta));
    const auto kernel = ScoreKernel<double>::power(beta);
    const auto r = kernel_attention<double>(Q, K, V, kernel, 1.0, true);
    ASSERT_TRUE(r.all_ok());
    for (Index i = 0; i < L; ++i) {
      double den = 0.0;
      Eigen::RowVectorXd num = Eigen::RowVectorXd::Zero(2);
      for (Index j = 0; j <= i; ++j) {
        const double w = std::pow(Q.row(i).dot(K.row(j)), beta);
        den += w;
        num += w * V.row(j);
      }
      // Positive weights, each with relative error ≤ (d + 2 + pow)·u: c = 4 on γ_{d+L+8}.
      const double tol = 4.0 * higham_gamma(d + L + 8, ScalarTraits<double>::unit_roundoff()) *
                         V.cwiseAbs().maxCoeff();
      for (Index c = 0; c < 2; ++c) EXPECT_NEAR(r.output(i, c), num(c) / den, tol);
    }
    const auto rb = kernel_attention<Ball>(to_ball(Q, 128), to_ball(K, 128), to_ball(V, 128),
                                           ScoreKernel<Ball>::power(beta), Ball(1), true);
    MpPrecision guard(256);
    const auto rm = kernel_attention<Mp>(to_mp(Q, 256), to_mp(K, 256), to_mp(V, 256),
                                         ScoreKernel<Mp>::power(beta), mp_from_double(1.0, 256), true);
    for (Index i = 0; i < L; ++i)
      for (Index c = 0; c < 2; ++c) EXPECT_TRUE(contains(rb.output(i, c), rm.output(i, c)));
  }
}

TEST(KernelAttention, PowerKernelOutsideItsDomainIsReported) {
  RowMatrix<double> Q(2, 1), K(2, 1), V(2, 1);
  Q << 1, -1;
  K << 1, 2;
  V << 1, 2;
  const auto r = kernel_attention<double>(Q, K, V, ScoreKernel<double>::power(0.5), 1.0, false);
  EXPECT_EQ(r.row_status[0], RowStatus::Ok);
  EXPECT_EQ(r.row_status[1], RowStatus::KernelArgumentNotPositive);
  EXPECT_TRUE(std::isnan(r.output(1, 0)));
  const auto F = ScoreKernel<double>::normaliser([](const double& s) { return s; }, "identity");
  const auto rf = kernel_attention<double>(Q, K, V, F, 1.0, false);
  EXPECT_EQ(rf.row_status[1], RowStatus::KernelValueNotPositive);
}

// --- bad input --------------------------------------------------------------------------------------

TEST(LinearAttention, BadInputGetsClearErrors) {
  RowMatrix<double> Q = RowMatrix<double>::Ones(3, 2), K = RowMatrix<double>::Ones(3, 2),
                    V = RowMatrix<double>::Ones(3, 1);
  const FeatureMap phi = FeatureMap::relu();
  const RowMatrix<double> K3 = RowMatrix<double>::Ones(3, 3), V4 = RowMatrix<double>::Ones(4, 1);
  const RowMatrix<double> Q4 = RowMatrix<double>::Ones(4, 2), empty(0, 2);
  expect_throw_mentioning([&] { linear_attention<double>(Q, K3, V, phi, 1.0, false); }, "same dimension");
  expect_throw_mentioning([&] { linear_attention<double>(Q, K, V4, phi, 1.0, false); }, "one row per key");
  expect_throw_mentioning([&] { linear_attention<double>(Q4, K, V, phi, 1.0, true); }, "as many queries as keys");
  expect_throw_mentioning([&] { linear_attention<double>(empty, K, V, phi, 1.0, false); }, "empty");
  EXPECT_THROW(linear_attention<double>(Q, K, V, phi, 0.0, false), std::invalid_argument);
  EXPECT_THROW(linear_attention<double>(Q, K, V, phi, -1.0, false), std::invalid_argument);
  EXPECT_THROW(linear_attention<double>(Q, K, V, phi, NAN, false), std::domain_error);
  V(2, 0) = NAN;
  expect_throw_mentioning([&] { linear_attention<double>(Q, K, V, phi, 1.0, false); }, "V(2, 0)");
  V(2, 0) = 1.0;
  Q(1, 1) = -INFINITY;
  expect_throw_mentioning([&] { linear_attention<double>(Q, K, V, phi, 1.0, false); }, "Q(1, 1)");
  Q(1, 1) = 1.0;
  LinearAttentionState<double> bad;
  bad.kv = RowMatrix<double>::Zero(5, 1);
  bad.k_sum = ColVector<double>::Zero(5);
  bad.tokens = 3;
  expect_throw_mentioning([&] { linear_attention<double>(Q, K, V, phi, 1.0, true, &bad); }, "state");
  EXPECT_THROW(linear_attention<double>(Q, K, V, FeatureMap::performer(3, 4, 1), 1.0, true),
               std::invalid_argument);
  expect_throw_mentioning([] { ScoreKernel<double>::power(0.0); }, "beta = 0");
  EXPECT_THROW(ScoreKernel<double>::power(-1.0), std::invalid_argument);
  EXPECT_THROW(ScoreKernel<double>::power(NAN), std::invalid_argument);
  EXPECT_THROW(ScoreKernel<double>::normaliser(nullptr), std::invalid_argument);
  EXPECT_THROW(kernel_attention<double>(Q, K3, V, ScoreKernel<double>::power(1.0), 1.0, false),
               std::invalid_argument);
}

}  // namespace
}  // namespace attncert
