// Certified singular values and eigenvalues: approximate in Mp / Arb floating point, then
// bound the residual in Ball arithmetic (Arb's arb_mat / acb_mat directly: arb_mat_mul is
// far faster than Eigen over Ball scalars).
//
// The singular value argument. Let Ũ (m×m), Ṽ (n×n) and s̃ be the Mp SVD of mid(A), read as
// exact real matrices. Let B = ŨᵀAṼ (m×n) and Σ̃ the m×n matrix with s̃ on its diagonal, and
// let α, β, ε be rigorous upper bounds of ‖ŨᵀŨ − I‖₂, ‖ṼᵀṼ − I‖₂ and ‖B − Σ̃‖₂.
//  (1) Weyl for singular values: |σ_i(B) − σ_i(Σ̃)| <= ‖B − Σ̃‖₂ <= ε, and σ_i(Σ̃) is the
//      i-th largest |s̃_j|.
//  (2) For any X, Y, Z: σ_i(XYZ) <= ‖X‖₂ σ_i(Y) ‖Z‖₂ (Horn & Johnson, Topics in Matrix
//      Analysis, Thm 3.3.16, from Courant–Fischer).
//  (3) ‖Ũ‖₂² = λ_max(ŨᵀŨ) <= 1 + α and σ_min(Ũ)² = λ_min(ŨᵀŨ) >= 1 − α (Weyl for the
//      symmetric ŨᵀŨ = I + F, ‖F‖₂ <= α); the same for Ṽ with β.
//  Upper end: if α, β < 1 then Ũ, Ṽ are invertible and A = Ũ⁻ᵀ B Ṽ⁻¹, so by (2), (3)
//      σ_i(A) <= ‖Ũ⁻¹‖‖Ṽ⁻¹‖ σ_i(B) <= (s̃_i + ε) / √((1 − α)(1 − β)).
//  Lower end: B = Ũᵀ A Ṽ, so σ_i(B) <= ‖Ũ‖‖Ṽ‖ σ_i(A), and with (1)
//      σ_i(A) >= (s̃_i − ε) / √((1 + α)(1 + β))        (and σ_i >= 0 anyway).
// U and V must be square for the inverse step: this is why mp_svd returns the full U and V.
// Norm bounds: ‖M‖₂ <= ‖M‖_F, and ‖M‖₂² <= ‖M‖₁‖M‖∞ (Hölder / Schur); Arb bounds both from the
// entries' absolute values plus radii (rounded up), and we take the smaller. A Ball A makes B
// an enclosure of ŨᵀA'Ṽ for every A' in the box, so every bound holds for each such A'.
#include "numerics/certified_spectrum.hpp"

#include <acb_mat.h>
#include <arb_mat.h>

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

#include "numerics/arb_handles.hpp"
#include "numerics/precision.hpp"
#include "numerics/spectral.hpp"
#include "numerics/tier_conversions.hpp"

namespace attncert {
namespace {

using arb_handles::AcbMatHandle;
using arb_handles::AcbVecHandle;
using arb_handles::ArbHandle;
using arb_handles::ArbMatHandle;
using arb_handles::ArfHandle;
using arb_handles::MagHandle;

void require_ball_matrix(const RowMatrix<Ball>& A, const char* what, bool square) {
  if (A.rows() < 1 || A.cols() < 1) {
    throw std::invalid_argument(std::string(what) + ": matrix is " + std::to_string(A.rows()) +
                                "x" + std::to_string(A.cols()) + ", need at least 1x1");
  }
  if (square && A.rows() != A.cols()) {
    throw std::invalid_argument(std::string(what) + ": matrix is " + std::to_string(A.rows()) +
                                "x" + std::to_string(A.cols()) + ", must be square");
  }
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    for (Eigen::Index j = 0; j < A.cols(); ++j) {
      if (!A(i, j).is_finite()) {
        throw std::domain_error(std::string(what) + ": entry (" + std::to_string(i) + ", " +
                                std::to_string(j) +
                                ") is not finite (NaN, infinite midpoint or infinite radius); "
                                "entries must be finite balls");
      }
    }
  }
}

RowMatrix<Ball> point_balls(const RowMatrix<double>& A, const char* what) {
  RowMatrix<Ball> out(A.rows(), A.cols());
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    for (Eigen::Index j = 0; j < A.cols(); ++j) {
      if (!std::isfinite(A(i, j))) {
        throw std::domain_error(std::string(what) + ": entry (" + std::to_string(i) + ", " +
                                std::to_string(j) + ") is not finite; entries must be finite");
      }
      out(i, j) = Ball(A(i, j));
    }
  }
  return out;
}

void set_arb_exact(arb_t out, const Mp& x) {
  arf_set_mpfr(arb_midref(out), x.backend().data());
  mag_zero(arb_radref(out));
}

void copy_to_arb(arb_mat_t out, const RowMatrix<Ball>& A) {
  for (Eigen::Index i = 0; i < A.rows(); ++i)
    for (Eigen::Index j = 0; j < A.cols(); ++j) arb_set(arb_mat_entry(out, i, j), A(i, j).arb());
}

void copy_to_arb(arb_mat_t out, const MpMatrix& A) {
  for (Eigen::Index i = 0; i < A.rows(); ++i)
    for (Eigen::Index j = 0; j < A.cols(); ++j) set_arb_exact(arb_mat_entry(out, i, j), A(i, j));
}

/// out >= ‖M‖₂ for every matrix in the box: min(‖M‖_F, √(‖M‖₁‖M‖∞)), all rounded up.
void bound_spectral_norm(mag_t out, const arb_mat_t M) {
  MagHandle frobenius, inf_norm, one_norm;
  arb_mat_bound_frobenius_norm(frobenius, M);
  arb_mat_bound_inf_norm(inf_norm, M);
  ArbMatHandle Mt(arb_mat_ncols(M), arb_mat_nrows(M));
  arb_mat_transpose(Mt, M);
  arb_mat_bound_inf_norm(one_norm, Mt);
  mag_mul(inf_norm, inf_norm, one_norm);
  mag_sqrt(inf_norm, inf_norm);
  mag_min(out, frobenius, inf_norm);
}

/// out >= ‖XᵀX − I‖₂ (X square).
void bound_orthogonality_defect(mag_t out, const arb_mat_t X, slong prec) {
  const slong n = arb_mat_ncols(X);
  ArbMatHandle Xt(n, arb_mat_nrows(X)), G(n, n);
  arb_mat_transpose(Xt, X);
  arb_mat_mul(G, Xt, X, prec);
  for (slong i = 0; i < n; ++i) arb_sub_ui(G(i, i), G(i, i), 1, prec);
  bound_spectral_norm(out, G);
}

double mag_upper_double(const mag_t x) {
  ArfHandle a;
  arf_set_mag(a, x);
  return arf_get_d(a, ARF_RND_UP);
}

}  // namespace

bool CertifiedSingularValues::upper_bounds_finite() const {
  return u_orthogonality_bound < 1.0 && v_orthogonality_bound < 1.0;
}

double CertifiedSingularValues::max_radius() const {
  double r = 0.0;
  for (const Ball& s : singular_values) r = std::max(r, s.radius());
  return r;
}

CertifiedSingularValues certify_singular_values(const RowMatrix<Ball>& A, const MpSvd& approx,
                                                long bits) {
  require_precision(bits, "certify_singular_values");
  require_ball_matrix(A, "certify_singular_values", /*square=*/false);
  const slong m = A.rows(), n = A.cols(), k = std::min(m, n);
  if (approx.U.rows() != m || approx.U.cols() != m || approx.V.rows() != n ||
      approx.V.cols() != n || approx.singular_values.size() != k) {
    throw std::invalid_argument(
        "certify_singular_values: the approximate SVD has U " + std::to_string(approx.U.rows()) +
        "x" + std::to_string(approx.U.cols()) + ", V " + std::to_string(approx.V.rows()) + "x" +
        std::to_string(approx.V.cols()) + ", " + std::to_string(approx.singular_values.size()) +
        " singular values; a " + std::to_string(m) + "x" + std::to_string(n) +
        " matrix needs U " + std::to_string(m) + "x" + std::to_string(m) + ", V " +
        std::to_string(n) + "x" + std::to_string(n) + " and " + std::to_string(k));
  }
  for (Eigen::Index i = 0; i < k; ++i) {
    if (!mpfr_number_p(approx.singular_values(i).backend().data())) {
      throw std::domain_error("certify_singular_values: approximate singular value " +
                              std::to_string(i) + " is not finite");
    }
  }
  const slong prec = bits;

  ArbMatHandle a(m, n), U(m, m), V(n, n);
  copy_to_arb(a, A);
  copy_to_arb(U, approx.U);
  copy_to_arb(V, approx.V);
  for (slong i = 0; i < m; ++i)
    for (slong j = 0; j < m; ++j)
      if (!arb_is_finite(U(i, j)))
        throw std::domain_error("certify_singular_values: approximate U has a non-finite entry");
  for (slong i = 0; i < n; ++i)
    for (slong j = 0; j < n; ++j)
      if (!arb_is_finite(V(i, j)))
        throw std::domain_error("certify_singular_values: approximate V has a non-finite entry");

  MagHandle alpha, beta, eps;
  bound_orthogonality_defect(alpha, U, prec);
  bound_orthogonality_defect(beta, V, prec);

  // E = Ũᵀ A Ṽ − Σ̃ (diagonal of the unsorted s̃: it is the same matrix).
  ArbMatHandle Ut(m, m), UtA(m, n), E(m, n);
  arb_mat_transpose(Ut, U);
  arb_mat_mul(UtA, Ut, a, prec);
  arb_mat_mul(E, UtA, V, prec);
  std::vector<Mp> s(approx.singular_values.data(), approx.singular_values.data() + k);
  {
    ArbHandle si;
    for (slong i = 0; i < k; ++i) {
      set_arb_exact(si, s[static_cast<std::size_t>(i)]);
      arb_sub(E(i, i), E(i, i), si, prec);
    }
  }
  bound_spectral_norm(eps, E);

  // σ_i(Σ̃) = i-th largest |s̃_j| (Weyl compares sorted lists).
  for (Mp& x : s) mpfr_abs(x.backend().data(), x.backend().data(), MPFR_RNDN);  // exact
  std::sort(s.begin(), s.end(), [](const Mp& x, const Mp& y) {
    return mpfr_greater_p(x.backend().data(), y.backend().data()) != 0;
  });

  CertifiedSingularValues out;
  out.precision_bits = bits;
  out.u_orthogonality_bound = mag_upper_double(alpha);
  out.v_orthogonality_bound = mag_upper_double(beta);
  out.residual_bound = mag_upper_double(eps);
  const bool invertible = mag_cmp_2exp_si(alpha, 0) < 0 && mag_cmp_2exp_si(beta, 0) < 0;

  ArbHandle al, be, ep, t, num, q;
  arf_set_mag(arb_midref(al), alpha);  // exact copies of the bounds
  arf_set_mag(arb_midref(be), beta);
  arf_set_mag(arb_midref(ep), eps);
  // Lower factor 1/√((1+α)(1+β)) and upper factor 1/√((1−α)(1−β)), as enclosures.
  ArbHandle lower_den, upper_den;
  arb_add_ui(t, al, 1, prec);
  arb_add_ui(q, be, 1, prec);
  arb_mul(lower_den, t, q, prec);
  arb_sqrt(lower_den, lower_den, prec);
  if (invertible) {
    arb_sub_ui(t, al, 1, prec);  // α − 1 < 0
    arb_sub_ui(q, be, 1, prec);
    arb_mul(upper_den, t, q, prec);  // (1−α)(1−β) > 0
    arb_sqrt(upper_den, upper_den, prec);
  }
  ArfHandle lo, hi;
  out.singular_values.reserve(static_cast<std::size_t>(k));
  for (slong i = 0; i < k; ++i) {
    set_arb_exact(t, s[static_cast<std::size_t>(i)]);
    arb_sub(num, t, ep, prec);
    arb_div(q, num, lower_den, prec);
    arb_get_lbound_arf(lo, q, prec);
    if (arf_sgn(lo) < 0) arf_zero(lo);  // singular values are >= 0
    if (invertible) {
      arb_add(num, t, ep, prec);
      arb_div(q, num, upper_den, prec);
      arb_get_ubound_arf(hi, q, prec);
    } else {
      arf_pos_inf(hi);
    }
    Ball sigma;
    if (arf_is_finite(hi)) {
      arb_set_interval_arf(sigma.arb(), lo, hi, prec);
    } else {
      arb_zero_pm_inf(sigma.arb());  // [0, +inf) is not a finite ball: indeterminate
    }
    sigma.set_precision(bits);
    out.singular_values.push_back(std::move(sigma));
  }
  return out;
}

CertifiedSingularValues certified_singular_values(const RowMatrix<Ball>& A, long bits) {
  require_precision(bits, "certified_singular_values");
  require_ball_matrix(A, "certified_singular_values", /*square=*/false);
  RowMatrix<Mp> mid(A.rows(), A.cols());
  for (Eigen::Index i = 0; i < A.rows(); ++i)
    for (Eigen::Index j = 0; j < A.cols(); ++j) mid(i, j) = midpoint_mp(A(i, j));
  return certify_singular_values(A, mp_svd(mid, bits), bits);
}

CertifiedSingularValues certified_singular_values(const RowMatrix<double>& A, long bits) {
  require_precision(bits, "certified_singular_values");
  if (A.rows() < 1 || A.cols() < 1) {
    throw std::invalid_argument("certified_singular_values: matrix is " +
                                std::to_string(A.rows()) + "x" + std::to_string(A.cols()) +
                                ", need at least 1x1");
  }
  return certified_singular_values(point_balls(A, "certified_singular_values"), bits);
}

double spectral_norm_upper_bound(const RowMatrix<Ball>& A) {
  require_ball_matrix(A, "spectral_norm_upper_bound", /*square=*/false);
  ArbMatHandle a(A.rows(), A.cols());
  copy_to_arb(a, A);
  MagHandle b;
  bound_spectral_norm(b, a);
  return mag_upper_double(b);
}

// --- eigenvalues ------------------------------------------------------------------------

bool ComplexBall::contains(std::complex<double> z) const {
  return real.contains(z.real()) && imag.contains(z.imag());
}

std::string_view to_string(EigenEnclosureKind kind) {
  switch (kind) {
    case EigenEnclosureKind::Isolated: return "isolated";
    case EigenEnclosureKind::Clustered: return "clustered";
    case EigenEnclosureKind::Failed: return "failed";
  }
  return "unknown";
}

std::string_view to_string(SpectralGapStatus status) {
  switch (status) {
    case SpectralGapStatus::Certified: return "certified";
    case SpectralGapStatus::NotIsolated: return "not isolated";
    case SpectralGapStatus::UnitEigenvalueNotFound: return "unit eigenvalue not found";
  }
  return "unknown";
}

CertifiedEigenvalues certified_eigenvalues(const RowMatrix<Ball>& A, long bits) {
  require_precision(bits, "certified_eigenvalues");
  require_ball_matrix(A, "certified_eigenvalues", /*square=*/true);
  const slong n = A.rows();
  const slong prec = bits;
  AcbMatHandle a(n, n), R(n, n);
  for (slong i = 0; i < n; ++i)
    for (slong j = 0; j < n; ++j) acb_set_arb(acb_mat_entry(a, i, j), A(i, j).arb());
  AcbVecHandle approx(n), E(n);
  CertifiedEigenvalues out;
  out.precision_bits = bits;
  // Floating-point QR at `prec` on the midpoints; its own convergence flag is advisory —
  // the verification below decides.
  acb_mat_approx_eig_qr(approx, nullptr, R, a, nullptr, 0, prec);
  if (acb_mat_eig_simple(E, nullptr, nullptr, a, approx, R, prec)) {
    out.kind = EigenEnclosureKind::Isolated;
  } else if (acb_mat_eig_multiple(E, a, approx, R, prec)) {
    out.kind = EigenEnclosureKind::Clustered;
  } else {
    out.kind = EigenEnclosureKind::Failed;
    return out;
  }
  out.values.reserve(static_cast<std::size_t>(n));
  for (slong i = 0; i < n; ++i) {
    ComplexBall z;
    arb_set(z.real.arb(), acb_realref(E[i]));
    arb_set(z.imag.arb(), acb_imagref(E[i]));
    acb_abs(z.modulus.arb(), E[i], prec);
    z.real.set_precision(bits);
    z.imag.set_precision(bits);
    z.modulus.set_precision(bits);
    out.values.push_back(std::move(z));
  }
  std::stable_sort(out.values.begin(), out.values.end(),
                   [](const ComplexBall& x, const ComplexBall& y) {
                     return x.modulus.mid() > y.modulus.mid();
                   });
  return out;
}

CertifiedEigenvalues certified_eigenvalues(const RowMatrix<double>& A, long bits) {
  require_precision(bits, "certified_eigenvalues");
  if (A.rows() < 1 || A.rows() != A.cols()) {
    throw std::invalid_argument("certified_eigenvalues: matrix is " + std::to_string(A.rows()) +
                                "x" + std::to_string(A.cols()) +
                                ", must be square and at least 1x1");
  }
  return certified_eigenvalues(point_balls(A, "certified_eigenvalues"), bits);
}

CertifiedSpectralGap certified_spectral_gap(const RowMatrix<Ball>& P, long bits) {
  require_precision(bits, "certified_spectral_gap");
  require_ball_matrix(P, "certified_spectral_gap", /*square=*/true);
  const Eigen::Index n = P.rows();
  for (Eigen::Index i = 0; i < n; ++i) {
    Ball sum(0);
    for (Eigen::Index j = 0; j < n; ++j) {
      if (P(i, j) < Ball(0)) {
        throw std::invalid_argument("certified_spectral_gap: P(" + std::to_string(i) + ", " +
                                    std::to_string(j) + ") = " + P(i, j).str(6) +
                                    " is certainly negative; P must be row-stochastic "
                                    "(entries >= 0, row sums 1)");
      }
      sum += P(i, j);
    }
    if (!possibly(sum == Ball(1))) {
      throw std::invalid_argument("certified_spectral_gap: row " + std::to_string(i) +
                                  " sums to " + sum.str(6) +
                                  ", certainly not 1; P must be row-stochastic");
    }
  }
  CertifiedSpectralGap out;
  out.eigenvalues = certified_eigenvalues(P, bits);
  arb_indeterminate(out.gap.arb());
  arb_indeterminate(out.second_modulus.arb());
  if (out.eigenvalues.kind == EigenEnclosureKind::Failed) {
    out.status = SpectralGapStatus::NotIsolated;
    return out;
  }
  const auto& v = out.eigenvalues.values;
  long unit = -1;
  int holders = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i].contains({1.0, 0.0})) {
      unit = static_cast<long>(i);
      ++holders;
    }
  }
  if (holders == 0) {
    out.status = SpectralGapStatus::UnitEigenvalueNotFound;
    return out;
  }
  // Enclosures that do not overlap any other contain exactly one eigenvalue (Arb's contract
  // for both eig_simple and eig_multiple). The exact P has the eigenvalue 1, so if the one
  // enclosure holding the point 1 is isolated, it holds the eigenvalue 1 and no other one;
  // every other eigenvalue then lies in the other enclosures.
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (static_cast<long>(i) == unit) continue;
    if (v[i].real.overlaps(v[static_cast<std::size_t>(unit)].real) &&
        v[i].imag.overlaps(v[static_cast<std::size_t>(unit)].imag)) {
      out.status = SpectralGapStatus::NotIsolated;
      out.unit_index = unit;
      return out;
    }
  }
  Ball second(0);
  second.set_precision(bits);
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (static_cast<long>(i) != unit) second = max(second, v[i].modulus);
  }
  out.second_modulus = second;
  out.gap = Ball(1) - second;
  out.gap.set_precision(bits);
  out.unit_index = unit;
  out.status = SpectralGapStatus::Certified;
  return out;
}

}  // namespace attncert
