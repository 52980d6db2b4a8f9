// General-normaliser Jacobian (paper A, Lemma 2) and spectral norms; see normaliser_jacobian.hpp.
// This TU holds the Eigen JacobiSVD instantiations for double and Mp (heavy to compile; keep
// them here only).
#include "numerics/normaliser_jacobian.hpp"

#include <arb_mat.h>
#include <fmt/format.h>

#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "numerics/arb_handles.hpp"
#include "numerics/ball.hpp"
#include "numerics/eigen_support.hpp"
#include "numerics/mp.hpp"
#include "numerics/precision.hpp"
#include "numerics/scalar_traits.hpp"
#include "numerics/tier_conversions.hpp"
#include "numerics/tier_scope.hpp"

namespace attncert {
namespace {

template <class T>
bool is_exact_zero(const T& x) {
  if constexpr (std::is_same_v<T, Ball>) {
    return x.is_zero();
  } else {
    return x == T(0);
  }
}

template <class T>
bool certainly_negative(const T& x) {
  if constexpr (std::is_same_v<T, Ball>) {
    return certainly(x < Ball(0));
  } else {
    return x < T(0);
  }
}

/// x rounded to an Mp that owns `bits` bits. Boost 1.74 keeps a variable's own precision in
/// in-place operations (x *= y), so an element copied from a 53-bit midpoint would make
/// JacobiSVD's rotations run at 53 bits; every element must be widened first.
Mp mp_at(const Mp& x, long bits) {
  Mp r;
  mpfr_set_prec(r.backend().data(), static_cast<mpfr_prec_t>(bits));
  mpfr_set(r.backend().data(), x.backend().data(), MPFR_RNDN);
  return r;
}

template <class T>
void require_matrix(const RowMatrix<T>& A, const char* fn) {
  if (A.rows() < 1 || A.cols() < 1) {
    throw std::invalid_argument(fmt::format("{}: the matrix is {}x{}; need at least 1x1", fn,
                                            A.rows(), A.cols()));
  }
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    for (Eigen::Index j = 0; j < A.cols(); ++j) {
      if (!ScalarTraits<T>::is_finite(A(i, j))) {
        throw std::domain_error(
            fmt::format("{}: entry ({}, {}) is not finite; need finite entries", fn, i, j));
      }
    }
  }
}

using arb_handles::ArbMatHandle;
using arb_handles::ArfHandle;

void load(ArbMatHandle& out, const RowMatrix<Ball>& A) {
  for (Eigen::Index i = 0; i < A.rows(); ++i)
    for (Eigen::Index j = 0; j < A.cols(); ++j) arb_set(out(i, j), A(i, j).arb());
}

void load(ArbMatHandle& out, const Eigen::Matrix<Mp, Eigen::Dynamic, Eigen::Dynamic>& A) {
  for (Eigen::Index i = 0; i < A.rows(); ++i)
    for (Eigen::Index j = 0; j < A.cols(); ++j)
      arf_set_mpfr(arb_midref(out(i, j)), A(i, j).backend().data()), mag_zero(arb_radref(out(i, j)));
}

/// Upper bound (as a ball whose upper end counts) of ‖QᵀQ − I‖_F for square Q.
void orthogonality_defect(arb_t res, ArbMatHandle& Q, slong prec) {
  ArbMatHandle Qt(Q.cols(), Q.rows()), G(Q.cols(), Q.cols());
  arb_mat_transpose(Qt, Q);
  arb_mat_mul(G, Qt, Q, prec);
  for (slong i = 0; i < G.rows(); ++i) arb_sub_ui(G(i, i), G(i, i), 1, prec);
  arb_mat_frobenius_norm(res, G, prec);
}

Ball certified_spectral_norm(const RowMatrix<Ball>& A) {
  const char* fn = "jacobian_spectral_norm";
  require_matrix(A, fn);
  long prec = Ball::kExact;
  for (Eigen::Index i = 0; i < A.rows(); ++i)
    for (Eigen::Index j = 0; j < A.cols(); ++j) prec = std::max(prec, A(i, j).precision());
  if (prec == Ball::kExact) {
    throw std::invalid_argument(fmt::format(
        "{}: every Ball entry is exact and carries no working precision; give one in [{}, {}] bits",
        fn, kMinPrecisionBits, kMaxPrecisionBits));
  }
  const Eigen::Index m = A.rows(), n = A.cols();
  Ball cheap = spectral_norm_cheap_upper_bound(A);

  // Approximate SVD in Mp on the midpoints (32 guard bits).
  using MpDense = Eigen::Matrix<Mp, Eigen::Dynamic, Eigen::Dynamic>;
  MpDense U, V;
  {
    MpPrecision scope(prec + 32);
    MpDense mid(m, n);
    for (Eigen::Index i = 0; i < m; ++i)
      for (Eigen::Index j = 0; j < n; ++j) mid(i, j) = mp_at(midpoint_mp(A(i, j)), prec + 32);
    Eigen::JacobiSVD<MpDense> svd(mid, Eigen::ComputeFullU | Eigen::ComputeFullV);
    U = svd.matrixU();
    V = svd.matrixV();
  }
  ArbMatHandle Ab(m, n), Ub(m, m), Vb(n, n);
  load(Ab, A);
  load(Ub, U);
  load(Vb, V);

  // Upper: ‖A‖ <= (max|B_ii| + ‖offdiag B‖_F) / sqrt((1 − δ_U)(1 − δ_V)), B = ŨᵀAṼ.
  Ball upper(0.0, prec);
  {
    ArbMatHandle Ut(m, m), UtA(m, n), B(m, n);
    arb_mat_transpose(Ut, Ub);
    arb_mat_mul(UtA, Ut, Ab, prec);
    arb_mat_mul(B, UtA, Vb, prec);
    Ball diag_max(0.0, prec), off_sq(0.0, prec), t(0.0, prec);
    for (Eigen::Index i = 0; i < m; ++i) {
      for (Eigen::Index j = 0; j < n; ++j) {
        arb_abs(t.arb(), B(i, j));
        if (i == j) {
          arb_max(diag_max.arb(), diag_max.arb(), t.arb(), prec);
        } else {
          arb_addmul(off_sq.arb(), t.arb(), t.arb(), prec);
        }
      }
    }
    Ball du(0.0, prec), dv(0.0, prec);
    orthogonality_defect(du.arb(), Ub, prec);
    orthogonality_defect(dv.arb(), Vb, prec);
    if (certainly(du < Ball(1)) && certainly(dv < Ball(1))) {
      // sqrtpos: a sum of squares is >= 0 even where its enclosure dips below 0.
      Ball off(0.0, prec);
      arb_sqrtpos(off.arb(), off_sq.arb(), prec);
      upper = (diag_max + off) / sqrt((Ball(1) - du) * (Ball(1) - dv));
    } else {
      upper = cheap;  // Ũ or Ṽ not certifiably invertible: keep the cheap bound
    }
  }

  // Lower: ‖Aṽ₁‖ / ‖ṽ₁‖.
  Ball lower(0.0, prec);
  {
    Ball num(0.0, prec), den(0.0, prec), t(0.0, prec);
    for (Eigen::Index j = 0; j < n; ++j) arb_addmul(den.arb(), Vb(j, 0), Vb(j, 0), prec);
    for (Eigen::Index i = 0; i < m; ++i) {
      arb_zero(t.arb());
      for (Eigen::Index j = 0; j < n; ++j) arb_addmul(t.arb(), Ab(i, j), Vb(j, 0), prec);
      arb_addmul(num.arb(), t.arb(), t.arb(), prec);
    }
    if (certainly(den > Ball(0))) arb_sqrtpos(lower.arb(), Ball(num / den).arb(), prec);
  }

  // [lower end of `lower` (>= 0), min of the upper ends].
  ArfHandle lo, hi, hi_cheap;
  arb_get_lbound_arf(lo, lower.arb(), prec);
  if (arf_sgn(lo) < 0 || arf_is_nan(lo)) arf_zero(lo);
  arb_get_ubound_arf(hi, upper.arb(), prec);
  arb_get_ubound_arf(hi_cheap, cheap.arb(), prec);
  if (arf_is_nan(hi) || arf_cmp(hi_cheap, hi) < 0) arf_set(hi, hi_cheap);
  if (arf_cmp(lo, hi) > 0) arf_set(lo, hi);  // cannot happen for valid bounds; stay an interval
  Ball result(0.0, prec);
  arb_set_interval_arf(result.arb(), lo, hi, prec);
  return result;
}

}  // namespace

template <class T>
RowMatrix<T> normaliser_jacobian_from_weights(std::span<const T> alpha,
                                              std::span<const T> log_derivatives) {
  const char* fn = "normaliser_jacobian_from_weights";
  if (alpha.empty()) {
    throw std::invalid_argument(fmt::format("{}: the weight vector is empty; need L >= 1", fn));
  }
  if (log_derivatives.size() != alpha.size()) {
    throw std::invalid_argument(
        fmt::format("{}: {} weights but {} log-derivatives; need equal lengths", fn,
                    alpha.size(), log_derivatives.size()));
  }
  TierScope<T> scope(alpha, log_derivatives);
  const auto L = static_cast<Eigen::Index>(alpha.size());
  std::vector<T> h(alpha.size(), T(0));  // h_k = α_k g_k
  for (std::size_t k = 0; k < alpha.size(); ++k) {
    if (!ScalarTraits<T>::is_finite(alpha[k]) || certainly_negative(alpha[k])) {
      throw std::domain_error(
          fmt::format("{}: weight {} is not finite or < 0; need finite weights >= 0", fn, k));
    }
    if (is_exact_zero(alpha[k])) continue;
    if (!ScalarTraits<T>::is_finite(log_derivatives[k])) {
      throw std::domain_error(fmt::format(
          "{}: log-derivative {} is not finite (at a positive weight); need finite values", fn,
          k));
    }
    h[k] = T(alpha[k] * log_derivatives[k]);
  }
  RowMatrix<T> J(L, L);
  for (Eigen::Index i = 0; i < L; ++i) {
    const auto si = static_cast<std::size_t>(i);
    for (Eigen::Index k = 0; k < L; ++k) {
      const auto sk = static_cast<std::size_t>(k);
      T entry = T(-(alpha[si] * h[sk]));
      if (i == k) entry = T(h[si] + entry);
      J(i, k) = entry;
    }
  }
  return J;
}

template <class T>
RowMatrix<T> normaliser_jacobian(std::span<const T> logits, const PositiveFunction<T>& F,
                                 const LogDerivative<T>& log_derivative) {
  if (!log_derivative) {
    throw std::invalid_argument("normaliser_jacobian: the log-derivative function is empty");
  }
  TierScope<T> scope(logits);
  const std::vector<T> alpha = normalise<T>(logits, F);
  std::vector<T> g(alpha.size(), T(0));
  for (std::size_t k = 0; k < alpha.size(); ++k) {
    if (!is_exact_zero(alpha[k])) g[k] = log_derivative(logits[k]);
  }
  return normaliser_jacobian_from_weights<T>(std::span<const T>(alpha), std::span<const T>(g));
}

template <class T>
T jacobian_spectral_norm(const RowMatrix<T>& A) {
  if constexpr (std::is_same_v<T, Ball>) {
    return certified_spectral_norm(A);
  } else {
    require_matrix(A, "jacobian_spectral_norm");
    if constexpr (std::is_same_v<T, Mp>) {
      const long bits = scoped_precision_bits<Mp>(A);
      TierScope<Mp> scope(bits);
      Eigen::Matrix<Mp, Eigen::Dynamic, Eigen::Dynamic> dense(A.rows(), A.cols());
      for (Eigen::Index i = 0; i < A.rows(); ++i)
        for (Eigen::Index j = 0; j < A.cols(); ++j) dense(i, j) = mp_at(A(i, j), bits);
      Eigen::JacobiSVD<Eigen::Matrix<Mp, Eigen::Dynamic, Eigen::Dynamic>> svd(dense);
      return Mp(svd.singularValues()(0));
    } else {
      Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> dense = A;
      Eigen::JacobiSVD<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>> svd(dense);
      return svd.singularValues()(0);
    }
  }
}

Ball spectral_norm_cheap_upper_bound(const RowMatrix<Ball>& A) {
  require_matrix(A, "spectral_norm_cheap_upper_bound");
  long prec = Ball::kExact;
  for (Eigen::Index i = 0; i < A.rows(); ++i)
    for (Eigen::Index j = 0; j < A.cols(); ++j) prec = std::max(prec, A(i, j).precision());
  if (prec == Ball::kExact) prec = 64;  // only sums, products and one sqrt: any precision is sound
  Ball frob_sq(0.0, prec), one_norm(0.0, prec), inf_norm(0.0, prec), t(0.0, prec);
  std::vector<Ball> col(static_cast<std::size_t>(A.cols()), Ball(0.0, prec));
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    Ball row(0.0, prec);
    for (Eigen::Index j = 0; j < A.cols(); ++j) {
      t = abs(A(i, j));
      t.set_precision(prec);
      frob_sq += t * t;
      row += t;
      col[static_cast<std::size_t>(j)] += t;
    }
    inf_norm = max(inf_norm, row);
  }
  for (const Ball& c : col) one_norm = max(one_norm, c);
  // sqrtpos: the squares' enclosures may dip below 0; the norms themselves cannot.
  Ball frob(0.0, prec), mixed(0.0, prec);
  arb_sqrtpos(frob.arb(), frob_sq.arb(), prec);
  arb_sqrtpos(mixed.arb(), Ball(one_norm * inf_norm).arb(), prec);
  // Both are upper bounds for every matrix in the balls: keep the one with the smaller upper end.
  return frob.upper() <= mixed.upper() ? frob : mixed;
}

template RowMatrix<float> normaliser_jacobian_from_weights<float>(std::span<const float>,
                                                                  std::span<const float>);
template RowMatrix<double> normaliser_jacobian_from_weights<double>(std::span<const double>,
                                                                    std::span<const double>);
template RowMatrix<Mp> normaliser_jacobian_from_weights<Mp>(std::span<const Mp>,
                                                            std::span<const Mp>);
template RowMatrix<Ball> normaliser_jacobian_from_weights<Ball>(std::span<const Ball>,
                                                                std::span<const Ball>);
template RowMatrix<float> normaliser_jacobian<float>(std::span<const float>,
                                                     const PositiveFunction<float>&,
                                                     const LogDerivative<float>&);
template RowMatrix<double> normaliser_jacobian<double>(std::span<const double>,
                                                       const PositiveFunction<double>&,
                                                       const LogDerivative<double>&);
template RowMatrix<Mp> normaliser_jacobian<Mp>(std::span<const Mp>, const PositiveFunction<Mp>&,
                                               const LogDerivative<Mp>&);
template RowMatrix<Ball> normaliser_jacobian<Ball>(std::span<const Ball>,
                                                   const PositiveFunction<Ball>&,
                                                   const LogDerivative<Ball>&);
template double jacobian_spectral_norm<double>(const RowMatrix<double>&);
template Mp jacobian_spectral_norm<Mp>(const RowMatrix<Mp>&);
template Ball jacobian_spectral_norm<Ball>(const RowMatrix<Ball>&);

}  // namespace attncert
