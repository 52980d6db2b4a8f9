// The Jacobian of paper A's general normaliser α_i = F(l_i) / Σ_j F(l_j) (Lemma 2) and the
// spectral norm of a (not necessarily symmetric) Jacobian in every tier.
//
// With g_j = ∂_l log F(l_j) = F'(l_j)/F(l_j):
//     ∂α_i/∂l_k = δ_ik·α_i·g_i − α_i·α_k·g_k,   i.e.  J = (I − α1ᵀ)·diag(α ∘ g).
// For F = exp(l/T), g ≡ 1/T and J is the softmax Jacobian (1/T)(diag α − ααᵀ). In general J is
// not symmetric, so its 2-norm is its largest singular value, not an eigenvalue.
//
// jacobian_spectral_norm:
//  - double, Mp: largest singular value by Eigen's JacobiSVD (values only; Mp at the matrix's
//    largest precision, inside its own MpPrecision scope). Reference values, not bounds.
//  - Ball: a certified enclosure [lo, hi] of ‖A‖₂ for every exact matrix inside the entry balls.
//      hi: a-posteriori SVD. An Mp JacobiSVD gives Ũ, Ṽ (not exactly orthogonal); with
//          B = ŨᵀAṼ (ball product), A = Ũ⁻ᵀBṼ⁻¹, so ‖A‖₂ <= ‖B‖₂·‖Ũ⁻¹‖₂·‖Ṽ⁻¹‖₂ with
//          ‖B‖₂ <= max_i|B_ii| + ‖B − diag B‖_F (Weyl) and ‖Ũ⁻¹‖₂ <= (1 − ‖ŨᵀŨ − I‖_F)^{-1/2}
//          (σ_min(Ũ)² = λ_min(ŨᵀŨ) >= 1 − ‖ŨᵀŨ − I‖₂). The cheap bound min(‖A‖_F,
//          √(‖A‖₁‖A‖∞)) (spectral_norm_cheap_upper_bound) is also taken, the smaller wins.
//      lo: ‖Aṽ₁‖₂ / ‖ṽ₁‖₂ for the computed top right singular vector ṽ₁ (any nonzero vector
//          gives a lower bound; this one makes it tight).
//    Working precision: the largest among the entries (all exact: std::invalid_argument).
//
// Bad input throws std::invalid_argument (empty or mismatched sizes, empty functions) or
// std::domain_error (NaN/inf entries, a weight < 0, F not positive — via normalise()).
// Instantiated for float (normaliser_jacobian only), double, Mp and Ball in
// normaliser_jacobian.cpp.
#pragma once

#include <functional>
#include <span>

#include "numerics/softmax.hpp"  // PositiveFunction<T>
#include "numerics/tensor_view.hpp"

namespace attncert {

class Ball;

/// g = (log F)' in tier T.
template <class T>
using LogDerivative = std::function<T(const T&)>;

/// J_ik = δ_ik α_i g_i − α_i α_k g_k from the weights α and the log-derivatives g (equal
/// lengths; entries with α_k = 0 ignore g_k, so a masked logit's g may be anything finite or not).
template <class T>
RowMatrix<T> normaliser_jacobian_from_weights(std::span<const T> alpha,
                                              std::span<const T> log_derivatives);

/// J at the logits, with α = normalise(logits, F) and g_j = log_derivative(l_j) (not called for
/// masked logits).
template <class T>
RowMatrix<T> normaliser_jacobian(std::span<const T> logits, const PositiveFunction<T>& F,
                                 const LogDerivative<T>& log_derivative);

/// ‖A‖₂ (see the header comment): double, Mp values; Ball certified enclosure.
template <class T>
T jacobian_spectral_norm(const RowMatrix<T>& A);

/// min(‖A‖_F, √(‖A‖₁·‖A‖∞)) in ball arithmetic: a certified upper bound of ‖A‖₂
/// (the ball's upper end bounds ‖A‖₂ for every matrix inside the entry balls).
Ball spectral_norm_cheap_upper_bound(const RowMatrix<Ball>& A);

}  // namespace attncert
