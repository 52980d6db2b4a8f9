// The Jacobian of softmax with temperature, J = ∂α/∂l = (1/T)(diag α − ααᵀ), α = softmax(l/T),
// and its exact spectral norm per row from a secular equation (no eigensolver).
//
// Spectral norm. J is symmetric positive semidefinite, so ‖J‖₂ = λ_max(J). With unnormalised
// weights w_i = exp((l_i − c)/T) (any shift c) and S = Σ w_i, α = w/S and
//     T·S·J = M := diag(w) − w wᵀ / S,
// whose nonzero eigenvalues off the diagonal values are the roots of the secular function
//     g(λ) = Σ_i w_i / (w_i − λ)                                       (see softmax_jacobian.cpp).
// The largest root lies between the two largest distinct weights (interlacing), so only those
// two are needed: O(L) per row, not even the O(L log L) sort. The root is relatively well
// conditioned in w (a relative perturbation ε_i of w_i moves λ by a weighted average of the
// ε_i), which is why this is more accurate than forming the matrix and calling an eigensolver
// (whose error is absolute, ~u·α_max, and dwarfs λ_max when one weight dominates).
//
// Tiers: float, double, Mp (Mp at the largest precision of the inputs, inside its own
// MpPrecision scope) give round-to-nearest values; Ball gives a certified enclosure of ‖J‖₂
// for every exact (l, T) inside the input balls (at the largest working precision of the
// inputs; all-exact inputs throw std::invalid_argument).
//
// Conventions as softmax.hpp: a logit −inf is masked (weight exactly 0, row and column of J are
// 0); a fully masked row, or a row with a single unmasked logit, has J = 0.
// Bad input throws std::invalid_argument (empty row, T not (certainly) finite and > 0, ε not
// finite and > 0, direction of the wrong length or zero, exact Ball inputs) or
// std::domain_error (a NaN or +inf logit or weight, a negative weight), naming the index.
#pragma once

#include <span>
#include <vector>

#include "numerics/tensor_view.hpp"

namespace attncert {

class Rng;

/// λ_max(diag(w) − w wᵀ / Σw) for finite weights w_i >= 0 (not necessarily normalised): the
/// largest root of the secular equation, by safeguarded Newton / bisection in the tier's
/// arithmetic (R = float, double, Mp). Zero weights are deflated (eigenvalue 0); a tied largest
/// weight a gives λ_max = a exactly; fewer than two positive weights give 0.
template <class R>
R secular_largest_eigenvalue(std::span<const R> weights);

/// ‖J‖₂ for α = softmax(logits / T). float, double, Mp: value; Ball: certified enclosure.
template <class T>
T softmax_jacobian_norm(std::span<const T> logits, const T& temperature);

/// ‖J‖₂ = λ_max(diag α̂ − α̂α̂ᵀ)/T at the distribution α̂ = α/Σα (weights are normalised here,
/// which is exact for a probability vector and keeps the result relatively accurate).
/// α_i finite and >= 0, not all 0. float, double, Mp.
template <class T>
T softmax_jacobian_norm_from_weights(std::span<const T> alpha, const T& temperature);

/// Batched: entry (r, t) is ‖J‖₂ of row r of `logits` at temperatures[t] (double).
RowMatrix<double> softmax_jacobian_norms(const Eigen::Ref<const RowMatrix<double>>& logits,
                                         std::span<const double> temperatures);

/// Batched from probability rows (one distribution per row), at temperature T: entry r.
std::vector<double> softmax_jacobian_norms_from_weights(
    const Eigen::Ref<const RowMatrix<double>>& alpha, double temperature);

/// The dense L×L Jacobian (1/T)(diag α − ααᵀ) (diagonal formed as α_i·Σ_{j≠i}α_j, no
/// cancellation). float, double, Mp; Ball: entrywise enclosures.
template <class T>
RowMatrix<T> softmax_jacobian(std::span<const T> logits, const T& temperature);

/// Paper A, Algorithm 5: g = ‖softmax((l + ε v)/T) − softmax(l/T)‖₂ / ε for the given
/// direction v (used as given; the paper draws it uniform on the unit sphere).
/// float, double, Mp; Ball: certified enclosure of g for the exact inputs.
template <class T>
T finite_difference_sensitivity(std::span<const T> logits, const T& temperature,
                                const T& epsilon, std::span<const T> direction);

/// As above with v drawn uniform on the unit sphere S^{L−1} from `rng` (double).
double finite_difference_sensitivity(std::span<const double> logits, double temperature,
                                     double epsilon, Rng& rng);

}  // namespace attncert
