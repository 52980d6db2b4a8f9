// The built-in positive functions F of paper A's general normaliser α_i = F(l_i) / Σ_j F(l_j)
// (use them with normalise() from softmax.hpp). Each is available in every tier; the Ball
// version returns an enclosure of F at the logit's working precision, the Mp version computes
// at the logit's precision (it opens its own MpPrecision).
//
// Parameters are validated when the function is made: std::invalid_argument names the
// parameter and its admissible range. Instantiated for float, double, Mp and Ball in
// normaliser.cpp.
#pragma once

#include "numerics/softmax.hpp"

namespace attncert {

/// F(l) = exp(l / T), T finite and > 0. normalise() with it is softmax with temperature T,
/// but without the shift: exp(l/T) may overflow float/double (normalise then throws), so
/// prefer softmax() for softmax itself.
template <class T>
PositiveFunction<T> exp_normaliser(double temperature);

/// F(l) = softplus(l) + c = log(1 + e^l) + c, c finite and > 0 (computed overflow-safe as
/// max(l, 0) + log1p(e^{−|l|}) + c).
template <class T>
PositiveFunction<T> softplus_normaliser(double c);

/// F(l) = sigmoid(l) = 1 / (1 + e^{−l}) (computed without overflow on either side). In
/// float/double it underflows to 0 for very negative l, and normalise() then throws.
template <class T>
PositiveFunction<T> sigmoid_normaliser();

/// F(l) = (l + a + 1)^p on l ∈ [−a, a] (a finite and >= 0, p finite and > 0), where
/// 1 <= l + a + 1 <= 2a + 1. A logit outside [−a, a] (for Ball: not certainly inside) throws
/// std::domain_error naming the interval.
template <class T>
PositiveFunction<T> power_normaliser(double a, double p);

}  // namespace attncert
