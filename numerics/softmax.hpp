// The softmax family in every tier: softmax with temperature, log-sum-exp, log-softmax,
// entropy, and the general normaliser α_i = F(l_i) / Σ_j F(l_j) of paper A.
//
// Conventions shared by every function here:
//  - Temperature T > 0 divides the logits: α = softmax(l / T).
//  - log_sum_exp(l, T) = log Σ_j exp(l_j / T)   (no factor T in front).
//  - A logit of −inf is masked: weight exactly 0. A fully masked row gives all-zero weights,
//    log_sum_exp = −inf, log_softmax all −inf and entropy 0 — never NaN.
//  - Precision comes from the inputs: Mp computes at the largest precision of its arguments
//    (inside an MpPrecision scope), Ball at the largest working precision of its arguments.
//  - Ball results are enclosures of the exact values, computed overflow-safe (shifted by the
//    largest logit), with radii a small multiple of 2^-prec relative (sums use arb_dot).
//  - Bad input throws: std::invalid_argument for an empty row or T not (certainly) > 0 and
//    finite; std::domain_error for a NaN or +inf logit, naming its index.
// Instantiated for float, double, Mp and Ball in softmax.cpp.
#pragma once

#include <functional>
#include <span>
#include <vector>

namespace attncert {

template <class T>
std::vector<T> softmax(std::span<const T> logits, const T& temperature);

template <class T>
T log_sum_exp(std::span<const T> logits, const T& temperature);

template <class T>
std::vector<T> log_softmax(std::span<const T> logits, const T& temperature);

/// Shannon entropy −Σ α_i log α_i (nats) of softmax(l / T).
template <class T>
T entropy(std::span<const T> logits, const T& temperature);

/// A positive function F: ℝ → (0, ∞) evaluated in tier T (the general normaliser's F).
template <class T>
using PositiveFunction = std::function<T(const T&)>;

/// α_i = F(l_i) / Σ_j F(l_j). Masked (−inf) logits get weight 0. F must be positive on every
/// unmasked logit: a value <= 0 (for Ball: not certainly > 0) or non-finite throws
/// std::domain_error naming the index.
template <class T>
std::vector<T> normalise(std::span<const T> logits, const PositiveFunction<T>& F);

}  // namespace attncert
