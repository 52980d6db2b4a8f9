// Certified enclosures of singular values and eigenvalues (the enclosure tier).
//
// A-posteriori (docs/architecture.md, tiers): an approximate decomposition is computed in a
// round-to-nearest tier (Mp BDCSVD for singular values, Arb's floating-point QR for
// eigenvalues), then its residual is bounded in Ball arithmetic, which turns it into
// rigorous enclosures.
//
// Singular values (the argument, in certified_spectrum.cpp in full): with Ũ (m×m), Ṽ (n×n),
// s̃ from the Mp SVD, taken as exact matrices, and rigorous upper bounds
//     α >= ‖ŨᵀŨ − I‖₂,   β >= ‖ṼᵀṼ − I‖₂,   ε >= ‖ŨᵀAṼ − Σ̃‖₂
// (Σ̃ = the m×n diagonal of s̃; norms bounded by min(‖·‖_F, √(‖·‖₁‖·‖∞)) in Ball arithmetic):
//     (s̃_i − ε) / √((1+α)(1+β))  <=  σ_i(A)  <=  (s̃_i + ε) / √((1−α)(1−β))     (α, β < 1)
// for every i, with s̃ sorted descending. If α or β >= 1 the upper ends are +inf.
//
// A Ball input matrix stands for every real matrix inside its entry-wise balls; the enclosures
// hold for each of them (so for the exact attention matrix a Ball P encloses).
//
// Eigenvalues: Arb's acb_mat_approx_eig_qr for an approximation, then acb_mat_eig_simple
// (Rump's / van der Hoeven–Mourrain's verification; isolating disjoint enclosures, one
// eigenvalue each) or, when eigenvalues cluster, acb_mat_eig_multiple (enclosures that may
// be shared by a cluster).
//
// Bad input throws std::invalid_argument (empty, non-square where square is needed, a P that
// is certainly not row-stochastic, precision outside [2, 1e6] bits) or std::domain_error (an
// entry that is NaN, infinite or has an infinite radius; row and column named).
#pragma once

#include <complex>
#include <string_view>
#include <vector>

#include "numerics/ball.hpp"
#include "numerics/eigen_support.hpp"
#include "numerics/tensor_view.hpp"

namespace attncert {

struct MpSvd;  // spectral.hpp

struct CertifiedSingularValues {
  /// Descending; σ_i(A) ∈ singular_values[i] for every matrix A in the input box.
  std::vector<Ball> singular_values;
  /// Rigorous upper bounds (doubles rounded up) of ‖ŨᵀŨ − I‖₂, ‖ṼᵀṼ − I‖₂, ‖ŨᵀAṼ − Σ̃‖₂.
  double u_orthogonality_bound = 0.0;
  double v_orthogonality_bound = 0.0;
  double residual_bound = 0.0;
  long precision_bits = 0;

  /// False when α or β >= 1 (the approximation was too poor: upper ends are +inf).
  bool upper_bounds_finite() const;
  /// The largest radius among the enclosures (an upper bound, as a double).
  double max_radius() const;
};

/// Certified singular values at `bits` bits: Mp BDCSVD of the midpoints, then the Ball
/// residual bound above, both at `bits`.
CertifiedSingularValues certified_singular_values(const RowMatrix<Ball>& A, long bits);
/// The doubles are exact inputs (point balls).
CertifiedSingularValues certified_singular_values(const RowMatrix<double>& A, long bits);
/// The certification step alone, from a given approximate SVD of (the midpoints of) A.
/// approx.U must be m×m, approx.V n×n, approx.singular_values min(m, n) long. Any
/// approximation gives valid enclosures; a poor one gives wide ones.
CertifiedSingularValues certify_singular_values(const RowMatrix<Ball>& A, const MpSvd& approx,
                                                long bits);

/// A rigorous upper bound (rounded up to a double) of the spectral norm ‖A‖₂ over the box:
/// min(‖A‖_F, √(‖A‖₁‖A‖∞)).
double spectral_norm_upper_bound(const RowMatrix<Ball>& A);

/// An enclosure of a complex number: real part, imaginary part and modulus.
struct ComplexBall {
  Ball real;
  Ball imag;
  Ball modulus;
  /// True when the rectangle real × imag certainly contains z.
  bool contains(std::complex<double> z) const;
};

enum class EigenEnclosureKind {
  /// Pairwise disjoint enclosures, each containing exactly one (simple) eigenvalue.
  Isolated,
  /// Every eigenvalue lies in its enclosure, but a cluster may share one enclosure (several
  /// entries of `values` then are the same ball).
  Clustered,
  /// Verification failed at this precision (ill-conditioned or too few bits): no enclosures.
  Failed,
};
std::string_view to_string(EigenEnclosureKind kind);

struct CertifiedEigenvalues {
  /// All n eigenvalues (with multiplicity), sorted by the modulus midpoint, largest first.
  std::vector<ComplexBall> values;
  EigenEnclosureKind kind = EigenEnclosureKind::Failed;
  long precision_bits = 0;
};

/// Certified eigenvalues of a square matrix (not necessarily symmetric) at `bits` bits.
CertifiedEigenvalues certified_eigenvalues(const RowMatrix<Ball>& A, long bits);
CertifiedEigenvalues certified_eigenvalues(const RowMatrix<double>& A, long bits);

enum class SpectralGapStatus {
  /// gap encloses 1 − max_{λ ≠ the eigenvalue 1}|λ|.
  Certified,
  /// The eigenvalue enclosures are not isolated (a cluster, or verification failed), so the
  /// eigenvalue 1 cannot be told apart from λ₂: raise the precision, or P has a multiple
  /// eigenvalue 1 (reducible chain), where the gap is 0.
  NotIsolated,
  /// No enclosure, or more than one, contains 1 (cannot happen for an exactly stochastic P
  /// inside the box; kept as a status rather than an assumption).
  UnitEigenvalueNotFound,
};
std::string_view to_string(SpectralGapStatus status);

struct CertifiedSpectralGap {
  SpectralGapStatus status = SpectralGapStatus::NotIsolated;
  /// 1 − |λ₂| when Certified (for 1×1 P: |λ₂| := 0, gap 1); otherwise indeterminate.
  Ball gap;
  /// |λ₂|, the largest modulus among the eigenvalues other than the eigenvalue 1.
  Ball second_modulus;
  /// Index into eigenvalues.values of the enclosure holding the eigenvalue 1 (-1 if none).
  long unit_index = -1;
  CertifiedEigenvalues eigenvalues;
};

/// The spectral gap of a row-stochastic P (an attention matrix), certified when the eigenvalue
/// enclosures are isolated. Requires P square with every row sum possibly 1 and every entry
/// possibly >= 0 (std::invalid_argument names the first row that certainly violates it).
/// The argument assumes the exact P inside the box is row-stochastic, so 1 is an eigenvalue.
CertifiedSpectralGap certified_spectral_gap(const RowMatrix<Ball>& P, long bits);

}  // namespace attncert
