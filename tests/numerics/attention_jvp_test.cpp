// Jacobian-vector products of softmax and linear attention (attention_jvp.hpp): exact
// forward-mode formulas against central differences of the library's own attention functions
// in Mp, double vs Mp, Jacobian/JVP consistency, local Lipschitz constants, bad input.
//
// Central-difference tolerance. D(h) = (f(x + h v) − f(x − h v)) / (2h) = f'(x)v + c·h² + O(h⁴)
// with c = f'''(x)[v,v,v]/6, plus rounding <= 2u·max|f|/h (two evaluations, each with relative
// error u·κ, κ modest for these O(1) inputs; we take κ <= 2^10). The truncation term is
// estimated by Richardson: D(h) − D(h/2) = (3/4)c·h² + O(h⁴), so |D(h) − f'v| <=
// (4/3)|D(h) − D(h/2)| + O(h⁴); we allow 2|D(h) − D(h/2)| + 2^11·u·max|f|/h. At 256 bits with
// h = 2^-40 both terms are ~1e-24 and below, while a wrong formula errs by O(1); the test
// also requires the Richardson estimate itself to be O(h²)-small (<= h²·10^4), so a blow-up of
// the difference quotient cannot loosen the check.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <vector>

#include "numerics/attention_jvp.hpp"
#include "numerics/linear_attention.hpp"
#include "numerics/mp.hpp"
#include "numerics/normaliser_jacobian.hpp"
#include "numerics/rng.hpp"
#include "numerics/scalar_traits.hpp"
#include "numerics/softmax_attention.hpp"

namespace attncert {
namespace {

constexpr long kBits = 256;

void announce_seed(std::uint64_t seed) {
  std::cout << "[ seed ] " << ::testing::UnitTest::GetInstance()->current_test_info()->name()
            << ": Rng seed " << seed << "\n";
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
}

RowMatrix<double> random_matrix(Rng& rng, Eigen::Index r, Eigen::Index c, double mean = 0.0,
                                double sd = 1.0) {
  RowMatrix<double> m(r, c);
  for (Eigen::Index i = 0; i < r; ++i)
    for (Eigen::Index j = 0; j < c; ++j) m(i, j) = rng.normal(mean, sd);
  return m;
}

RowMatrix<Mp> to_mp(const RowMatrix<double>& m, long bits = kBits) {
  RowMatrix<Mp> out(m.rows(), m.cols());
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) out(i, j) = mp_from_double(m(i, j), bits);
  return out;
}

double max_abs(const RowMatrix<Mp>& m) {
  double r = 0;
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) r = std::max(r, std::abs(mp_to_double(m(i, j))));
  return r;
}

struct Point {
  RowMatrix<Mp> Q, K, V, dQ, dK, dV;
};

/// Checks tangent against central differences of f(Q + t dQ, K + t dK, V + t dV).
template <class F>
void expect_matches_central_differences(const Point& p, const RowMatrix<Mp>& tangent,
                                        const F& f) {
  MpPrecision scope(kBits);
  const double u = std::ldexp(1.0, -static_cast<int>(kBits));
  auto quotient = [&](const Mp& h) {
    const RowMatrix<Mp> plus = f(RowMatrix<Mp>(p.Q + p.dQ * h), RowMatrix<Mp>(p.K + p.dK * h),
                                 RowMatrix<Mp>(p.V + p.dV * h));
    const RowMatrix<Mp> minus = f(RowMatrix<Mp>(p.Q - p.dQ * h), RowMatrix<Mp>(p.K - p.dK * h),
                                  RowMatrix<Mp>(p.V - p.dV * h));
    return RowMatrix<Mp>((plus - minus) / (Mp(2) * h));
  };
  const double hd = std::ldexp(1.0, -40);
  const Mp h = mp_from_double(hd, kBits);
  const RowMatrix<Mp> d1 = quotient(h);
  const RowMatrix<Mp> d2 = quotient(Mp(h / 2));
  const double richardson = max_abs(RowMatrix<Mp>(d1 - d2));
  const double fmax = std::max(1.0, max_abs(f(p.Q, p.K, p.V)));
  EXPECT_LE(richardson, hd * hd * 1e4) << "difference quotient not O(h²)-converged";
  const double tol = 2.0 * richardson + std::ldexp(u, 11) * fmax / hd;
  EXPECT_LE(max_abs(RowMatrix<Mp>(d1 - tangent)), tol);
  EXPECT_GT(max_abs(tangent), 1e-6) << "a vanishing tangent would make the check vacuous";
}

Point random_point(Rng& rng, Eigen::Index Lq, Eigen::Index Lk, Eigen::Index d, Eigen::Index dv,
                   double mean = 0.0) {
  Point p;
  p.Q = to_mp(random_matrix(rng, Lq, d, mean));
  p.K = to_mp(random_matrix(rng, Lk, d, mean));
  p.V = to_mp(random_matrix(rng, Lk, dv));
  p.dQ = to_mp(random_matrix(rng, Lq, d));
  p.dK = to_mp(random_matrix(rng, Lk, d));
  p.dV = to_mp(random_matrix(rng, Lk, dv));
  return p;
}

TEST(SoftmaxAttentionJvp, MatchesCentralDifferencesInMp) {
  const std::uint64_t seed = 31;
  announce_seed(seed);
  Rng rng(seed);
  for (bool causal : {false, true}) {
    for (double temperature : {0.7, 2.0}) {
      SCOPED_TRACE(std::string("causal ") + (causal ? "yes" : "no") + ", T " +
                   std::to_string(temperature));
      const Point p = random_point(rng, 5, 6, 3, 2);
      SoftmaxAttentionOptions<Mp> opts;
      if (causal) opts.keys = KeyVisibility::causal_mask();
      opts.temperature = mp_from_double(temperature, kBits);
      const AttentionJvp<Mp> jvp = softmax_attention_jvp<Mp>(p.Q, p.K, p.V, p.dQ, p.dK, p.dV, opts);
      const RowMatrix<Mp> out = softmax_attention<Mp>(p.Q, p.K, p.V, opts).output;
      {
        MpPrecision scope(kBits);
        EXPECT_LE(max_abs(RowMatrix<Mp>(jvp.output - out)), 1e-70);  // same primal
      }
      expect_matches_central_differences(
          p, jvp.tangent, [&](const RowMatrix<Mp>& q, const RowMatrix<Mp>& k, const RowMatrix<Mp>& v) {
            return softmax_attention<Mp>(q, k, v, opts).output;
          });
    }
  }
}

TEST(LinearAttentionJvp, MatchesCentralDifferencesInMpForEveryFeatureMap) {
  const std::uint64_t seed = 32;
  announce_seed(seed);
  Rng rng(seed);
  const Eigen::Index d = 3;
  const std::vector<FeatureMap> maps = {FeatureMap::identity(), FeatureMap::relu(),
                                        FeatureMap::elu_plus_one(), FeatureMap::taylor2(),
                                        FeatureMap::performer(d, 8, 5), FeatureMap::cosformer()};
  for (const FeatureMap& phi : maps) {
    for (bool causal : {false, true}) {
      SCOPED_TRACE(phi.name() + (causal ? ", causal" : ", non-causal"));
      // Identity, relu and cosFormer need positive weights: shift Q, K to positive means.
      const bool positive = phi.kind() == FeatureMapKind::Identity ||
                            phi.kind() == FeatureMapKind::Relu ||
                            phi.kind() == FeatureMapKind::CosFormer;
      const Point p = random_point(rng, 5, 5, d, 2, positive ? 2.0 : 0.0);
      const Mp scale = mp_from_double(0.6, kBits);
      const AttentionJvp<Mp> jvp =
          linear_attention_jvp<Mp>(p.Q, p.K, p.V, p.dQ, p.dK, p.dV, phi, scale, causal);
      const RowMatrix<Mp> out =
          linear_attention_or_throw<Mp>(p.Q, p.K, p.V, phi, scale, causal).output;
      {
        MpPrecision scope(kBits);
        EXPECT_LE(max_abs(RowMatrix<Mp>(jvp.output - out)), 1e-70);
      }
      expect_matches_central_differences(
          p, jvp.tangent, [&](const RowMatrix<Mp>& q, const RowMatrix<Mp>& k, const RowMatrix<Mp>& v) {
            return linear_attention_or_throw<Mp>(q, k, v, phi, scale, causal).output;
          });
    }
  }
}

// double vs Mp: each tangent entry is a sum of O(Lk·(d + dv)) products of O(1) factors
// through softmax / a normaliser with condition O(1) for these inputs: error <= c·n·u with
// n = Lk·(d + dv) and c = 64 (relative to max(1, max|dO|)).
TEST(AttentionJvp, DoubleAgreesWithMp) {
  const std::uint64_t seed = 33;
  announce_seed(seed);
  Rng rng(seed);
  const Eigen::Index Lq = 4, Lk = 7, d = 3, dv = 3;
  const RowMatrix<double> Q = random_matrix(rng, Lq, d), K = random_matrix(rng, Lk, d),
                          V = random_matrix(rng, Lk, dv), dQ = random_matrix(rng, Lq, d),
                          dK = random_matrix(rng, Lk, d), dV = random_matrix(rng, Lk, dv);
  const double u = ScalarTraits<double>::unit_roundoff();
  const double tol = 64.0 * static_cast<double>(Lk * (d + dv)) * u;
  const AttentionJvp<double> sd = softmax_attention_jvp<double>(Q, K, V, dQ, dK, dV);
  const AttentionJvp<Mp> sm = softmax_attention_jvp<Mp>(to_mp(Q), to_mp(K), to_mp(V), to_mp(dQ),
                                                        to_mp(dK), to_mp(dV));
  const FeatureMap phi = FeatureMap::elu_plus_one();
  const AttentionJvp<double> ld = linear_attention_jvp<double>(Q, K, V, dQ, dK, dV, phi, 1.0, false);
  const AttentionJvp<Mp> lm = linear_attention_jvp<Mp>(to_mp(Q), to_mp(K), to_mp(V), to_mp(dQ),
                                                       to_mp(dK), to_mp(dV), phi,
                                                       mp_from_double(1.0, kBits), false);
  for (Eigen::Index i = 0; i < Lq; ++i) {
    for (Eigen::Index j = 0; j < dv; ++j) {
      EXPECT_NEAR(sd.tangent(i, j), mp_to_double(sm.tangent(i, j)),
                  tol * std::max(1.0, max_abs(sm.tangent)));
      EXPECT_NEAR(ld.tangent(i, j), mp_to_double(lm.tangent(i, j)),
                  tol * std::max(1.0, max_abs(lm.tangent)));
    }
  }
}

// The Jacobian is linear in the direction: J·vec(dX) equals the JVP along dX (same arithmetic
// up to summation order: n·u relative with n = rows·cols of X, factor 16).
TEST(AttentionJvp, JacobianColumnsAreJvpsAndLinear) {
  const std::uint64_t seed = 34;
  announce_seed(seed);
  Rng rng(seed);
  const Eigen::Index L = 5, d = 2, dv = 3;
  const RowMatrix<double> Q = random_matrix(rng, L, d), K = random_matrix(rng, L, d),
                          V = random_matrix(rng, L, dv);
  const double u = ScalarTraits<double>::unit_roundoff();
  for (AttentionInput wrt : {AttentionInput::Q, AttentionInput::K, AttentionInput::V}) {
    SCOPED_TRACE(to_string(wrt));
    const RowMatrix<double>& X = wrt == AttentionInput::Q ? Q : wrt == AttentionInput::K ? K : V;
    const RowMatrix<double> dX = random_matrix(rng, X.rows(), X.cols());
    const RowMatrix<double> empty;
    const RowMatrix<double>& dQ = wrt == AttentionInput::Q ? dX : empty;
    const RowMatrix<double>& dK = wrt == AttentionInput::K ? dX : empty;
    const RowMatrix<double>& dV = wrt == AttentionInput::V ? dX : empty;
    const Eigen::VectorXd vec_dx = Eigen::Map<const Eigen::VectorXd>(dX.data(), dX.size());
    {
      const RowMatrix<double> J = softmax_attention_jacobian<double>(Q, K, V, wrt);
      const RowMatrix<double> t = softmax_attention_jvp<double>(Q, K, V, dQ, dK, dV).tangent;
      const Eigen::VectorXd jv = J * vec_dx;
      const Eigen::VectorXd tv = Eigen::Map<const Eigen::VectorXd>(t.data(), t.size());
      EXPECT_LE((jv - tv).cwiseAbs().maxCoeff(),
                16.0 * static_cast<double>(X.size() + L) * u * std::max(1.0, tv.cwiseAbs().maxCoeff()));
    }
    {
      const FeatureMap phi = FeatureMap::taylor2();
      const RowMatrix<double> J = linear_attention_jacobian<double>(Q, K, V, wrt, phi, 0.5, false);
      const RowMatrix<double> t =
          linear_attention_jvp<double>(Q, K, V, dQ, dK, dV, phi, 0.5, false).tangent;
      const Eigen::VectorXd jv = J * vec_dx;
      const Eigen::VectorXd tv = Eigen::Map<const Eigen::VectorXd>(t.data(), t.size());
      EXPECT_LE((jv - tv).cwiseAbs().maxCoeff(),
                16.0 * static_cast<double>(X.size() + L) * u * std::max(1.0, tv.cwiseAbs().maxCoeff()));
    }
  }
}

// O = P·V is linear in V, with vec(O) = (P ⊗ I_dv)·vec(V) (row-major vec), and
// ‖P ⊗ I‖₂ = ‖P‖₂: the local Lipschitz constant in V is exactly the spectral norm of the
// attention matrix. For Q and K the constant bounds every JVP: ‖dO‖ <= Lip·‖dX‖.
TEST(AttentionLocalLipschitz, EqualsAttentionMatrixNormInVAndBoundsEveryJvp) {
  const std::uint64_t seed = 35;
  announce_seed(seed);
  Rng rng(seed);
  const Eigen::Index Lq = 4, Lk = 6, d = 3, dv = 2;
  const RowMatrix<double> Q = random_matrix(rng, Lq, d), K = random_matrix(rng, Lk, d),
                          V = random_matrix(rng, Lk, dv);
  const double u = ScalarTraits<double>::unit_roundoff();
  SoftmaxAttentionOptions<double> opts;
  opts.return_probabilities = true;
  const RowMatrix<double> P = softmax_attention<double>(Q, K, V, opts).probabilities;
  const double lip_v = softmax_attention_local_lipschitz<double>(Q, K, V, AttentionInput::V);
  // Two JacobiSVDs of matrices with entries of relative error ~Lk·u: 32·(Lk + d)·u relative.
  EXPECT_NEAR(lip_v, jacobian_spectral_norm<double>(P), 32.0 * static_cast<double>(Lk + d) * u * lip_v);
  const FeatureMap phi = FeatureMap::elu_plus_one();
  const RowMatrix<double> W =
      linear_attention_matrix<double>(Q, K, phi, 1.0, false).weights;
  EXPECT_NEAR(linear_attention_local_lipschitz<double>(Q, K, V, AttentionInput::V, phi, 1.0, false),
              jacobian_spectral_norm<double>(W), 32.0 * static_cast<double>(Lk + d) * u);
  for (AttentionInput wrt : {AttentionInput::Q, AttentionInput::K}) {
    SCOPED_TRACE(to_string(wrt));
    const double lip = softmax_attention_local_lipschitz<double>(Q, K, V, wrt);
    EXPECT_GT(lip, 0.0);
    for (int trial = 0; trial < 5; ++trial) {
      const RowMatrix<double> dX =
          random_matrix(rng, wrt == AttentionInput::Q ? Lq : Lk, d);
      const RowMatrix<double> empty;
      const RowMatrix<double> t =
          softmax_attention_jvp<double>(Q, K, V, wrt == AttentionInput::Q ? dX : empty,
                                        wrt == AttentionInput::K ? dX : empty, empty)
              .tangent;
      EXPECT_LE(t.norm(), lip * dX.norm() * (1 + 64.0 * static_cast<double>(Lk + d) * u));
    }
  }
  // Mp agrees with double (both JacobiSVD; double error c·n·u as above).
  const Mp lip_mp = softmax_attention_local_lipschitz<Mp>(to_mp(Q), to_mp(K), to_mp(V),
                                                          AttentionInput::Q);
  const double lip_q = softmax_attention_local_lipschitz<double>(Q, K, V, AttentionInput::Q);
  EXPECT_NEAR(lip_q, mp_to_double(lip_mp), 64.0 * static_cast<double>(Lk * (d + dv)) * u * lip_q);
}

TEST(AttentionJvpBadInput, ThrowsClearErrors) {
  Rng rng(36);
  const RowMatrix<double> Q = random_matrix(rng, 3, 2), K = random_matrix(rng, 4, 2),
                          V = random_matrix(rng, 4, 2);
  const RowMatrix<double> empty;
  // Direction of the wrong shape, non-finite direction.
  EXPECT_THROW(softmax_attention_jvp<double>(Q, K, V, RowMatrix<double>::Zero(2, 2), empty, empty),
               std::invalid_argument);
  RowMatrix<double> nan_dir = RowMatrix<double>::Zero(4, 2);
  nan_dir(1, 1) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(softmax_attention_jvp<double>(Q, K, V, empty, nan_dir, empty), std::domain_error);
  // Mismatched Q/K widths (the attention function's own check).
  EXPECT_THROW(softmax_attention_jvp<double>(Q, random_matrix(rng, 4, 3), V, empty, empty, empty),
               std::invalid_argument);
  // Linear: causal with Lq != Lk, scale <= 0, a normaliser that is not > 0.
  const FeatureMap phi = FeatureMap::elu_plus_one();
  EXPECT_THROW(linear_attention_jvp<double>(Q, K, V, empty, empty, empty, phi, 1.0, true),
               std::invalid_argument);
  EXPECT_THROW(linear_attention_jvp<double>(Q, K, V, empty, empty, empty, phi, 0.0, false),
               std::invalid_argument);
  RowMatrix<double> Qn(1, 2), Kn(2, 2), Vn = RowMatrix<double>::Ones(2, 2);
  Qn << 1.0, 0.0;
  Kn << -1.0, 0.0, -2.0, 0.0;  // identity map: weights -1, -2, normaliser < 0
  EXPECT_THROW(linear_attention_jvp<double>(Qn, Kn, Vn, empty, empty, empty,
                                            FeatureMap::identity(), 1.0, false),
               std::domain_error);
}

}  // namespace
}  // namespace attncert
