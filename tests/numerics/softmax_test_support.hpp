// Shared by softmax_test.cpp and softmax_properties_test.cpp: a-priori error bounds of the
// shifted softmax algorithm (softmax.cpp) in a round-to-nearest tier, and "the ball widened
// by that bound contains the value" checks.
//
// Error model (unit roundoff u = 2^-q, γ_k = k·u/(1 − k·u) <= 1.01·k·u for k·u <= 0.01):
//   x_i = fl(fl(l_i − m) / T)        |x̂_i − x_i| <= γ_2·|x_i|
//   e_i = exp(x̂_i)                   relative error <= γ_2·|x_i| + 2u   (exp within 1 ulp)
//   S  = Σ e_i (recursive sum)        relative error η <= γ_2·X̄ + 2u + γ_L,  X̄ = Σ α_j |x_j|
//   α_i = e_i / S                     relative error <= γ_2·(|x_i| + X̄) + γ_{L+5}
//   log α_i = x_i − log S             absolute error <= γ_2·|x_i| + η + u·(log L + |log α_i|)
//   LSE = m/T + log S                 absolute error <= u·(|m/T| + log L + |LSE|) + η
//   H = log S − Σ e_i x_i / S         absolute error <= η·(1 + X̄) + u·log L + γ_2·Σ α_j x_j²
//                                                        + γ_{L+6}·X̄ + u·|H|
// Each coefficient below is that bound in units of u, times 2 (covers the 1.01 of γ and
// second-order terms). In float/double, subnormal results add an absolute error of a few
// times the smallest subnormal (the `absolute` term); in Mp, results below MPFR's smallest
// exponent (about 10^-3.2e8, reached e.g. by exp(−2e9)) underflow to 0, an absolute error of
// at most 2^emin (`mp_underflow`).
#pragma once

#include <arb.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "numerics/arb_handles.hpp"
#include "numerics/ball.hpp"
#include "numerics/mp.hpp"
#include "numerics/tier_conversions.hpp"

namespace attncert::testing_support {

/// The scales the error model needs, from double logits and the (certified) weights.
struct SoftmaxErrorModel {
  std::vector<double> abs_x;  // |x_i| = |l_i − m| / T (0 for masked)
  double xbar = 0;            // Σ α_j |x_j|
  double x2 = 0;              // Σ α_j x_j²
  double m_over_t = 0;        // |m / T|
  double log_l = 0;           // log(#unmasked)
  double length = 0;          // #unmasked

  SoftmaxErrorModel(std::span<const double> logits, double t, std::span<const Ball> alpha) {
    double m = -std::numeric_limits<double>::infinity();
    for (double l : logits) m = std::max(m, l);
    abs_x.assign(logits.size(), 0.0);
    for (std::size_t i = 0; i < logits.size(); ++i) {
      if (std::isinf(logits[i])) continue;
      abs_x[i] = std::abs((logits[i] - m) / t) * (1 + 1e-12);
      const double a = std::abs(alpha[i].mid());
      xbar += a * abs_x[i];
      x2 += a * abs_x[i] * abs_x[i];
      length += 1;
    }
    xbar *= 1 + 1e-9;  // the midpoints are only approximately α
    x2 *= 1 + 1e-9;
    m_over_t = std::isinf(m) ? 0.0 : std::abs(m / t);
    log_l = length > 0 ? std::log(length) : 0.0;
  }
  double eta() const { return 2 * xbar + length + 3; }
  /// Relative bound on α_i, in units of u.
  double alpha(std::size_t i) const { return 2 * (2 * abs_x[i] + eta() + 2 + 5); }
  /// Absolute bound on log α_i (given |log α_i|), in units of u.
  double log_alpha(std::size_t i, double abs_value) const {
    return 2 * (2 * abs_x[i] + eta() + log_l + abs_value + 1);
  }
  /// Absolute bound on LSE, in units of u.
  double lse(double abs_value) const { return 2 * (m_over_t + log_l + abs_value + eta() + 1); }
  /// Absolute bound on H, in units of u.
  double entropy(double abs_value) const {
    return 2 * (eta() * (1 + xbar) + log_l + 2 * x2 + (length + 6) * xbar + abs_value + 1);
  }
};

/// b widened by |scale|·k·2^-q + absolute (all rounded up), so it contains every value within
/// that distance of b.
inline Ball widened(const Ball& b, const Ball& scale, double k, long q, double absolute = 0,
                    bool mp_underflow = false) {
  Ball r(b);
  arb_handles::ArfHandle err, t;
  arb_get_abs_ubound_arf(err, scale.arb(), 64);
  arf_set_d(t, k);
  arf_mul(err, err, t, 64, ARF_RND_UP);
  arf_mul_2exp_si(err, err, -q);
  arf_set_d(t, absolute);
  arf_add(err, err, t, 64, ARF_RND_UP);
  if (mp_underflow) {
    // MPFR's exponent range ends at 2^emin: smaller results round to 0 (or 2^(emin-1)).
    arf_set_si_2exp_si(t, 1, static_cast<slong>(mpfr_get_emin()));
    arf_add(err, err, t, 64, ARF_RND_UP);
  }
  arb_add_error_arf(r.arb(), err);
  return r;
}

/// The smallest positive subnormal of a working tier (the absolute error floor of underflow).
template <class F>
double underflow_floor() {
  return 4.0 * static_cast<double>(std::numeric_limits<F>::denorm_min());
}

}  // namespace attncert::testing_support
