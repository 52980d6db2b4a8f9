// Softmax Jacobian (secular-equation norm, dense form, certified enclosure), the general
// normaliser Jacobian (paper A, Lemma 2), spectral norms, and the finite-difference
// sensitivity of paper A's Algorithm 5.
//
// References: Eigen's SelfAdjointEigenSolver in double (dense, O(L³)) and, for the high
// precision reference, the one-sided Jacobi SVD in Mp (jacobian_spectral_norm<Mp>; J is
// symmetric PSD so σ_max = λ_max) — the Mp dense solver is instantiated once in the library,
// not in this test, to keep this TU fast to compile.
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <sstream>
#include <span>
#include <stdexcept>
#include <vector>

#include "numerics/ball.hpp"
#include "numerics/eigen_support.hpp"
#include "numerics/mp.hpp"
#include "numerics/normaliser.hpp"
#include "numerics/normaliser_jacobian.hpp"
#include "numerics/rng.hpp"
#include "numerics/scalar_traits.hpp"
#include "numerics/softmax.hpp"
#include "numerics/softmax_jacobian.hpp"
#include "numerics/tier_conversions.hpp"

namespace attncert {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
const double kU = ScalarTraits<double>::unit_roundoff();

void announce_seed(std::uint64_t seed) {
  std::cout << "[ seed ] " << ::testing::UnitTest::GetInstance()->current_test_info()->name()
            << ": Rng seed " << seed << "\n";
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
}

std::string row_text(std::span<const double> l, double t) {
  std::ostringstream s;
  s.precision(17);
  s << "T = " << t << ", logits =";
  for (double x : l) s << ' ' << x;
  return s.str();
}

std::vector<Mp> to_mp(std::span<const double> xs, long bits) {
  std::vector<Mp> out;
  for (double x : xs) out.push_back(mp_from_double(x, bits));
  return out;
}

std::vector<Ball> ball_row(std::span<const double> xs, long prec) {
  std::vector<Ball> out;
  for (double x : xs) out.emplace_back(x, prec);
  return out;
}

/// λ_max of the dense double Jacobian by the symmetric eigensolver.
double dense_norm(std::span<const double> l, double t) {
  const RowMatrix<double> J = softmax_jacobian<double>(l, t);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(Eigen::MatrixXd(J), Eigen::EigenvaluesOnly);
  return es.eigenvalues().maxCoeff();
}

/// High-precision reference: σ_max of the Mp dense Jacobian (JacobiSVD) at `bits`.
double mp_dense_norm(std::span<const double> l, double t, long bits) {
  const std::vector<Mp> lm = to_mp(l, bits);
  const Mp tm = mp_from_double(t, bits);
  const RowMatrix<Mp> J = softmax_jacobian<Mp>(std::span<const Mp>(lm), tm);
  MpPrecision scope(bits);
  return mp_to_double(jacobian_spectral_norm<Mp>(J));
}

/// Rows that exercise the edge cases, then random rows.
std::vector<std::vector<double>> edge_rows() {
  return {{0.0},
          {1.0, -2.0},
          {3.0, 3.0},
          {0.5, 0.5, 0.5, 0.5, 0.5},
          {2.0, 2.0, 1.0, -1.0},              // tied top
          {2.0, 1.0, 1.0, 1.0, -3.0},         // tied second
          {40.0, 0.0, 0.0, -5.0, 1.0},        // one dominant weight (λ ≪ α_max)
          {700.0, -700.0, 3.0},               // huge logits
          {1e-12, -1e-12, 0.0},               // tiny logits (near-uniform)
          {-kInf, 1.0, 0.0, -kInf},           // masked entries
          {-kInf, 1.0},                       // a single unmasked logit
          {-kInf, -kInf, -kInf}};             // fully masked
}

std::vector<double> random_row(Rng& rng, std::size_t L, double spread) {
  std::vector<double> l = rng.normal_vector(L, 0.0, spread);
  return l;
}

// ---------------------------------------------------------------------------------------
// Secular norm vs dense eigensolvers
// ---------------------------------------------------------------------------------------

// Tolerance vs the double eigensolver. The dense J's entries carry relative error <= 4u
// (weights, sums, one product, one division), i.e. an absolute perturbation of norm
// <= ‖E‖_F <= 4u·L·α_max/T; the Householder + QR eigensolver is backward stable with error
// <= c·L·u·‖J‖₂ <= c·L·u·α_max/T (c ~ 4). The secular value is relatively accurate
// (<= 2γ_{L+3} + weight errors, see softmax_jacobian.cpp). Sum, with a factor 2 of slack:
// 16·L·u·α_max/T.
TEST(SoftmaxJacobianNorm, SecularEqualsDenseSymmetricEigensolver) {
  const std::uint64_t seed = 101;
  announce_seed(seed);
  Rng rng(seed);
  std::vector<std::vector<double>> rows = edge_rows();
  for (std::size_t L : {1u, 2u, 3u, 5u, 7u, 16u, 33u, 64u})
    for (double spread : {0.1, 2.0, 20.0}) rows.push_back(random_row(rng, L, spread));
  for (const auto& l : rows) {
    for (double t : {0.03, 1.0, 7.5}) {
      SCOPED_TRACE(row_text(l, t));
      const double secular = softmax_jacobian_norm<double>(l, t);
      const double dense = dense_norm(l, t);
      const std::vector<double> alpha = softmax<double>(l, t);
      const double amax = *std::max_element(alpha.begin(), alpha.end());
      EXPECT_NEAR(secular, dense, 16.0 * static_cast<double>(l.size()) * kU * amax / t);
    }
  }
}

// Relative agreement with a 256-bit reference, including rows where one weight dominates and
// ‖J‖ ≪ α_max/T (where the double dense solver has no relative accuracy at all). Weight w_i =
// exp(x_i), x_i = (l_i − max)/T, has relative error <= (2 + 2|x_i|)u (argument rounding γ_2|x_i|,
// exp within 1 ulp); the root moves by a weighted mean of those; evaluation adds <= 2γ_{L+3},
// S adds γ_L and the final division 2u. Tolerance: 2·((2 + 2 max|x_i|)u + 2γ_{L+3} + γ_L + 2u),
// restricted to weights that matter (|x_i| <= 745, beyond that the weight underflows to 0 and
// its relative contribution to λ is below 2^-1000).
TEST(SoftmaxJacobianNorm, SecularIsRelativelyAccurateAgainstMpReference) {
  const std::uint64_t seed = 202;
  announce_seed(seed);
  Rng rng(seed);
  std::vector<std::vector<double>> rows;
  for (std::size_t L : {2u, 3u, 9u, 17u}) {
    for (double spread : {0.5, 5.0, 40.0}) rows.push_back(random_row(rng, L, spread));
    std::vector<double> dominant = random_row(rng, L, 1.0);
    dominant[0] = 35.0;  // α_0 ≈ 1 − 1e-15, λ ≈ Σ_{i>0} α_i
    rows.push_back(dominant);
  }
  for (const auto& l : rows) {
    for (double t : {0.2, 1.0, 3.0}) {
      SCOPED_TRACE(row_text(l, t));
      const double secular = softmax_jacobian_norm<double>(l, t);
      const double reference = mp_dense_norm(l, t, 256);
      const double top = *std::max_element(l.begin(), l.end());
      double xmax = 0;
      for (double x : l) xmax = std::max(xmax, std::min(745.0, std::abs(x - top) / t));
      const auto L = static_cast<long>(l.size());
      const double tol = 2.0 * ((2.0 + 2.0 * xmax) * kU + 2.0 * higham_gamma(L + 3, kU) +
                                higham_gamma(L, kU) + 2.0 * kU);
      EXPECT_LE(std::abs(secular - reference), tol * reference) << "secular " << secular
                                                                << " reference " << reference;
    }
  }
}

TEST(SoftmaxJacobianNorm, MpSecularAgreesWithMpDenseAtHighPrecision) {
  const std::uint64_t seed = 303;
  announce_seed(seed);
  Rng rng(seed);
  const long bits = 200;
  for (std::size_t L : {2u, 5u, 12u}) {
    const std::vector<double> l = random_row(rng, L, 3.0);
    SCOPED_TRACE(row_text(l, 0.5));
    const std::vector<Mp> lm = to_mp(l, bits);
    const Mp t = mp_from_double(0.5, bits);
    const Mp secular = softmax_jacobian_norm<Mp>(std::span<const Mp>(lm), t);
    const RowMatrix<Mp> J = softmax_jacobian<Mp>(std::span<const Mp>(lm), t);
    MpPrecision scope(bits);
    const Mp dense = jacobian_spectral_norm<Mp>(J);
    // Both at 200 bits: c·L·u with u = 2^-200 and c = 64 (dense Jacobi sweeps + secular).
    const Mp diff = abs(Mp(secular - dense));
    EXPECT_LE(mp_to_double(diff / dense), 64.0 * static_cast<double>(L) * std::ldexp(1.0, -200));
  }
}

TEST(SoftmaxJacobianNorm, ClosedFormsForTiesLengthOneAndTwo) {
  // L = 1 and single unmasked / fully masked rows: J = 0.
  EXPECT_EQ(softmax_jacobian_norm<double>(std::vector<double>{4.0}, 1.0), 0.0);
  EXPECT_EQ(softmax_jacobian_norm<double>(std::vector<double>{-kInf, 2.0, -kInf}, 1.0), 0.0);
  EXPECT_EQ(softmax_jacobian_norm<double>(std::vector<double>{-kInf, -kInf}, 1.0), 0.0);
  // L = 2: eigenvalues 0 and 2ab; the secular solver's two-pole start is exact here.
  for (double d : {0.0, 0.3, 4.0, 30.0}) {
    const std::vector<double> l = {d, 0.0};
    const std::vector<double> a = softmax<double>(l, 0.7);
    EXPECT_NEAR(softmax_jacobian_norm<double>(l, 0.7), 2 * a[0] * a[1] / 0.7,
                8 * kU * 2 * a[0] * a[1] / 0.7);
  }
  // All equal: α = 1/L, eigenvalue 1/L with multiplicity L − 1, so ‖J‖ = 1/(L·T).
  for (std::size_t L : {2u, 3u, 10u, 64u}) {
    const std::vector<double> l(L, 1.25);
    EXPECT_NEAR(softmax_jacobian_norm<double>(l, 2.0), 1.0 / (static_cast<double>(L) * 2.0),
                4 * kU / static_cast<double>(L));
  }
  // Tied top weight: ‖J‖ = α_max/T exactly (deflation).
  const std::vector<double> tied = {2.0, -1.0, 2.0, 0.5};
  const std::vector<double> a = softmax<double>(tied, 1.0);
  EXPECT_DOUBLE_EQ(softmax_jacobian_norm<double>(tied, 1.0), a[0]);
  // Masked entries are deflated: same norm as the row without them.
  EXPECT_DOUBLE_EQ(softmax_jacobian_norm<double>(std::vector<double>{-kInf, 1.0, 0.0, -kInf}, 1.0),
                   softmax_jacobian_norm<double>(std::vector<double>{1.0, 0.0}, 1.0));
}

TEST(SoftmaxJacobianNorm, BatchedEqualsPerRowAndFromWeights) {
  const std::uint64_t seed = 404;
  announce_seed(seed);
  Rng rng(seed);
  RowMatrix<double> logits(20, 17);
  for (Eigen::Index i = 0; i < logits.rows(); ++i)
    for (Eigen::Index j = 0; j < logits.cols(); ++j) logits(i, j) = rng.normal(0.0, 3.0);
  const std::vector<double> temps = {0.1, 1.0, 4.0};
  const RowMatrix<double> norms = softmax_jacobian_norms(logits, temps);
  ASSERT_EQ(norms.rows(), 20);
  ASSERT_EQ(norms.cols(), 3);
  RowMatrix<double> alpha(20, 17);
  for (Eigen::Index i = 0; i < logits.rows(); ++i) {
    const std::vector<double> row(logits.row(i).data(), logits.row(i).data() + 17);
    for (std::size_t t = 0; t < temps.size(); ++t)
      EXPECT_EQ(norms(i, static_cast<Eigen::Index>(t)), softmax_jacobian_norm<double>(row, temps[t]));
    const std::vector<double> a = softmax<double>(row, 1.0);
    for (Eigen::Index j = 0; j < 17; ++j) alpha(i, j) = a[static_cast<std::size_t>(j)];
  }
  // From weights: α carries relative error <= (2 + 2|x_i|)u + γ_{L+5}; the result is relatively
  // as accurate as the weights (weighted mean), so 2·(that + evaluation 2γ_{L+3}) with |x| <= 40.
  const std::vector<double> from_w = softmax_jacobian_norms_from_weights(alpha, 1.0);
  for (Eigen::Index i = 0; i < logits.rows(); ++i) {
    EXPECT_NEAR(from_w[static_cast<std::size_t>(i)], norms(i, 1),
                2 * (82 * kU + 3 * higham_gamma(25, kU)) * norms(i, 1));
  }
}

// ---------------------------------------------------------------------------------------
// Classical bounds, certified
// ---------------------------------------------------------------------------------------

TEST(SoftmaxJacobianBounds, NormAtMostHalfOverTAndEntriesAtMostQuarterOverT) {
  const std::uint64_t seed = 505;
  announce_seed(seed);
  Rng rng(seed);
  const long prec = 96;
  std::vector<std::vector<double>> rows = edge_rows();
  for (std::size_t L : {2u, 3u, 8u, 21u}) rows.push_back(random_row(rng, L, 2.0));
  for (const auto& l : rows) {
    for (double t : {0.01, 0.5, 10.0}) {
      SCOPED_TRACE(row_text(l, t));
      const std::vector<Ball> lb = ball_row(l, prec);
      const Ball tb(t, prec);
      const Ball norm = softmax_jacobian_norm<Ball>(std::span<const Ball>(lb), tb);
      const Ball half = Ball(0.5, prec) / tb, quarter = Ball(0.25, prec) / tb;
      // ‖J‖ = 1/(2T) exactly for two tied logits; two tied top logits over a tail come within
      // ~e^{-gap/T}/T of it. Where the double value is within 2^-80/T of the bound (beyond what
      // 96 bits resolve after the weights' condition) the enclosure may touch it; everywhere else
      // "< 1/(2T)" must be proved.
      EXPECT_FALSE(certainly(norm > half));
      const double approx = softmax_jacobian_norm<double>(l, t);
      const bool attained = 0.5 / t - approx <= std::ldexp(1.0, -80) / t;
      if (!attained) {
        EXPECT_TRUE(certainly(norm < half)) << norm;
      }
      const RowMatrix<Ball> J = softmax_jacobian<Ball>(std::span<const Ball>(lb), tb);
      for (Eigen::Index i = 0; i < J.rows(); ++i)
        for (Eigen::Index k = 0; k < J.cols(); ++k)
          EXPECT_FALSE(certainly(abs(J(i, k)) > quarter)) << i << "," << k;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Certified enclosure
// ---------------------------------------------------------------------------------------

TEST(SoftmaxJacobianEnclosure, BallContainsHigherPrecisionReferenceAndIsTight) {
  const std::uint64_t seed = 606;
  announce_seed(seed);
  Rng rng(seed);
  std::vector<std::vector<double>> rows = edge_rows();
  for (std::size_t L : {2u, 3u, 7u, 40u})
    for (double spread : {0.3, 4.0, 60.0}) rows.push_back(random_row(rng, L, spread));
  for (long prec : {64L, 128L}) {
    for (const auto& l : rows) {
      for (double t : {0.05, 1.0, 9.0}) {
        SCOPED_TRACE(row_text(l, t) + ", prec " + std::to_string(prec));
        const std::vector<Ball> lb = ball_row(l, prec);
        const Ball norm = softmax_jacobian_norm<Ball>(std::span<const Ball>(lb), Ball(t, prec));
        ASSERT_TRUE(norm.is_finite());
        // Reference: the Mp secular solver at prec + 200 bits (its error ~2^-(prec+190)).
        const long ref_bits = prec + 200;
        const std::vector<Mp> lm = to_mp(l, ref_bits);
        const Mp ref = softmax_jacobian_norm<Mp>(std::span<const Mp>(lm), mp_from_double(t, ref_bits));
        EXPECT_TRUE(contains(norm, ref)) << norm << " vs " << mp_to_double(ref);
        // Tight: relative radius a modest multiple of 2^-prec, widened by the weights'
        // condition (|x| up to ~ 60·3/0.05 = 3600 -> a factor ~2^12) and L.
        if (!norm.is_zero()) {
          EXPECT_LE(norm.relative_radius(), std::ldexp(1.0, -static_cast<int>(prec) + 24));
        }
      }
    }
  }
  // Also against the independent dense Mp solver (JacobiSVD) at 300 bits for a few rows.
  for (std::size_t i = 0; i < 4; ++i) {
    const std::vector<double> l = random_row(rng, 6, 2.0);
    const std::vector<Ball> lb = ball_row(l, 100);
    const Ball norm = softmax_jacobian_norm<Ball>(std::span<const Ball>(lb), Ball(0.8, 100));
    const std::vector<Mp> lm = to_mp(l, 300);
    const RowMatrix<Mp> J = softmax_jacobian<Mp>(std::span<const Mp>(lm), mp_from_double(0.8, 300));
    MpPrecision scope(300);
    EXPECT_TRUE(contains(norm, jacobian_spectral_norm<Mp>(J)));
  }
}

TEST(SoftmaxJacobianEnclosure, TiedTopLogitsUseInterlacingAndStillContainExactValue) {
  // Exactly tied top logits: ‖J‖ = α_max/T exactly. Ball must contain it.
  const std::vector<double> l = {1.5, 1.5, 0.0, -2.0};
  const long prec = 80;
  const std::vector<Ball> lb = ball_row(l, prec);
  const Ball norm = softmax_jacobian_norm<Ball>(std::span<const Ball>(lb), Ball(0.5, prec));
  const std::vector<Ball> alpha = softmax<Ball>(std::span<const Ball>(lb), Ball(0.5, prec));
  const Ball expected = alpha[0] / Ball(0.5, prec);
  EXPECT_TRUE(norm.overlaps(expected));
  EXPECT_LE(norm.radius(), std::ldexp(1.0, -prec + 8));
  // Wide input balls (not separated): still an enclosure of every point's norm.
  std::vector<Ball> wide = {Ball::interval(0.9, 1.1, prec), Ball::interval(0.95, 1.0, prec),
                            Ball(0.0, prec)};
  const Ball wnorm = softmax_jacobian_norm<Ball>(std::span<const Ball>(wide), Ball(1.0, prec));
  for (double a : {0.9, 1.0, 1.1})
    for (double b : {0.95, 1.0}) {
      const std::vector<double> point = {a, b, 0.0};
      EXPECT_TRUE(wnorm.contains(softmax_jacobian_norm<double>(point, 1.0))) << a << " " << b;
    }
}

// ---------------------------------------------------------------------------------------
// General normaliser (Lemma 2)
// ---------------------------------------------------------------------------------------

TEST(NormaliserJacobian, EqualsSoftmaxJacobianForExponential) {
  const std::uint64_t seed = 707;
  announce_seed(seed);
  Rng rng(seed);
  for (std::size_t L : {1u, 2u, 5u, 13u}) {
    const std::vector<double> l = random_row(rng, L, 1.5);
    const double t = 0.6;
    SCOPED_TRACE(row_text(l, t));
    const RowMatrix<double> general = normaliser_jacobian<double>(
        l, exp_normaliser<double>(t), [t](const double&) { return 1.0 / t; });
    const RowMatrix<double> soft = softmax_jacobian<double>(l, t);
    // Both have entries with relative error <= c·(L + |x|)·u; |entries| <= 1/(4T):
    // 8·(L + 10)·u/T absolute (|l|/T <= ~12 here).
    EXPECT_LE((general - soft).cwiseAbs().maxCoeff(), 8.0 * (static_cast<double>(L) + 10) * kU / t);
    // Certified: the Ball Jacobians overlap entrywise.
    const std::vector<Ball> lb = ball_row(l, 128);
    const Ball tb(t, 128);
    const RowMatrix<Ball> gb = normaliser_jacobian<Ball>(
        std::span<const Ball>(lb), exp_normaliser<Ball>(t),
        [&tb](const Ball&) { return Ball(1) / tb; });
    const RowMatrix<Ball> sb = softmax_jacobian<Ball>(std::span<const Ball>(lb), tb);
    for (Eigen::Index i = 0; i < gb.rows(); ++i)
      for (Eigen::Index k = 0; k < gb.cols(); ++k) EXPECT_TRUE(gb(i, k).overlaps(sb(i, k)));
  }
}

// Lemma 2 for a non-exponential F: J vs central differences of normalise() in Mp at 256 bits,
// h = 2^-60. Truncation <= h²/6·max|∂³α| (a few units for these logits) ~ 1e-36, rounding
// ~ 2^-256/h ~ 1e-59: tolerance 1e-30 separates a right formula from a wrong one by 30 digits.
TEST(NormaliserJacobian, MatchesCentralDifferencesForSoftplus) {
  const std::uint64_t seed = 808;
  announce_seed(seed);
  Rng rng(seed);
  const long bits = 256;
  const double c = 0.5;
  const std::vector<double> l = random_row(rng, 6, 2.0);
  const std::vector<Mp> lm = to_mp(l, bits);
  const LogDerivative<Mp> g = [c](const Mp& x) {
    const Mp sig = Mp(1) / (Mp(1) + exp(Mp(-x)));
    const Mp sp = log1p(exp(x)) + Mp(c);
    return Mp(sig / sp);
  };
  const RowMatrix<Mp> J =
      normaliser_jacobian<Mp>(std::span<const Mp>(lm), softplus_normaliser<Mp>(c), g);
  MpPrecision scope(bits);
  const Mp h = mp_from_double(std::ldexp(1.0, -60), bits);
  for (std::size_t k = 0; k < l.size(); ++k) {
    std::vector<Mp> plus = lm, minus = lm;
    plus[k] += h;
    minus[k] -= h;
    const std::vector<Mp> ap = normalise<Mp>(std::span<const Mp>(plus), softplus_normaliser<Mp>(c));
    const std::vector<Mp> am = normalise<Mp>(std::span<const Mp>(minus), softplus_normaliser<Mp>(c));
    for (std::size_t i = 0; i < l.size(); ++i) {
      const Mp fd = (ap[i] - am[i]) / (2 * h);
      EXPECT_LT(mp_to_double(abs(Mp(fd - J(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k))))),
                1e-30)
          << i << "," << k;
    }
  }
}

TEST(NormaliserJacobian, CertifiedSpectralNormEnclosesMpValueAndIsTight) {
  const std::uint64_t seed = 909;
  announce_seed(seed);
  Rng rng(seed);
  const double c = 0.25;
  for (std::size_t L : {1u, 2u, 4u, 9u}) {
    const std::vector<double> l = random_row(rng, L, 1.0);
    SCOPED_TRACE(row_text(l, c));
    const std::vector<Ball> lb = ball_row(l, 128);
    const LogDerivative<Ball> gb = [c](const Ball& x) {
      const Ball sig = Ball(1) / (Ball(1) + exp(-x));
      return Ball(sig / (log1p(exp(x)) + Ball(c, x.precision())));
    };
    const RowMatrix<Ball> J =
        normaliser_jacobian<Ball>(std::span<const Ball>(lb), softplus_normaliser<Ball>(c), gb);
    const Ball norm = jacobian_spectral_norm<Ball>(J);
    const Ball cheap = spectral_norm_cheap_upper_bound(J);
    // Reference: JacobiSVD in Mp at 300 bits on the midpoint matrix (the exact J lies within
    // the balls' ~2^-120 radii, which moves σ_max by at most ‖radius matrix‖_F).
    RowMatrix<Mp> Jm(J.rows(), J.cols());
    {
      MpPrecision scope(300);
      for (Eigen::Index i = 0; i < J.rows(); ++i)
        for (Eigen::Index k = 0; k < J.cols(); ++k) Jm(i, k) = midpoint_mp(J(i, k));
    }
    MpPrecision scope(300);
    const Mp ref = jacobian_spectral_norm<Mp>(Jm);
    EXPECT_TRUE(norm.overlaps(to_ball(ref, 300))) << norm << " vs " << mp_to_double(ref);
    // The result's radius is stored as a 30-bit mag_t (rounded up): allow 2^-28 of the width.
    EXPECT_LE(norm.upper(), cheap.upper() + std::ldexp(norm.upper() - norm.lower(), -28));
    if (L > 1) {
      EXPECT_LE(norm.relative_radius(), std::ldexp(1.0, -100));
    }
  }
}

// ---------------------------------------------------------------------------------------
// Finite-difference sensitivity (paper A, Algorithm 5)
// ---------------------------------------------------------------------------------------

// softmax(·/T) is 1/(2T)-Lipschitz (‖J‖ <= 1/(2T) along the whole segment), so
// g(T, ε) <= 1/(2T) for every ε; certified in Ball for the paper's ε grid.
TEST(FiniteDifferenceSensitivity, NeverExceedsHalfOverTAndIsReproducibleFromSeed) {
  const std::uint64_t seed = 1001;
  announce_seed(seed);
  Rng rng(seed);
  const std::vector<double> l = random_row(rng, 12, 2.0);
  for (double t : {0.01, 0.1, 1.0, 10.0}) {
    for (double eps : {1e-3, 1e-1, 10.0}) {
      Rng a(seed + 1), b(seed + 1);
      const double ga = finite_difference_sensitivity(l, t, eps, a);
      const double gb = finite_difference_sensitivity(l, t, eps, b);
      EXPECT_EQ(ga, gb);
      Rng c(seed + 1);
      const std::vector<double> v = c.unit_sphere(l.size());
      const std::vector<Ball> lb = ball_row(l, 128), vb = ball_row(v, 128);
      const Ball g = finite_difference_sensitivity<Ball>(std::span<const Ball>(lb), Ball(t, 128),
                                                         Ball(eps, 128), std::span<const Ball>(vb));
      EXPECT_TRUE(certainly(g <= Ball(0.5, 128) / Ball(t, 128))) << g;
      // The double value is within its rounding of the certified one: the difference of two
      // softmax vectors (each entry relative error <= c·(L+|x|)·u, |x| <= 8/T) over ε.
      EXPECT_NEAR(ga, g.mid(), 4.0 * (12 + 8.0 / t) * kU / eps + 1e-300);
    }
  }
}

// As ε → 0, g → ‖J v‖ (J the softmax Jacobian): with ε = 2^-80 in Mp at 300 bits the O(ε)
// remainder (<= ε·‖∂²softmax‖ <= ε/T²) is ~1e-24/T².
TEST(FiniteDifferenceSensitivity, SmallEpsilonConvergesToJacobianTimesDirection) {
  const std::uint64_t seed = 1102;
  announce_seed(seed);
  Rng rng(seed);
  const long bits = 300;
  const std::vector<double> l = random_row(rng, 7, 1.0);
  const std::vector<double> v = rng.unit_sphere(7);
  const double t = 0.5;
  const std::vector<Mp> lm = to_mp(l, bits), vm = to_mp(v, bits);
  const Mp tm = mp_from_double(t, bits), eps = mp_from_double(std::ldexp(1.0, -80), bits);
  const Mp g = finite_difference_sensitivity<Mp>(std::span<const Mp>(lm), tm, eps,
                                                 std::span<const Mp>(vm));
  const RowMatrix<Mp> J = softmax_jacobian<Mp>(std::span<const Mp>(lm), tm);
  MpPrecision scope(bits);
  MpVector vv(7);
  for (int i = 0; i < 7; ++i) vv(i) = vm[static_cast<std::size_t>(i)];
  const Mp jv = Mp((J * vv).norm());
  EXPECT_LT(mp_to_double(abs(Mp(g - jv))), 1e-20);
  EXPECT_GT(mp_to_double(jv), 0.0);
}

// ---------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------

TEST(SoftmaxJacobianBadInput, ThrowsClearErrors) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> ok = {1.0, 2.0};
  EXPECT_THROW(softmax_jacobian_norm<double>(std::vector<double>{}, 1.0), std::invalid_argument);
  EXPECT_THROW(softmax_jacobian_norm<double>(std::vector<double>{1.0, nan}, 1.0), std::domain_error);
  EXPECT_THROW(softmax_jacobian_norm<double>(std::vector<double>{kInf, 0.0}, 1.0), std::domain_error);
  for (double t : {0.0, -1.0, nan, kInf})
    EXPECT_THROW(softmax_jacobian_norm<double>(ok, t), std::invalid_argument) << t;
  EXPECT_THROW(softmax_jacobian<double>(ok, 0.0), std::invalid_argument);
  EXPECT_THROW(softmax_jacobian_norm_from_weights<double>(std::vector<double>{0.5, -0.1}, 1.0),
               std::domain_error);
  EXPECT_THROW(softmax_jacobian_norm_from_weights<double>(std::vector<double>{0.0, 0.0}, 1.0),
               std::invalid_argument);
  EXPECT_THROW(secular_largest_eigenvalue<double>(std::vector<double>{nan}), std::domain_error);
  EXPECT_THROW(softmax_jacobian_norms(RowMatrix<double>(0, 3), std::vector<double>{1.0}),
               std::invalid_argument);
  EXPECT_THROW(softmax_jacobian_norms(RowMatrix<double>::Zero(2, 3), std::vector<double>{}),
               std::invalid_argument);
  // Ball: exact inputs have no working precision; T not certainly > 0.
  const std::vector<Ball> exact = {Ball(1), Ball(2)};
  EXPECT_THROW(softmax_jacobian_norm<Ball>(std::span<const Ball>(exact), Ball(1)),
               std::invalid_argument);
  const std::vector<Ball> lb = {Ball(1.0, 64), Ball(2.0, 64)};
  EXPECT_THROW(softmax_jacobian_norm<Ball>(std::span<const Ball>(lb), Ball::interval(-0.1, 1, 64)),
               std::invalid_argument);
  // Finite differences: bad ε and mismatched direction.
  EXPECT_THROW(finite_difference_sensitivity<double>(ok, 1.0, 0.0, ok), std::invalid_argument);
  EXPECT_THROW(finite_difference_sensitivity<double>(ok, 1.0, 1e-3, std::vector<double>{1.0}),
               std::invalid_argument);
  // Normaliser Jacobian: mismatched lengths, empty, spectral norm of an empty matrix.
  EXPECT_THROW(normaliser_jacobian_from_weights<double>(ok, std::vector<double>{1.0}),
               std::invalid_argument);
  EXPECT_THROW(normaliser_jacobian_from_weights<double>(std::vector<double>{}, std::vector<double>{}),
               std::invalid_argument);
  EXPECT_THROW(jacobian_spectral_norm<double>(RowMatrix<double>(0, 0)), std::invalid_argument);
  RowMatrix<double> bad = RowMatrix<double>::Zero(2, 2);
  bad(1, 1) = nan;
  EXPECT_THROW(jacobian_spectral_norm<double>(bad), std::domain_error);
}

}  // namespace
}  // namespace attncert
