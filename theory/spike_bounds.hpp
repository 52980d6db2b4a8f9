// Paper B's spike bounds (reconstructed; THEORY.md B.spike-softmax, B.spike-linear, B.degree) in
// every tier, shared by the claims that check them (theory/claims/b_spike.cpp, b_degree.cpp)
// and by the sweep that plots them against sampled datasets (softmax-linear-separation).
//
// `others` is n − 1, the number of non-spike tokens; the spike is token 1 (index 0).
#pragma once

#include <cmath>
#include <vector>

#include "theory/claim.hpp"

namespace attncert {

/// B.spike-softmax, D₁: s_1 = B, s_j ≤ R ⇒ p_1 ≥ 1/(1 + (n−1)e^{R−B}).
template <class T>
T spike_softmax_lower_bound(const T& others, const T& R, const T& B, const TierContext<T>& ctx) {
  using std::exp;
  const T one = ctx.from(1.0);
  return one / (one + others * T(exp(T(R - B))));
}

/// B.spike-softmax, D₀: |s_j| ≤ R ⇒ max_j p_j ≤ 1/(1 + (n−1)e^{−2R}).
template <class T>
T bounded_softmax_max_upper_bound(const T& others, const T& R, const TierContext<T>& ctx) {
  using std::exp;
  const T one = ctx.from(1.0);
  return one / (one + others * T(exp(T(-(R + R)))));
}

/// B.spike-softmax, threshold form: B ≥ R + ln(n−1) + ln((1−ε)/ε) ⇒ p_1 ≥ 1 − ε.
template <class T>
T spike_softmax_threshold(const T& others, const T& R, const T& eps, const TierContext<T>& ctx) {
  using std::log;
  const T one = ctx.from(1.0);
  return R + T(log(others)) + T(log(T((one - eps) / eps)));
}

/// B.spike-linear: s_1 = B > 0, s_j ∈ [r, R] ⇒ B/(B + (n−1)R) ≤ p_1 (linear weights s_j/Σs_k).
template <class T>
T spike_linear_lower_bound(const T& others, const T& R, const T& B) {
  return B / (B + others * R);
}

/// B.spike-linear: … p_1 ≤ B/(B + (n−1)r).
template <class T>
T spike_linear_upper_bound(const T& others, const T& r, const T& B) {
  return B / (B + others * r);
}

/// B.degree: power kernel s^β, s_1 = B > R ≥ s_j > 0 ⇒ p_1 ≥ 1/(1 + (n−1)(R/B)^β).
template <class T>
T spike_power_lower_bound(const T& others, const T& R, const T& B, const T& beta,
                          const TierContext<T>& ctx) {
  using std::pow;
  const T one = ctx.from(1.0);
  return one / (one + others * T(pow(T(R / B), beta)));
}

/// B.degree, threshold form: β ≥ ln((n−1)(1−ε)/ε) / ln(B/R) ⇒ p_1 ≥ 1 − ε.
template <class T>
T spike_power_degree_threshold(const T& others, const T& R, const T& B, const T& eps,
                               const TierContext<T>& ctx) {
  using std::log;
  const T one = ctx.from(1.0);
  return T(log(T(others * (one - eps) / eps))) / T(log(T(B / R)));
}

/// Power-kernel weight of the spike, p_1 = s_1^β / Σ_k s_k^β, evaluated as
/// 1 / (1 + Σ_{j≥2} (s_j/s_1)^β): the same number, without overflowing double when β·ln s_1 is
/// large. Needs s_1 > 0 and s_j ≥ 0.
template <class T>
T spike_power_weight(const std::vector<T>& s, const T& beta, const TierContext<T>& ctx) {
  using std::pow;
  const T one = ctx.from(1.0);
  T tail = ctx.from(0.0);
  for (std::size_t j = 1; j < s.size(); ++j) tail += T(pow(T(s[j] / s[0]), beta));
  return one / (one + tail);
}

}  // namespace attncert
