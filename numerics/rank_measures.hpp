// Rank measures of attention matrices (THEORY.md C.rank-softmax, C.rank-linear).
//
// Working tier (double), from the singular values σ₁ >= … >= σ_p (p = min(m, n)):
//  - numerical rank at a tolerance τ: #{i : σ_i > τ}; default τ = max(m, n)·ε·σ₁ (the
//    LAPACK / MATLAB / NumPy convention: the backward error of a stable SVD is that size);
//  - stable rank ‖A‖_F² / ‖A‖₂² = Σσ_i² / σ₁² (Rudelson–Vershynin), in [1, rank];
//  - effective rank exp(H(p)), p_i = σ_i / Σσ_j, H the Shannon entropy in nats (Roy & Vetterli
//    2007), in [1, rank];
//  - condition number σ₁ / σ_p (+inf when σ_p = 0);
//  - spectral gap 1 − |λ₂| of a row-stochastic P.
// Enclosure tier (Ball), where it is rigorous and cheap, from certified singular values:
//  - a certified lower bound on the rank: the largest k with σ_k certainly > 0 (σ₁ >= … >= σ_k
//    > 0 then, so rank >= k);
//  - a structural upper bound for linear attention: rank(φ(Q)φ(K)ᵀ) <= min(n_q, n_k, m), m the
//    feature dimension — also after row normalisation D⁻¹φ(Q)φ(K)ᵀ (D is invertible);
//  - stable rank, condition number and effective rank as Balls (when the needed σ are
//    certainly > 0).
// Bad input throws std::invalid_argument (empty, non-square P, mismatched feature dimensions,
// tolerance < 0 or NaN) or std::domain_error (non-finite entries or singular values).
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "numerics/ball.hpp"
#include "numerics/tensor_view.hpp"

namespace attncert {

struct CertifiedSingularValues;  // certified_spectrum.hpp

/// max(m, n)·ε·σ_max: the default numerical-rank tolerance.
double default_rank_tolerance(Eigen::Index rows, Eigen::Index cols, double sigma_max);

// Each takes singular values in descending order, all finite and >= 0 (else
// std::domain_error), at least one (else std::invalid_argument).
Eigen::Index numerical_rank(std::span<const double> sigma, double tolerance);
/// 0 when every σ is 0 (the zero matrix has rank 0).
double stable_rank(std::span<const double> sigma);
/// 0 when every σ is 0.
double effective_rank(std::span<const double> sigma);
double condition_number(std::span<const double> sigma);

struct RankMeasures {
  Eigen::Index rows = 0;
  Eigen::Index cols = 0;
  std::vector<double> singular_values;  ///< descending, min(rows, cols) of them
  double tolerance = 0.0;               ///< τ used for numerical_rank
  Eigen::Index numerical_rank = 0;
  double stable_rank = 0.0;
  double effective_rank = 0.0;
  double condition_number = 0.0;
};

/// All measures of A in double (one BDCSVD). tolerance: τ, or empty for the default.
RankMeasures rank_measures(const RowMatrix<double>& A, std::optional<double> tolerance = {});

/// 1 − |λ₂| of a row-stochastic P in double (eigenvalues by modulus; |λ₁| = 1). 1 for 1×1.
/// Throws std::invalid_argument if P is not square or not row-stochastic within
/// n·ε per row sum (entries must be >= 0).
double spectral_gap(const RowMatrix<double>& P);

/// Certified rank interval: lower <= rank(A) <= upper for every A in the box.
struct CertifiedRankBounds {
  Eigen::Index lower = 0;
  Eigen::Index upper = 0;
  bool exact() const noexcept { return lower == upper; }
};

/// The largest k with σ_k certainly > 0 (0 if none), from descending enclosures.
Eigen::Index certified_rank_lower_bound(std::span<const Ball> sigma);
/// lower from the certified σ; upper = min(upper_bound, p), p = number of σ.
CertifiedRankBounds certified_rank(const CertifiedSingularValues& sigma,
                                   std::optional<Eigen::Index> structural_upper_bound = {});

/// rank(φ(Q)φ(K)ᵀ) <= min(n_q, n_k, m): φ(Q) is n_q×m, φ(K) n_k×m (feature rows). A structural
/// fact about the factorisation, so it holds exactly whatever the entries are.
template <class T>
Eigen::Index linear_attention_rank_upper_bound(const RowMatrix<T>& phi_q,
                                               const RowMatrix<T>& phi_k);
/// The same from the shapes alone.
Eigen::Index linear_attention_rank_upper_bound(Eigen::Index query_rows, Eigen::Index key_rows,
                                               Eigen::Index feature_dim);

/// ‖A‖_F² / σ₁² enclosed; needs σ₁ certainly > 0 (else an indeterminate ball).
Ball certified_stable_rank(const RowMatrix<Ball>& A, const CertifiedSingularValues& sigma);
/// σ₁ / σ_p enclosed; indeterminate unless σ_p is certainly > 0.
Ball certified_condition_number(const CertifiedSingularValues& sigma);
/// exp(−Σ p_i log p_i), p_i = σ_i / Σσ_j, with 0·log 0 = 0 (a rank-deficient A has
/// effective rank < its size: all-ones attention gives 1), enclosed; a σ_i whose enclosure
/// touches 0 adds the range of −p log p over [0, its upper bound]. Indeterminate only for A = 0.
Ball certified_effective_rank(const CertifiedSingularValues& sigma);

}  // namespace attncert
