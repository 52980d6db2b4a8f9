// A-priori forward error bounds of the flash and three-pass classes of softmax attention.
// The derivation, term by term, is docs/attention_error_bounds.md; the numbered comments below
// follow its sections. It reuses the argument at the top of flash_attention_check.cpp (which
// bounds OUR kernel for its fixed tiling and rounded double inputs) for any kernel of a class:
// inputs already in the dtype (no input rounding), dot products and sums in any order with a
// faithful fp32 unit, exp and its argument with stated errors, P in the input dtype.
#include "proofs_checks/attention_error_bound.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "numerics/scalar_traits.hpp"

namespace attncert {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// The bound is evaluated in double without cancellation (log1p/expm1); each term carries a
// relative error of a few 1e-16 times the operation count; 1e-9 covers that.
constexpr double kBoundSafety = 1.0 + 1e-9;

/// γ_n = nu/(1 − nu), infinite when nu ≥ 1 (the model says nothing).
double gamma_or_inf(double n, double u) {
  return n * u < 1 ? higham_gamma(static_cast<long>(n), u) : kInf;
}

/// Subnormal floor of rounding to t (0 for fp32 values that stay fp32).
double floor_of(gpu::DType t) { return gpu::dtype_half_smallest_subnormal(t); }

}  // namespace

AttentionElementBound attention_class_bound(const AttentionClass& cls,
                                            const AttentionRowData& row) {
  const AttentionElementBound none{kInf, kInf, true};
  if (row.visible_keys < 1 || row.head_dim < 1 || !(row.scale > 0) || !std::isfinite(row.scale))
    return none;
  const double u = cls.accumulation_unit;
  const double n = row.visible_keys, d = row.head_dim, sigma = row.scale;
  const double A = row.abs_dot * kBoundSafety;
  const double mu = row.max_abs_logit * kBoundSafety;
  const double vmax = row.v_max_abs, h = row.v_half_range;
  const double u_dt = gpu::dtype_unit_roundoff(cls.input);
  const double eta_dt = floor_of(cls.input);
  const double eps_sigma = u;  // the kernel's fp32 scale against the exact one
  // Tiles of ≥ block_k keys aligned anywhere meet a contiguous range of n keys at most
  // ⌈(n − 1)/block_k⌉ + 1 times (a window's first key need not start a tile).
  const double n_t = cls.online_softmax ? std::ceil((n - 1) / std::max(cls.block_k, 1)) + 1 : 1.0;

  // 1. Logits: |t̂_j − t_j| ≤ Δ for every visible key.
  const double gamma_d = gamma_or_inf(d, u);
  double delta_pre = 0;
  // |logit| before the softcap (max_abs_logit is after it)
  const double mu_pre = row.softcap ? sigma * A : std::max(sigma * A, mu);
  if (cls.scores_rounded_to_input) {
    // q·a, k·b rounded to the dtype (a·b = σ̂; a, b ∈ {σ̂, √σ̂, 1}), fp32 dot, S stored.
    const double c = std::max(1.0, sigma) * (1 + eps_sigma);
    // The scaled q (or k) is stored in the input dtype: it must not overflow there.
    if (!(c * std::max(row.q_abs_sum, row.k_abs_sum) * (1 + u_dt) <
          gpu::dtype_overflow_threshold(cls.input)))
      return none;
    const double floors =
        eta_dt * (1 + u_dt) * c * (row.q_abs_sum + row.k_abs_sum) + d * eta_dt * eta_dt;
    const double scaled_inputs =
        std::expm1(2 * std::log1p(u_dt) + std::log1p(eps_sigma)) * sigma * A + floors;
    const double a_hat = (1 + u_dt) * (1 + u_dt) * (1 + eps_sigma) * sigma * A + floors;
    delta_pre = scaled_inputs + gamma_d * a_hat;
    if (!(mu_pre + delta_pre < gpu::dtype_overflow_threshold(cls.input))) return none;
    delta_pre += u_dt * (mu_pre + delta_pre) + eta_dt;  // S stored in the input dtype
  } else {
    // fp32 dot in any order; the scale's relative error acts on t_j − m (section 2) unless a
    // softcap sits between them.
    delta_pre = sigma * gamma_d * A;
    if (row.softcap) delta_pre += eps_sigma * (1 + gamma_d) * sigma * A + u * (mu_pre + delta_pre);
  }
  double delta = delta_pre, mu_hat = mu_pre + delta_pre;  // μ̂ ≥ max |computed logit|
  if (row.softcap) {
    const double C = row.softcap_value;
    if (!(C > 0) || !std::isfinite(C)) return none;
    // C·tanh(x/C) is 1-Lipschitz in x; x/C, tanh and ·C add u|x|, C·ε_tanh, u·C(1 + ε_tanh).
    delta =
        delta_pre + u * mu_hat + C * (cls.tanh_relative_error + u * (1 + cls.tanh_relative_error));
    mu_hat = std::min(mu_hat, C * (1 + cls.tanh_relative_error) * (1 + u) * (1 + u));
  }
  if (!std::isfinite(delta)) return none;
  const double logit_term = std::expm1(2 * delta) * h;

  // 2. Weights relative to the computed maximum: argument errors ε_x·x_j + a.
  const double eps_x = cls.exp_argument_relative_error;
  const double a = cls.exp_argument_absolute_unit * mu_hat;
  const double X = 2 * mu_hat;
  const double eps_sub = std::min(std::expm1(eps_x * X), n * eps_x / (std::exp(1.0) * (1 - eps_x)));
  const double eps_w = std::expm1(a) * (1 + eps_sub) + eps_sub;  // e^a(1 + ε_sub) − 1
  // 3. Row sum: n_exp exps per key, r roundings (sums in any order, rescales).
  const double n_exp = n_t;
  const double r = cls.online_softmax ? n + 2 * n_t : n;
  const double gamma_r = gamma_or_inf(r, u);
  const double E = cls.exp_relative_error;
  const double eps_l = std::expm1(n_exp * std::log1p(E) + std::log1p(gamma_r));
  const double uf = (n_t + 2) * n * 0x1p-124;
  const double rho = eps_l + eps_w * (1 + eps_l) + uf;
  if (!(rho < 1)) return none;

  // 4. Numerator with P in the input dtype, three-pass: P = w/l rounded once more.
  const bool p_rounded = cls.probabilities_rounded_to_input && cls.input != gpu::DType::f32;
  const double u_p = p_rounded ? u_dt : 0.0, eta_p = p_rounded ? eta_dt : 0.0;
  const double u_div = cls.online_softmax ? 0.0 : u;
  const double eps_N =
      std::expm1(n_exp * std::log1p(E) + std::log1p(u_p) + std::log1p(gamma_r) + std::log1p(u_div));
  const double numer =
      vmax * (eps_N * (1 + eps_w) + eps_w) + n * eta_p * vmax * (1 + gamma_r) + uf * (vmax + 1);
  const double e_eval = numer / (1 - rho) + vmax * rho / (1 - rho);

  // 5. Division (fp32) and the store in the output dtype.
  const bool store_rounds = cls.output != gpu::DType::f32;
  const double u_out = store_rounds ? gpu::dtype_unit_roundoff(cls.output) : 0.0;
  const double eta_out = store_rounds ? floor_of(cls.output) : 0.0;
  const double magnitude = vmax + e_eval;
  const double total = logit_term + e_eval + u * magnitude + u_out * (1 + u) * magnitude + eta_out;
  AttentionElementBound b;
  b.output = total * kBoundSafety;
  if (!((vmax + b.output) < gpu::dtype_overflow_threshold(cls.output))) return none;

  // 6. lse = m·σ̂ + log l̂ (natural log).
  const double log_l = std::max(std::log(n * (1 + rho)), -std::log1p(-rho));  // ≥ |log l̂|
  const double log_err = cls.log_relative_error * (log_l + 1);
  const double max_err = a + 2 * u * mu_hat;
  b.log_sum_exp =
      (delta + max_err - std::log1p(-rho) + log_err + u * (mu_hat + max_err + log_l + log_err)) *
      kBoundSafety;
  b.vacuous = !std::isfinite(b.output) || (vmax > 0 && !(b.output < 2 * vmax));
  if (!std::isfinite(b.output) || !std::isfinite(b.log_sum_exp)) return none;
  return b;
}

}  // namespace attncert
