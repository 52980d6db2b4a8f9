// Closed forms of the classical approximation-error results (THEORY.md C.performer-mse,
// C.taylor2) in every tier, shared by the claims that check them (theory/claims/c_performer.cpp,
// c_taylor2.cpp) and by the approximation-error sweep that plots them.
#pragma once

#include <cmath>

#include "theory/claim.hpp"

namespace attncert {

/// C.performer-mse (Choromanski et al. 2021, Lemma 2): the MSE of φ⁺(x)ᵀφ⁺(y) as an estimate of
/// e^{xᵀy} with m i.i.d. Gaussian directions,
///   (1/m)·e^{‖x+y‖²}·e^{2xᵀy}·(1 − e^{−‖x+y‖²}),
/// from xy = xᵀy and sum_sq = ‖x+y‖².
template <class T>
T performer_mse(const T& xy, const T& sum_sq, const T& m, const TierContext<T>& ctx) {
  using std::exp;
  return T(exp(sum_sq)) * T(exp(T(ctx.from(2.0) * xy))) * T(ctx.from(1.0) - T(exp(T(-sum_sq)))) / m;
}

/// C.taylor2: the Lagrange remainder bound |e^s − (1 + s + s²/2)| ≤ |s|³·e^{max(s,0)}/6.
template <class T>
T taylor2_remainder_bound(const T& s, const TierContext<T>& ctx) {
  using std::abs;
  using std::exp;
  const T zero = ctx.from(0.0);
  T positive_part = zero;
  if constexpr (std::is_same_v<T, Ball>) {
    positive_part = max(s, zero);
  } else {
    positive_part = s < zero ? zero : s;
  }
  const T a = abs(s);
  return T(a * a * a) * T(exp(positive_part)) / ctx.from(6.0);
}

}  // namespace attncert
