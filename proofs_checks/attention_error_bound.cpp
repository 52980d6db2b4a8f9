// A-priori forward error bounds of the flash and three-pass classes of softmax attention, per
// element, from one query row's actual data. The derivation, term by term, is
// docs/attention_error_bounds.md; the numbers below follow its sections:
//
//  0. Exact data in double: s_j = q·k_j, a_j = Σ_c|q_c k_jc|, t_j (scaled, capped), M = max t_j,
//     α_j = softmax(t)_j, x_j = M − t_j, O_c = Σ α_j v_jc; their double errors bounded (e_t, e_α,
//     e_O) and folded into the coefficients.
//  1. Logit error per key: |t̂_j − t_j| ≤ T_j = T_lin,j (first-order roundings) + T_sys,j
//     (approximations, floors) + T_nl,j (second order). Flash: the fp32 dot in any order: the
//     products (exact in fp32 for 16-bit inputs) and d − 1 additions, each's coefficient ≤
//     pn_j = max(Σ positive, Σ |negative| products) (any partial sum is). Three-pass:
//     scaled q, k in the dtype, the dot, S in the dtype. Softcap: scale product, ÷C, tanh, ×C,
//     1-Lipschitz plus curvature ≤ 0.385·h²/C.
//  2. Weight error per key: ŵ_j = w_j(1 + φ_j), |φ_j| ≤ Φ_j = e^{T_j + H_j}(1 + E)^{n_exp} − 1,
//     H_j = ε_x(x_j + 2T_max) + a the exp argument's error (a = 2⁻²²μ̂ for flash, 0 for
//     three-pass whose scores are stored values), n_exp = tiles met (p and the rescales α).
//  3. Row sum l̂ = Σ ŵ_j(1 + θ_j), |θ_j| ≤ γ(N_l), N_l = (n − 1) additions + (n_t − 1) rescales
//     in any order; ρ̄ = Σ α_j[(1 + Φ_j)(1 + γ_l) − 1] + uf ≥ |l̂/W − 1|.
//  4. Exact identity  acc/l̂ − O = [Σ_j w_j φ_j(v_j − O) + Σ_j ŵ_j((κ_j + ψ_j + κ_jψ_j)v_j − θ_j O)]
//     / (W(1 + ρ)) + floors: weight errors act on α_j(v_j − O) (common mode cancels), P rounding
//     κ_j and the product's rounding on α_j v_j, the accumulator's N_l additions/rescales on
//     partial sums ≤ max(Σ_{v>0} α_j v_j, Σ_{v<0} α_j|v_j|), the row sum's on O. A rescale's
//     exp error is common to the keys before it (l and acc alike): it acts on a partial sum of
//     α_j(v_j − O), ≤ half the total, so half of (n_t − 1)E is given back on outputs. A flash
//     p that must round to exactly 1 (keys at the maximum) has κ_j = its distance to 1 (S).
//  5. Division (flash) and store: (|O| + X)((1 + u)(1 + u_out) − 1) + η_out.
//  6. lse: M̂ cancels exactly (lse_k = lse + log(1 + ρ) + ε_σM̂ + roundings), |log(1+ρ)| ≤
//     −log(1 − ρ̄), log's error ε_log(|log l̂| + 1), the m·scale product and the final add.
//  7. Budgets: every quantity is evaluated twice — at its rigorous bound (the "majorant", every
//     |δ| at its unit, products of (1 + e) factors, exp at |x|) and its linear part. Linear in the
//     roundings = Σ c_k u_k; linear in approximations/floors = S; the rest R = majorant − L − S
//     bounds every second-order term (|Π(1+ε_k) − 1 − Σε_k| ≤ Π(1+e_k) − 1 − Σe_k,
//     |e^x − 1 − x| ≤ e^{|x|} − 1 − |x|, |1/(1+ρ) − 1| ≤ ρ̄/(1−ρ̄), tanh's curvature).
//     The probabilistic part adds the squares of the rounding coefficients: per key its own
//     events (scores, P, products), per row the ≤ N_l additions/rescales with coefficients
//     ≤ the full partial sums (Higham–Mary's √n for an unknown order).
#include "proofs_checks/attention_error_bound.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "numerics/scalar_traits.hpp"

namespace attncert {
namespace {

using Index = std::ptrdiff_t;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kDoubleUnit = 0x1p-53;
// fp32 flush-to-zero: an underflowing product, sum or weight loses at most the smallest normal.
constexpr double kFp32Flush = 0x1p-126;
// max |tanh''| = 4/(3√3) ≈ 0.7698; its half bounds the Taylor remainder of C·tanh(y/C) per h²/C.
constexpr double kTanhCurvature = 0.3850;

/// γ_n = nu/(1 − nu) (callers checked nu < 1).
double gamma_of(double n, double u) { return n <= 0 ? 0.0 : n * u / (1 - n * u); }

/// A value's bound split the way ErrorBudget wants it.
struct Split {
  double total = 0;  ///< rigorous bound (every rounding at its worst, all orders)
  double lin = 0;    ///< first-order part in the roundings (Σ c_k u_k)
  double sys = 0;    ///< first-order part in approximations and floors
};

struct ClassCounts {
  double n = 1, n_t = 1, n_exp = 1, r_d = 1, n_l = 0, r_acc = 0;
  bool p_in_dtype = false, pv_exact = false, qk_exact = false;
};

ClassCounts counts(const AttentionClass& cls, double n, double d) {
  ClassCounts k;
  const bool low = cls.input != gpu::DType::f32;
  k.n = n;
  // Tiles of ≥ block_k keys aligned anywhere meet a contiguous range of n keys at most
  // ⌈(n − 1)/block_k⌉ + 1 times (a window's first key need not start a tile).
  k.n_t = cls.online_softmax ? std::ceil((n - 1) / std::max(cls.block_k, 1)) + 1 : 1.0;
  k.n_exp = k.n_t;
  // 16-bit × 16-bit products are exact in fp32 (≤ 22 significant bits, no underflow for fp16;
  // bf16 underflow is the flush floor): only the d − 1 additions round.
  k.qk_exact = low;
  k.r_d = k.qk_exact ? d - 1 : d;
  k.n_l = (n - 1) + (k.n_t - 1);  // additions of n terms in any order + rescales
  k.p_in_dtype = cls.probabilities_rounded_to_input && low;
  k.pv_exact = k.p_in_dtype;  // p and v both in the 16-bit dtype
  k.r_acc = k.n_l + (k.pv_exact ? 0 : 1);
  return k;
}

/// Three-pass: Σ_c c_c² of the scaled q's roundings, c_c = σ|q_c| Σ_j g_j|k_jc| (one event per
/// c, shared by all keys), without the d × dv sums: ≤ (Σ_c c_c)² = (Σ_j g_j σ a_j)², and by
/// Cauchy–Schwarz (Σ_j g_j|k_jc|)² ≤ (Σ_j g_j)(Σ_j g_j k_jc²), so ≤ (Σ_j g_j)·Σ_j g_j σ²Σ_c
/// q_c²k_jc².
double shared_q_squares(double sum_g_sigma_a, double sum_g, double sum_g_sigma2_q2) {
  return std::min(sum_g_sigma_a * sum_g_sigma_a, sum_g * sum_g_sigma2_q2);
}

}  // namespace

void require_accumulation_covered(const AttentionClass& cls, std::ptrdiff_t keys,
                                  std::ptrdiff_t head_dim) {
  const double u = cls.accumulation_unit;
  if (!(u > 0 && u < 1))
    throw std::invalid_argument(fmt::format("accumulation unit {} is not in (0, 1)", u));
  const ClassCounts k = counts(cls, static_cast<double>(std::max<std::ptrdiff_t>(keys, 1)),
                               static_cast<double>(std::max<std::ptrdiff_t>(head_dim, 1)));
  const double longest = std::max({k.r_d, k.r_acc + 1, k.n_l + 1});
  if (!(longest * u < 1))
    throw std::invalid_argument(fmt::format(
        "{} keys and head dim {}: an accumulation of {} terms with unit {:g} has n·u >= 1, beyond "
        "the error bound's derivation",
        keys, head_dim, longest, u));
}

AttentionRowBudgets attention_row_budgets(const AttentionClass& cls, const AttentionRowInputs& in) {
  if (in.q == nullptr || in.k == nullptr || in.v == nullptr)
    throw std::invalid_argument("attention_row_budgets: q, k and v must all be given");
  const auto &Q = *in.q, &K = *in.k, &V = *in.v;
  const Index d = Q.cols(), dv = V.cols(), n_keys = in.keys.size();
  if (n_keys < 1 || d < 1 || in.keys.begin < 0 || in.keys.end > K.rows())
    throw std::invalid_argument("attention_row_budgets: the row must see at least one key");
  if (!(in.scale > 0) || !std::isfinite(in.scale))
    throw std::invalid_argument(fmt::format("scale {} must be finite and > 0", in.scale));
  if (in.softcap && !(*in.softcap > 0 && std::isfinite(*in.softcap)))
    throw std::invalid_argument(fmt::format("softcap {} must be finite and > 0", *in.softcap));
  require_accumulation_covered(cls, n_keys, d);

  const bool flash = cls.online_softmax;
  const bool three = cls.scores_rounded_to_input;
  const double u = cls.accumulation_unit, sigma = in.scale;
  const double n = static_cast<double>(n_keys), dd = static_cast<double>(d);
  const ClassCounts cnt = counts(cls, n, dd);
  const double u_dt = gpu::dtype_unit_roundoff(cls.input);
  const double eta_dt = gpu::dtype_half_smallest_subnormal(cls.input);
  const double over_dt = gpu::dtype_overflow_threshold(cls.input);
  const double C = in.softcap.value_or(0.0);
  // The kernel's scale against the exact one: σ̂ in fp32 (flash); three-pass also √σ̂ twice.
  const double eps_sigma = three ? 3 * u : u;

  AttentionRowBudgets out;
  out.output.assign(static_cast<std::size_t>(dv), ErrorBudget{});
  out.v_max_abs.assign(static_cast<std::size_t>(dv), 0.0);
  const auto infinite = [&]() {
    for (auto& b : out.output) b.remainder(kInf);
    out.log_sum_exp.remainder(kInf);
    return out;
  };

  // 0. Exact data in double.
  std::vector<double> t(n_keys), y(n_keys), a(n_keys), pn(n_keys), q2(n_keys), k1(n_keys),
      alpha(n_keys);
  double q1 = 0, q_inf = 0, k_inf = 0, e_t = 0;
  for (Index c = 0; c < d; ++c)
    q1 += std::abs(Q(in.row, c)), q_inf = std::max(q_inf, std::abs(Q(in.row, c)));
  for (Index j = 0; j < n_keys; ++j) {
    const Index key = in.keys.begin + j;
    double s = 0, abs_sum = 0, squares = 0, kabs = 0, positive = 0;
    for (Index c = 0; c < d; ++c) {
      const double p = Q(in.row, c) * K(key, c);  // exact: fp32 × fp32 fits a double
      s += p, abs_sum += std::abs(p), squares += p * p, kabs += std::abs(K(key, c));
      if (p > 0) positive += p;
      k_inf = std::max(k_inf, std::abs(K(key, c)));
    }
    a[j] = abs_sum * (1 + dd * kDoubleUnit), q2[j] = squares * (1 + dd * kDoubleUnit);
    // Any partial sum of the products, in any order, is at most the larger of the positive and
    // the negative parts: the order-free coefficient of every addition's rounding.
    pn[j] = std::max(positive, abs_sum - positive) * (1 + dd * kDoubleUnit);
    k1[j] = kabs * (1 + dd * kDoubleUnit);
    y[j] = sigma * s;
    t[j] = in.softcap ? C * std::tanh(y[j] / C) : y[j];
    // double error of t_j: the sum (d terms), σ·s, and the softcap's three operations
    e_t = std::max(e_t,
                   (dd + 2) * kDoubleUnit * sigma * a[j] + (in.softcap ? 8 * kDoubleUnit * C : 0));
  }
  // fp32 must hold every product, partial sum and scaled score (else the kernel gives inf/NaN:
  // the model says nothing).
  const double over_32 = gpu::dtype_overflow_threshold(gpu::DType::f32) / 2;
  for (Index j = 0; j < n_keys; ++j)
    if (!(a[j] * std::max(1.0, sigma) < over_32)) return infinite();
  const double M = *std::max_element(t.begin(), t.end());
  double W = 0, mu = 0;
  for (Index j = 0; j < n_keys; ++j)
    W += (alpha[j] = std::exp(t[j] - M)), mu = std::max(mu, std::abs(t[j]));
  for (double& x : alpha) x /= W;
  // α_j's relative double error: t_j and M each off by e_t, exp, the sum of n, the division.
  const double e_alpha = std::expm1(4 * e_t) + (n + 8) * 2 * kDoubleUnit;
  // Every bound below is a sum of O(n + d) nonnegative double terms: inflate by this at the end.
  const double eval = (1 + e_alpha) * (1 + (n + dd + 64) * 2 * kDoubleUnit) - 1;

  // 1. Logit error per key.
  std::vector<Split> T(n_keys);
  std::vector<double> ts2(n_keys);  // Σ (c_k u_k)² of the key's own logit roundings
  const double dd1 = dd - 1, gamma_d1 = gamma_of(dd1, u);  // the dot's additions
  const double flush_dot = 2 * dd * kFp32Flush;            // FTZ of products and partial sums
  double shared_q_unit2 = 0;  // three-pass: the scaled q's roundings, per c
  if (three) {
    // q·a, k·b stored in the dtype (a·b = σ̂; a, b ≤ max(1, σ)(1 + 3u)) must not overflow.
    const double c_fac = std::max(1.0, sigma) * (1 + 3 * u);
    if (!(c_fac * std::max(q_inf, k_inf) * (1 + u) * (1 + u_dt) < over_dt)) return infinite();
    shared_q_unit2 = u * u + u_dt * u_dt;
    for (Index j = 0; j < n_keys; ++j) {
      // q'_c k'_c = σ q_c k_c (1+ε_σ)(1+δ_q)(1+π_q)(1+δ_k)(1+π_k) + floors; the dot adds γ.
      const double e_in = (1 + u) * (1 + u) * (1 + u_dt) * (1 + u_dt) - 1;
      const double floors =
          eta_dt * c_fac * (1 + u) * (1 + u_dt) * (q1 + k1[j]) + dd * eta_dt * eta_dt;
      // products |q'k' − σqk| ≤ e_in σ a_j + floors (16-bit: exact in fp32, else one rounding);
      // d − 1 additions, each erring by u × its pre-rounding value ≤ the partial of the q'k'
      // (σ(pn_j + e_in a_j) + floors) plus the running error so far (γ_{d−1} × all of them).
      const double prod_u = cnt.qk_exact ? 0.0 : u;
      const double products = (1 + e_in) * sigma * a[j] + floors;
      const double adds =
          dd1 * u * (1 + prod_u) * (sigma * (pn[j] + e_in * a[j]) + floors + gamma_d1 * products);
      double pre = e_in * sigma * a[j] + floors + prod_u * products + adds + flush_dot;
      // Before a tanh the scale's error is not a common shift: it stays on |y| (sys).
      if (in.softcap) pre += eps_sigma * (std::abs(y[j]) + pre);
      if (!(std::abs(y[j]) + pre < over_dt)) return infinite();  // S overflows in the dtype
      Split s;
      s.lin = sigma * a[j] * (2 * u + 2 * u_dt + prod_u) + sigma * dd1 * u * pn[j] +
              u_dt * std::abs(y[j]);
      s.sys = floors + flush_dot + eta_dt;
      s.total = pre + u_dt * (std::abs(y[j]) + pre) + eta_dt;  // S stored
      ts2[j] =
          sigma * sigma *
              (shared_q_unit2 * q2[j] + u * u * dd1 * pn[j] * pn[j] + prod_u * prod_u * q2[j]) +
          u_dt * u_dt * y[j] * y[j];
      if (in.softcap) s.sys += eps_sigma * std::abs(y[j]);
      T[j] = s;
    }
  } else {
    for (Index j = 0; j < n_keys; ++j) {
      Split s;
      // fp32 dot in any order: products (exact for 16-bit inputs) and d − 1 additions whose
      // pre-rounding values are ≤ (1 + prod_u)·pn_j + the running error γ_{d−1}(1 + prod_u)a_j.
      const double prod_u = cnt.qk_exact ? 0.0 : u;
      s.lin = sigma * u * (prod_u > 0 ? a[j] : 0.0) + sigma * dd1 * u * pn[j];
      s.sys = sigma * flush_dot;
      s.total =
          sigma * (prod_u * a[j] + dd1 * u * (1 + prod_u) * (pn[j] + gamma_d1 * a[j])) + s.sys;
      ts2[j] = sigma * sigma * u * u * ((prod_u > 0 ? q2[j] : 0.0) + dd1 * pn[j] * pn[j]);
      if (in.softcap) {
        // y' = σ̂·ŝ rounded: scale error ε_σ|y| (sys), the product u|y| (rounding).
        const double pre = s.total + ((1 + eps_sigma) * (1 + u) - 1) * (std::abs(y[j]) + s.total);
        s.lin += u * std::abs(y[j]), s.sys += eps_sigma * std::abs(y[j]);
        s.total = pre;
        ts2[j] += u * u * y[j] * y[j];
      }
      T[j] = s;
    }
  }
  if (in.softcap) {
    // t = C·tanh(y/C): ÷C (u|y|), tanh (ε_tanh|t|), ×C (u|t|), three-pass: t stored (u_dt|t| + η).
    const double et = cls.tanh_relative_error;
    for (Index j = 0; j < n_keys; ++j) {
      Split& s = T[j];
      const double ay = std::abs(y[j]), at = std::abs(t[j]);
      const double h = s.total + u * (ay + s.total);  // pre-tanh error incl. the division
      double tot = h + kTanhCurvature * h * h / C;    // 1-Lipschitz; curvature for the first order
      tot += et * (at + h) + u * (1 + et) * (at + h);
      s.lin += u * ay + u * at, s.sys += et * at;
      ts2[j] += u * u * (ay * ay + at * at);
      if (three) {
        tot += u_dt * (at + tot) + eta_dt;
        s.lin += u_dt * at, s.sys += eta_dt;
        ts2[j] += u_dt * u_dt * at * at;
      }
      s.total = tot;
    }
  }
  double T_max = 0;
  for (const Split& s : T) T_max = std::max(T_max, s.total + e_t);
  if (!std::isfinite(T_max)) return infinite();

  // 2. Weight error per key.
  const double mu_hat = mu + T_max;
  // Three-pass without softcap: the scale's error multiplies every logit, t̂ = (1 + ε)t; softmax is
  // shift invariant, so it acts on x_j = M − t_j like the argument's relative error.
  const double eps_x = cls.exp_argument_relative_error + (three && !in.softcap ? eps_sigma : 0.0);
  const double a_arg = flash ? cls.exp_argument_absolute_unit * mu_hat : 0.0;
  const double E = cls.exp_relative_error;
  std::vector<double> Phi(n_keys), phi_lin(n_keys), phi_sys(n_keys), x(n_keys);
  for (Index j = 0; j < n_keys; ++j) {
    x[j] = M - t[j] + 2 * e_t;
    const double H = eps_x * (x[j] + 2 * T_max) + a_arg;
    Phi[j] = std::expm1(T[j].total + e_t + H + cnt.n_exp * std::log1p(E));
    phi_lin[j] = T[j].lin;
    phi_sys[j] = T[j].sys + eps_x * x[j] + a_arg + cnt.n_exp * E;
  }

  // 3. Row sum.
  const double gamma_l = gamma_of(cnt.n_l, u);
  const double uf = (cnt.n_t + 2) * n * 0x1p-124;  // weights and α flushed, relative to W ≥ 1
  double rho = 0, sum_phi_lin = 0, sum_phi_sys = 0, lse_ts2 = 0, lse_shared = 0, lse_shared_q2 = 0;
  for (Index j = 0; j < n_keys; ++j) {
    rho += alpha[j] * ((1 + Phi[j]) * (1 + gamma_l) - 1);
    sum_phi_lin += alpha[j] * phi_lin[j], sum_phi_sys += alpha[j] * phi_sys[j];
    lse_ts2 += alpha[j] * alpha[j] * ts2[j];
    lse_shared += alpha[j] * sigma * a[j];
    lse_shared_q2 += alpha[j] * sigma * sigma * q2[j];
  }
  rho = rho * (1 + eval) + uf;
  if (!(rho < 1)) return infinite();
  // The kernel's own l̂ (in units of its maximum) is ≥ this: its arg-max key's weight.
  const double l_kernel_min =
      std::exp(-2 * T_max - eps_x * 2 * T_max - a_arg) * std::pow(1 - E, cnt.n_exp) * (1 - gamma_l);

  // 4.–5. Numerator, division and store, per column.
  const bool store_rounds = cls.output != gpu::DType::f32;
  const double u_out = store_rounds ? gpu::dtype_unit_roundoff(cls.output) : 0.0;
  const double eta_out = store_rounds ? gpu::dtype_half_smallest_subnormal(cls.output) : 0.0;
  const double u_fin = flash ? u : 0.0;  // flash divides acc by l at the end
  const double u_p = cnt.p_in_dtype ? u_dt : 0.0, eta_p = cnt.p_in_dtype ? eta_dt : 0.0;
  // P's own relative error in the numerator only: flash p rounded; three-pass e/sum then rounded.
  const double kappa = three ? (1 + u) * (1 + u_p) - 1 : u_p;
  const double kappa_lin = three ? u + u_p : u_p;
  const double u_prod = cnt.pv_exact ? 0.0 : u;  // p̂·v rounded in fp32 unless both 16-bit
  // Per key: κ's bound, its rounding (linear) and systematic parts, the squares of its events.
  // Flash: a p that must round to exactly 1 in the dtype (its key within a tiny distance of the
  // maximum: p ∈ [e^{−(x_j + 2T_max + H_j)}(1 − E), e^{H_j}(1 + E)] ⊂ (1 − u_dt/2, 1 + u_dt))
  // is not rounded by u_dt but moved to 1: |κ_j| ≤ max(1 − p_lo, p_hi − 1)/p_lo, a small
  // deterministic (S) error — the row's largest weight then carries no P rounding.
  std::vector<double> numer_factor_(n_keys), kappa_lin_(n_keys), kappa_sys_(n_keys),
      numer_unit2_(n_keys);
  for (Index j = 0; j < n_keys; ++j) {
    double k = kappa, k_lin = kappa_lin, k_sys = 0, k2 = u_p * u_p + (three ? u * u : 0);
    if (flash && cnt.p_in_dtype) {
      const double H = eps_x * (x[j] + 2 * T_max) + a_arg;
      const double p_lo = std::exp(-(x[j] + 2 * T_max + H)) * (1 - E), p_hi = std::exp(H) * (1 + E);
      if (p_lo > 1 - u_dt / 2 && p_hi < 1 + u_dt) {
        k = std::max(1 - p_lo, p_hi - 1) / p_lo;
        k_lin = 0, k_sys = k, k2 = 0;
      }
    }
    numer_factor_[j] = (1 + k) * (1 + u_prod) - 1;
    kappa_lin_[j] = k_lin, kappa_sys_[j] = k_sys, numer_unit2_[j] = k2 + u_prod * u_prod;
  }
  double phi_max = 0;
  for (double f : Phi) phi_max = std::max(phi_max, f);
  const double over_out = gpu::dtype_overflow_threshold(cls.output);
  // Two passes over the keys (rows of V contiguous), per-column accumulators.
  const auto cols = static_cast<std::size_t>(dv);
  std::vector<double> O_(cols, 0.0), abs_v_(cols, 0.0), vmax_(cols, 0.0), sum_v_(cols, 0.0),
      positive_v_(cols, 0.0);
  for (Index j = 0; j < n_keys; ++j)
    for (Index c = 0; c < dv; ++c) {
      const double vj = V(in.keys.begin + j, c), av = std::abs(vj);
      O_[c] += alpha[j] * vj, abs_v_[c] += alpha[j] * av, vmax_[c] = std::max(vmax_[c], av);
      sum_v_[c] += av;
      if (vj > 0) positive_v_[c] += alpha[j] * vj;
    }
  std::vector<double> e_O_(cols);
  for (std::size_t c = 0; c < cols; ++c)
    e_O_[c] = (e_alpha + (n + 2) * kDoubleUnit) * abs_v_[c];  // |O_double − O|
  std::vector<double> maj_w_(cols, 0.0), maj_b_(cols, 0.0), lin_(cols, 0.0), sys_(cols, 0.0),
      sq_(cols, 0.0), shared_(cols, 0.0), shared_q2_(cols, 0.0), key_sq_(cols, 0.0),
      products_(cols, 0.0), sum_g_(cols, 0.0);
  for (Index j = 0; j < n_keys; ++j) {
    const double al = alpha[j], one_phi = 1 + Phi[j], sa = sigma * a[j];
    const double numer_factor = numer_factor_[j];
    const double per_key_products = al * (one_phi * (1 + numer_factor) - 1);
    for (Index c = 0; c < dv; ++c) {
      const double v_signed = V(in.keys.begin + j, c), vj = std::abs(v_signed);
      const double absO = std::abs(O_[c]) + e_O_[c];
      const double g = al * (std::abs(v_signed - O_[c]) + e_O_[c]);
      maj_w_[c] += g * Phi[j];
      maj_b_[c] += al * one_phi * (numer_factor * vj + gamma_l * absO);
      lin_[c] += g * phi_lin[j];
      sys_[c] += g * phi_sys[j];
      sq_[c] += g * g * ts2[j];
      shared_[c] += g * sa;
      shared_q2_[c] += g * sigma * sigma * q2[j];
      sum_g_[c] += g;
      key_sq_[c] += al * al * vj * vj * numer_unit2_[j];
      lin_[c] += al * vj * kappa_lin_[j];
      sys_[c] += al * vj * kappa_sys_[j];
      products_[c] += per_key_products * vj;
    }
  }
  for (Index c = 0; c < dv; ++c) {
    const double O = O_[c], abs_v = abs_v_[c], vmax = vmax_[c], sum_v = sum_v_[c];
    // Any partial sum of α_j v_jc (any order, any tiling) is ≤ the larger sign part.
    const double pn_v =
        std::max(positive_v_[c], abs_v - positive_v_[c]) * (1 + e_alpha + (n + 2) * kDoubleUnit);
    out.v_max_abs[c] = vmax;
    const double absO = std::abs(O) + e_O_[c];
    double maj_b = maj_b_[c], lin = lin_[c], sys = sys_[c], sq = sq_[c];
    // A rescale's exp error ε_T multiplies the weights of the group G of keys before it, in l and
    // acc alike: first order ε_T Σ_G α_j(v_j − O), and |Σ_G| ≤ ½ Σ_all α_j|v_j − O| since the
    // full sum is 0. Φ_j charged each key the full (n_t − 1)E: give back half of it.
    const double rescale_half = 0.5 * (cnt.n_exp - 1) * E * sum_g_[c];
    sys -= rescale_half;
    const double maj_w = maj_w_[c] - rescale_half, shared = shared_[c], key_sq = key_sq_[c],
                 products = products_[c];
    // The accumulator's N_l additions and rescales: each errs by u × its pre-rounding value ≤
    // (sign part of the exact products + their perturbation + the running error so far), in
    // units of W, times the later rescales' (1 + Φ).
    const double computed_products = abs_v + products;
    maj_b += cnt.n_l * u * (1 + phi_max) * (pn_v + products + gamma_l * computed_products);
    lin += u_prod * abs_v + cnt.n_l * u * (pn_v + absO);
    sq += (three ? shared_q_unit2 * shared_q_squares(shared, sum_g_[c], shared_q2_[c]) : 0) +
          key_sq + cnt.n_l * u * u * (pn_v * pn_v + absO * absO);
    // + n·2⁻¹⁰⁰⁰(vmax + 1): α_j flushed to 0 by the double exp (x_j > 745) in this evaluation
    const double floors =
        (2 * eta_p * sum_v * (1 + gamma_l) + uf * vmax + (n + cnt.n_l) * kFp32Flush) /
            l_kernel_min +
        n * 0x1p-1000 * (vmax + 1);
    sys += floors;
    const double X = (maj_w + maj_b) / (1 - rho) + floors;
    double maj = X + (absO + X) * ((1 + u_fin) * (1 + u_out) - 1) + eta_out;
    lin += (u_fin + u_out) * absO;
    sq += (u_fin * u_fin + u_out * u_out) * absO * absO;
    sys += eta_out;
    maj *= 1 + eval, lin *= 1 + eval, sys *= 1 + eval, sq *= (1 + eval) * (1 + eval);
    // acc's partial sums reach ≤ l̂·vmax ≤ 2n·vmax: they must stay finite in fp32
    if (!std::isfinite(maj) || !(vmax + maj < over_out) || !(2 * n * vmax < over_32)) {
      out.output[c].remainder(kInf);
      continue;
    }
    ErrorBudget& b = out.output[c];
    b.roundings(lin, sq, 1.0);
    b.systematic(sys);
    b.remainder(std::max(0.0, maj - lin - sys));
  }

  // 6. lse = M̂·σ̂ + log l̂.
  {
    const double D = -std::log1p(-rho);  // ≥ |log(1 + ρ)|
    const double log_W = std::log(W);
    const double abs_lse = std::abs(M + log_W) + e_t + 4 * kDoubleUnit * (std::abs(M) + log_W);
    const double absM = std::abs(M) + e_t;
    const double el = cls.log_relative_error;
    const double first = D + eps_sigma * (absM + T_max) + u * (1 + eps_sigma) * (absM + T_max) +
                         el * (log_W + D + T_max + 1);
    double maj = first + u * (abs_lse + first);
    double lin = sum_phi_lin + cnt.n_l * u + u * absM + u * abs_lse;
    double sys = sum_phi_sys + eps_sigma * absM + el * (log_W + 1) + uf;
    double sq = lse_ts2 +
                (three ? shared_q_unit2 * shared_q_squares(lse_shared, 1.0, lse_shared_q2) : 0) +
                cnt.n_l * u * u + u * u * (absM * absM + abs_lse * abs_lse);
    maj *= 1 + eval, lin *= 1 + eval, sys *= 1 + eval, sq *= (1 + eval) * (1 + eval);
    if (!std::isfinite(maj)) {
      out.log_sum_exp.remainder(kInf);
    } else {
      out.log_sum_exp.roundings(lin, sq, 1.0);
      out.log_sum_exp.systematic(sys);
      out.log_sum_exp.remainder(std::max(0.0, maj - lin - sys));
    }
  }
  return out;
}

}  // namespace attncert
