// Singular values and eigenvalues of (attention) matrices in the working and reference tiers.
//
//  - double, dense: Eigen's BDCSVD (singular values) and EigenSolver (eigenvalues of a
//    non-symmetric matrix such as the row-stochastic P).
//  - double, matrix-free: the k largest singular values by Spectra's Lanczos solver
//    (SymEigsSolver) on the Gram operator AᵀA (or AAᵀ when A is wide), applied as x ↦ Aᵀ(Ax)
//    without forming the Gram matrix. For large n and for factored matrices such as linear
//    attention's φ(Q)φ(K)ᵀ (low_rank_operator never forms the n×n product).
//  - Mp: Eigen's BDCSVD instantiated for Mp (in spectral_mp.cpp, the one TU that pays for the
//    Eigen × Mp SVD templates). Round-to-nearest reference values, NOT a certificate — the
//    certified enclosures are in certified_spectrum.hpp and start from this decomposition.
//
// Bad input throws std::invalid_argument (empty matrix, non-square where square is needed,
// k outside [1, min(m, n)]) or std::domain_error (NaN / ±inf entry, row and column named).
#pragma once

#include <complex>
#include <cstdint>
#include <functional>
#include <vector>

#include "numerics/eigen_support.hpp"
#include "numerics/tensor_view.hpp"

namespace attncert {

/// All min(m, n) singular values of A, descending (Eigen BDCSVD, backward stable).
std::vector<double> singular_values(const RowMatrix<double>& A);

/// All eigenvalues of the square matrix A (Eigen EigenSolver: Hessenberg + shifted QR),
/// sorted by modulus, largest first (ties: larger real part, then larger imaginary part).
std::vector<std::complex<double>> eigenvalues(const RowMatrix<double>& A);

/// A real m×n matrix given only by its action: y = A x (x has cols entries, y has rows) and
/// y = Aᵀ x (x has rows entries, y has cols). The callbacks must not retain the pointers.
struct LinearOperator {
  Eigen::Index rows = 0;
  Eigen::Index cols = 0;
  std::function<void(const double* x, double* y)> apply;
  std::function<void(const double* x, double* y)> apply_transpose;
};

/// The operator of a dense matrix; A is referenced, not copied, and must outlive the operator.
LinearOperator dense_operator(const RowMatrix<double>& A);
/// The operator of left · rightᵀ (left: m×r, right: n×r) applied as left·(rightᵀx): O((m+n)r)
/// per product, the m×n matrix is never formed. Both are referenced and must outlive it.
LinearOperator low_rank_operator(const RowMatrix<double>& left, const RowMatrix<double>& right);

struct TopSingularValuesOptions {
  /// Spectra's convergence test on each Ritz value θ of the Gram operator:
  /// ‖residual‖ <= relative_tolerance · max(ε^(2/3), |θ|). 1e-10 is Spectra's own default.
  double relative_tolerance = 1e-10;
  /// Restarts of the implicitly restarted Lanczos iteration.
  Eigen::Index max_iterations = 1000;
  /// Lanczos subspace dimension (Spectra's ncv); 0 = min(p, max(2k + 1, 20)) where
  /// p = min(m, n). Must satisfy k < ncv <= p when given.
  Eigen::Index subspace_dimension = 0;
};

/// The k largest singular values of A, descending, matrix-free. Requires 1 <= k <= min(m, n).
/// When k = min(m, n) (Lanczos needs k < p), or p <= 2, the p×p Gram matrix is assembled
/// from p operator products and solved densely — still exact to working precision.
/// Throws std::runtime_error if Spectra does not converge within max_iterations.
std::vector<double> top_singular_values(const LinearOperator& A, Eigen::Index k,
                                        const TopSingularValuesOptions& options = {});
std::vector<double> top_singular_values(const RowMatrix<double>& A, Eigen::Index k,
                                        const TopSingularValuesOptions& options = {});

/// A ≈ U · diag(σ) · Vᵀ computed in Mp: U m×m and V n×n (full, so that both are square —
/// certified_spectrum.hpp needs their inverses), σ the min(m, n) singular values, descending.
struct MpSvd {
  MpMatrix U;
  MpVector singular_values;
  MpMatrix V;
  long precision_bits = 0;
};

/// Eigen::BDCSVD<MpMatrix> at `bits` bits (inside its own MpPrecision scope). Entries are
/// rounded to `bits` first. Not rigorous (round-to-nearest).
MpSvd mp_svd(const RowMatrix<Mp>& A, long bits);
MpSvd mp_svd(const RowMatrix<double>& A, long bits);
/// Only the singular values (U and V are not accumulated: cheaper).
std::vector<Mp> mp_singular_values(const RowMatrix<Mp>& A, long bits);
std::vector<Mp> mp_singular_values(const RowMatrix<double>& A, long bits);

/// The double matrix as Mp with `bits` bits per entry (exact for bits >= 53).
RowMatrix<Mp> to_mp_matrix(const RowMatrix<double>& A, long bits);

}  // namespace attncert
