// Validation of jacobian_norm (kernel or twin) against the certified ground truth of the logits
// AS THE KERNEL READ THEM (dtype values); the input quantization |N(original) − N(rounded)| is
// enclosed and reported apart. A logit that overflows the dtype to +inf (or NaN) makes the
// kernel return NaN: such a case is marked vacuous (bound = inf) and failed, nothing judged.
//
// ---------------------------------------------------------------------------------------
// Notation and the three facts the per-row bound rests on
// ---------------------------------------------------------------------------------------
// l̂ the logits as read (dtype values as doubles, −inf masked), m = max l̂, T the fp32
// temperature (taken exactly: the ground truth uses the same T), u = 2^−24 (all kernel arithmetic
// is fp32), γ_k = ku/(1 − ku) (higham_gamma), x_i = (l̂_i − m)/T, w_i = e^{x_i}, S = Σw.
// N(w) = λ_max(diag w − wwᵀ/Σw)/(T·Σw) is ‖J‖₂ for weights w (any positive common factor, i.e.
// any shift of the logits, leaves N unchanged). The kernel's constants come from
// gpu::kJacobianNormGeometry, the values the kernel and its twin are built from: warp size
// w = 32, weight floor −69, bracket exit width 2^−22, noise factor 2.
//
// Fact 1 (log-Lipschitz). On the weights, d log λ_max = Σ π_i d log w_i with π_i =
// w_i/(w_i−λ)² / Σ_k w_k/(w_k−λ)² ≥ 0, Σ π_i = 1 (implicit differentiation of the secular
// equation, see numerics/softmax_jacobian.cpp; at ties λ = the top weight, same property), and
// d log Σw = Σ σ_i d log w_i with σ_i = w_i/Σw. Along w(t) = w·e^{tδ} the log of λ/Σw moves by
// ∫ Σ (π_i − σ_i) δ_i ≤ max δ − min δ (both are probability vectors). So if the log-ratios
// δ_i = log ŵ_i − log w_i lie in an interval of length Δ, |log N(ŵ) − log N(w)| ≤ Δ.
//
// Fact 2 (dropped mass). Removing probability mass p and renormalising changes α by ‖·‖∞ ≤
// p/(1−p) and ‖·‖₂ ≤ 2p, so ‖diag α − ααᵀ‖ changes by ≤ p/(1−p) + 4p ≤ 6p (p ≤ 1/6); always
// ≤ 1/2 (Gershgorin). With w' = w with the kernel's dropped entries set to 0:
// |N(w) − N(w')| ≤ τ₀ = min(6p, 1/2)/T, and Fact 1 applies between w' and ŵ (same support).
// Hence |N̂ − N| ≤ |N̂ − N(w')| + |N(w') − N| ≤ ρ·N(w') + τ₀ ≤ ρ·N + (1+ρ)·τ₀.
//
// Fact 3 (root solver, jacobian_norm_tile.cuh). Write g = P − Q, P = a/(a−λ),
// Q = Σ_{i≠top} w_i/(λ−w_i) (all other weights ≤ b < λ). φ = log P − log Q is increasing with
// dφ/d log λ ≥ 1 (d log P ≥ 0; each term of Q has −d log/d log λ = λ/(λ−w_i) ≥ 1), so
// |g| ≤ c(P+Q) implies |φ(λ) − φ(λ*)| ≤ θ₀ = log((1+c)/(1−c)), hence |log λ − log λ*| ≤ θ₀
// ((J7) divides θ₀ by a better slope bound). Evaluation of H = (a−λ)(λ−b)·g: the R-sum has
// depth D = ⌈L/w⌉ − 1 + log₂ w = ⌈L/32⌉ + 4 (per-lane chain + 5 tree levels), each term 3
// roundings, the products and the two final sums 5 more, and a product that may be subnormal
// adds ≤ 2^−150 ≤ (u/2)(|p1|+|p2|) (every positive weight ≥ 2^−100 keeps |p1|+|p2| ≥ 2^−125):
// |Ĥ − H| ≤ γ_K·A, K = D + 9 (gpu::jacobian_norm_secular_noise_k), A = (a−λ)(λ−b)(P+Q). The
// computed noise 2Ku·(p̂1 + p̂2 + lr̂·|R̂|) ≥ γ_K·A (2: the noise factor), so every bracket
// update has the correct sign (the bracket always contains λ*), and the noise exit gives
// |H| ≤ (2 + 1.001)·Ku·A, i.e. c = 3.001·K·u. The bracket exit (hi − lo ≤ 2^−22·lo, λ an end
// of the bracket) gives |log λ − log λ*| ≤ log(1 + 2^−22). The iteration cap is never
// reached: after 40 Newton steps the solver bisects, and ≤ 7 geometric + 22 arithmetic
// bisections close any bracket inside [2^−100, 1] to the exit width (69 < 80 steps; tested).
// A tied top weight returns λ = a exactly.
//
// ---------------------------------------------------------------------------------------
// Data-dependent per-row bound, jacobian_norm_row_bound (docs/jacobian_norm_kernel_bound.md,
// same numbering). In log N: error = Σ g_k δ_k + s + r (ErrorBudget); ρ = e^E − 1 and
// |N̂ − N| ≤ ρN + (1+ρ)τ (Fact 2), E guaranteed or probabilistic.
// (J1) kept entries: x_i ≥ −69/(1+γ₂) surely kept, < −69/(1−γ₂) surely dropped; in between
//      "ambiguous" → route B in (J6), counted as kept in (J4).
// (J2) τ = min(6p, 1/2)/T + 2^−150, p the dropped mass of the exact row (Fact 2); 2^−150: a
//      subnormal fp32 output rounds absolutely.
// (J3) δ_i = (x̂_i − x_i) + log(1+ε_i): the subtraction and division round with coefficient
//      |x_i| each unless provably exact (double difference is a float; fl(d)/T·T = d); ε_i ≤ 4u
//      (portable_expf), 0 for the top entry (expf(0) = 1). d_i bounds |δ_i|, Δ = 2 max d_i.
// (J4) Ŝ replayed in the kernel's order (lane chains, xor tree): each addition of two nonzero
//      operands rounds with coefficient min(partial, smaller operand/u)/S; zeros and integer
//      partials (sums of top weights 1) are exact; remainder (1+γ_D)e^Δ − 1 and log(1+e) − e.
// (J5) fl(Ŝ·T), fl(λ̂/·): one rounding each unless provably exact (T a power of two; Ŝ = n
//      known and n·T a float; λ̂ = 1 at a tie and 1/fl(nT) a float).
// (J6) weights → norm, by Fact 1: route A, first order Σ(π_i − σ_i)δ_i with π, σ at the
//      exact data (λ = N·T·S from the truth), path remainder |σ_i(t) − σ_i| ≤ σ_i(e^Δ − 1),
//      |π_i(t) − π_i| ≤ π_i(e^{Δ(1+2κ̄)} − 1), κ̄ ≤ (1 + re^Δ)/(1 − re^Δ), r = max(λ/a, b/λ)
//      (|dlog π_i/dt| ≤ Δ(1 + 2κ) with δ recentred to ±Δ/2); a tied top: π uniform on it.
//      Route B: Δ (systematic), when an entry is ambiguous, re^Δ ≥ 1, π's double evaluation is
//      not within 1e−3, or A is not smaller. Coefficients inflated for the double evaluation.
// (J7) solver (systematic, Fact 3): θ₀ = log((1+c)/(1−c)), c = 3.001Ku (noise exit), divided
//      by a slope bound of φ = log P − log Q on the segment: ≥ 1, and under route A
//      ≥ s(exact)·e^{−(3+3κ′)(Δ+θ₀)}; at least log(1 + 2^−22) (bracket exit). None at a tie.
// (J8) ρ = expm1(E)·(1 + 1e−9) for the double evaluation of E.
// Probabilistic: λ_δ√Σ(c_k u)² (min Σ c_k u) for the roundings of (J3)–(J5); exp error,
// solver, route B and remainders stay as they are (never averaged). λ_δ from the case's rows.
//
// ---------------------------------------------------------------------------------------
// Naive same-precision comparison (flash-attention rule): softmax computed in fp32 from the
// rounded logits and its output α rounded to the dtype (what a framework's low-precision
// softmax returns), then the float secular norm of that α. The FA rule is evaluated in the same
// relative norm: threshold = 2·naive + atol, atol = 2·max_r |fl(fl(N_r + 0.3) − 0.3) − N_r| /
// (N_r + ν) in the dtype (FA3's absolute term; it is ~2 for rows with N_r ≪ 0.3).
#include "proofs_checks/jacobian_norm_check.hpp"
#include "proofs_checks/kernel_checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpu/device.hpp"
#include "gpu/jacobian_norm.hpp"
#include "gpu/output_equality.hpp"
#include "gpu/portable_exp.hpp"
#include "numerics/ball.hpp"
#include "numerics/rng.hpp"
#include "numerics/scalar_traits.hpp"
#include "numerics/softmax_jacobian.hpp"

namespace attncert {
namespace {

using gpu::DType;

constexpr long kTruthPrecisionBits = 128;
constexpr double kU = 0x1p-24;
constexpr float kTemperatures[] = {0.01f, 0.1f, 1.0f, 10.0f, 100.0f};
constexpr long long kLengths[] = {1, 2, 3, 64, 1000, 4096};
constexpr double kNegInf = -std::numeric_limits<double>::infinity();

enum class Variant { random, masked, very_negative, tied_max };

const char* variant_name(Variant v) {
  switch (v) {
    case Variant::random: return "random";
    case Variant::masked: return "masked";
    case Variant::very_negative: return "logits<=-5e4";
    case Variant::tied_max: return "tied-max";
  }
  return "?";
}

/// Rows of one case in double (−inf = masked), generated from the case's own substream.
std::vector<std::vector<double>> make_rows(Variant v, long long L, int rows, Rng rng) {
  const auto n = static_cast<std::size_t>(L);
  std::vector<std::vector<double>> out(static_cast<std::size_t>(rows), std::vector<double>(n));
  for (int r = 0; r < rows; ++r) {
    auto& row = out[static_cast<std::size_t>(r)];
    for (double& x : row) x = rng.normal(0.0, 3.0);
    switch (v) {
      case Variant::random: break;
      case Variant::masked:
        if (r == 0) {
          std::fill(row.begin(), row.end(), kNegInf);  // fully masked: ‖J‖ = 0
        } else if (r == 1) {
          const std::size_t keep = static_cast<std::size_t>(rng.below(n));
          for (std::size_t j = 0; j < n; ++j) if (j != keep) row[j] = kNegInf;  // single entry: 0
        } else {
          for (double& x : row) if (rng.uniform() < 0.3) x = kNegInf;
        }
        break;
      case Variant::very_negative:
        for (double& x : row) x = -5e4 - std::fabs(x);  // all ≤ −5e4, fp16-representable range
        break;
      case Variant::tied_max:
        if (r == 0) {
          std::fill(row.begin(), row.end(), row[0]);  // all equal: ‖J‖ = 1/(L·T)
        } else if (r == 1 && n >= 2) {
          const double c = row[0];
          for (std::size_t j = 0; j < n; ++j) row[j] = j < 2 ? c : kNegInf;  // two equal: 1/(2T)
        } else if (n >= 2) {
          const auto top = static_cast<std::size_t>(
              std::max_element(row.begin(), row.end()) - row.begin());
          std::size_t other = static_cast<std::size_t>(rng.below(n - 1));
          if (other >= top) ++other;
          row[other] = row[top];
        }
        break;
    }
  }
  return out;
}

/// The dtype buffer the kernel reads (fp32 floats or 16-bit patterns), row-major.
std::vector<std::uint32_t> encode(const std::vector<std::vector<double>>& rows, DType t,
                                  std::vector<float>& as_float) {
  const std::size_t n = rows.empty() ? 0 : rows[0].size();
  std::vector<std::uint32_t> storage((rows.size() * n * static_cast<std::size_t>(gpu::dtype_size(t)) + 3) / 4);
  as_float.assign(rows.size() * n, 0.0f);
  auto* f32 = reinterpret_cast<float*>(storage.data());
  auto* u16 = reinterpret_cast<std::uint16_t*>(storage.data());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (std::size_t j = 0; j < n; ++j) {
      const auto x = static_cast<float>(rows[r][j]);  // double → fp32 rounds to nearest
      const std::size_t k = r * n + j;
      if (t == DType::f32) {
        f32[k] = x;
      } else {
        // Double → fp32 → fp16/bf16 can round twice; the neighbour test below makes the result
        // the dtype value nearest to the double (what a correctly rounding conversion gives).
        std::uint16_t bits = t == DType::f16 ? gpu::float_to_f16_bits(x) : gpu::float_to_bf16_bits(x);
        const float back = t == DType::f16 ? gpu::f16_bits_to_float(bits) : gpu::bf16_bits_to_float(bits);
        // Correct a double-rounding tie: if x landed exactly halfway between two dtype values
        // but the double was not, pick the neighbour nearer to the double.
        if (std::isfinite(rows[r][j]) && static_cast<double>(back) != rows[r][j]) {
          const std::uint16_t up = static_cast<std::uint16_t>(bits + 1), down = static_cast<std::uint16_t>(bits - 1);
          for (std::uint16_t cand : {up, down}) {
            const float c = t == DType::f16 ? gpu::f16_bits_to_float(cand) : gpu::bf16_bits_to_float(cand);
            // Only between finite neighbours: a value beyond the range must overflow to ±inf
            // as IEEE rounding does, not be clamped to the largest finite value.
            if (std::isfinite(c) &&
                (std::isfinite(back) || std::fabs(rows[r][j]) < gpu::dtype_overflow_threshold(t)) &&
                std::fabs(static_cast<double>(c) - rows[r][j]) <
                                        std::fabs(static_cast<double>(back) - rows[r][j])) {
              bits = cand;
            }
          }
        }
        u16[k] = bits;
      }
      as_float[k] = gpu::load_element(t, storage.data(), static_cast<long long>(k));
    }
  }
  return storage;
}

/// Naive same-precision norm: fp32 softmax of the rounded logits, α rounded to the dtype, then
/// the float secular norm of that α.
double naive_norm(const float* row, long long L, float T, DType t) {
  float m = -std::numeric_limits<float>::infinity();
  for (long long j = 0; j < L; ++j) m = std::max(m, row[j]);
  if (std::isinf(m)) return 0.0;
  std::vector<float> e(static_cast<std::size_t>(L), 0.0f);
  float s = 0.0f;
  for (long long j = 0; j < L; ++j) {
    if (std::isinf(row[j])) continue;
    e[static_cast<std::size_t>(j)] = std::exp((row[j] - m) / T);
    s += e[static_cast<std::size_t>(j)];
  }
  bool any = false;
  for (float& x : e) {
    x = gpu::round_through(t, x / s);
    any = any || x > 0.0f;
  }
  if (!any) return 0.0;
  return softmax_jacobian_norm_from_weights<float>(std::span<const float>(e), T);
}

struct Truth {
  double mid, rad, lower;
};

Truth certified_norm(const std::vector<double>& row, float T) {
  std::vector<Ball> logits;
  logits.reserve(row.size());
  for (double x : row) logits.emplace_back(x, kTruthPrecisionBits);
  const Ball n = softmax_jacobian_norm<Ball>(std::span<const Ball>(logits),
                                             Ball(static_cast<double>(T), kTruthPrecisionBits));
  return {n.mid(), n.radius(), std::max(0.0, n.lower())};
}

}  // namespace

/// The data-dependent bound for one row of logits AS THE KERNEL READ THEM (dtype values as
/// doubles, −inf masked), derivation terms (J1)–(J8) in the header comment above.
JacobianNormRowBound jacobian_norm_row_bound(std::span<const double> logits, float temperature,
                                             double truth_mid, double truth_rad,
                                             double truth_lower, double lambda_fa,
                                             const gpu::JacobianNormGeometry& geometry) {
  const struct { double mid, rad, lower; } truth{truth_mid, truth_rad, truth_lower};
  JacobianNormRowBound out;
  const double T = temperature;
  const long long L = static_cast<long long>(logits.size());
  // The derivation is about a row the kernel can read: fp32 values (dtype values are), −inf for
  // masked, a temperature and a length the kernel accepts (so that every K·u ≪ 1).
  if (L < 1 || L > gpu::kJacobianNormMaxLength)
    throw std::invalid_argument(fmt::format("jacobian_norm_row_bound: row length {} is outside "
                                            "the kernel's 1..{}", L, gpu::kJacobianNormMaxLength));
  if (!(temperature >= gpu::kJacobianNormMinTemperature && temperature <= gpu::kJacobianNormMaxTemperature))
    throw std::invalid_argument(fmt::format("jacobian_norm_row_bound: temperature {} is outside [{:g}, {:g}]",
                                            temperature, gpu::kJacobianNormMinTemperature,
                                            gpu::kJacobianNormMaxTemperature));
  if (!(lambda_fa > 0))
    throw std::invalid_argument(fmt::format("jacobian_norm_row_bound: probabilistic lambda {} is not positive", lambda_fa));
  for (std::size_t j = 0; j < logits.size(); ++j) {
    const double l = logits[j];
    if (l == kNegInf) continue;
    if (!(std::isfinite(l) && static_cast<double>(static_cast<float>(l)) == l))
      throw std::invalid_argument(fmt::format("jacobian_norm_row_bound: logit {} = {} is not a finite fp32 "
                                              "value (or −inf for masked)", j, l));
  }
  double m = kNegInf;
  for (double l : logits) m = std::max(m, l);
  if (!(m > kNegInf)) return out;  // fully masked: N = N̂ = 0 exactly
  const double g2 = higham_gamma(2, kU);
  const double floor = -static_cast<double>(geometry.weight_floor_exponent);  // 69
  const double eps_exp = gpu::kPortableExpRelativeError;
  const double log_exp_err = eps_exp / (1.0 - eps_exp);  // |log(1+ε)| for |ε| ≤ ε_e
  const bool exp0_exact = gpu::portable_expf(0.0f) == 1.0f;
  // (J1) which entries the kernel keeps: x̂ = x(1+θ), |θ| ≤ γ₂ (plus 2^−149), floor at −69.
  // 2^−40: margin for the double evaluation of x (relative error ≤ 2^−52).
  const double keep_sure = -floor / (1.0 + g2) * (1.0 - 0x1p-40);
  const double drop_sure = -floor / (1.0 - g2) * (1.0 + 0x1p-40);
  std::vector<double> x(logits.size(), kNegInf), w(logits.size(), 0.0);
  std::vector<char> exact_sub(logits.size(), 0), exact_div(logits.size(), 0);
  double kept_sum = 0, dropped_sum = 0;
  int kept = 0, top_count = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (!(logits[i] > kNegInf)) continue;
    const double d = logits[i] - m;  // two floats: exact in double unless exponents are far apart
    x[i] = d / T;
    const double wi = std::exp(x[i]);
    if (x[i] >= keep_sure) {
      w[i] = wi;
      kept_sum += wi;
      ++kept;
      if (logits[i] == m) ++top_count;
      // A correctly rounded operation whose exact result is a float does not round: fp32
      // l̂ − m is exact when the double difference (itself exact: checked by two-sum) is a
      // float; the quotient is exact when fl32(d)/T times T gives d back exactly in double.
      // Knuth's TwoSum of l̂_i + (−m): its error term is 0 iff d is the exact difference.
      const double bb = d - logits[i];
      const double two_sum_error = (logits[i] - (d - bb)) + (-m - bb);
      const bool d_exact = two_sum_error == 0.0 && static_cast<double>(static_cast<float>(d)) == d;
      exact_sub[i] = d_exact;
      if (d_exact) {
        const float q = static_cast<float>(d) / temperature;
        exact_div[i] = static_cast<double>(q) * T == d;
      }
    } else {
      // within rounding of the floor: kept or not, we cannot tell
      if (x[i] >= drop_sure) out.ambiguous_floor = true;
      dropped_sum += std::max(wi, 0x1p-1074);  // e^x underflows in double below x ≈ −745
    }
  }
  // (J2) dropped mass p (relative to the whole row), τ = min(6p, 1/2)/T; 1 + 1e−10 covers the
  // double sums (≤ 12288 terms, relative ≤ L·2^−53 < 1e−12) and exp (≤ 2^−52).
  const double p = dropped_sum / (kept_sum + dropped_sum) * (1.0 + 1e-10);
  // + 2^−150: the fp32 output may be subnormal (large T), where rounding is absolute, not relative.
  out.tau = std::min(6.0 * p, 0.5) / T + 0x1p-150;
  if (kept <= 1 && !out.ambiguous_floor) return out;  // a single kept weight: N̂ = 0, |N| ≤ τ
  const double S = kept_sum;
  const double eps_w = 80 * 0x1p-53;  // relative error of w_i in double: x (2 ops, |x| ≤ 70) and exp

  // (J3) per-entry bound d_i of |δ_i|, δ_i = log ŵ_i − log w_i.
  double d_max = 0;
  std::vector<double> d(logits.size(), 0.0), units(logits.size(), 0.0), exp_err(logits.size(), 0.0);
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (!(w[i] > 0) && !(x[i] >= drop_sure)) continue;
    const double u1 = exact_sub[i] ? 0.0 : kU, u2 = exact_div[i] ? 0.0 : kU;
    units[i] = u1 + u2;
    exp_err[i] = (logits[i] == m && exp0_exact) ? 0.0 : log_exp_err;
    d[i] = std::fabs(x[i]) * ((1 + u1) * (1 + u2) - 1) * (1 + 0x1p-50) + 0x1p-149 + exp_err[i];
    d_max = std::max(d_max, d[i]);
  }
  const double Delta = 2 * d_max;

  // (J4) the kernel's sum Ŝ: every addition with two nonzero operands rounds once, with
  // coefficient (its exact partial sum)/S in log Ŝ; per-lane chains, then the xor tree.
  ErrorBudget sum;
  const int lanes = geometry.warp_size;
  std::vector<double> lane_sum(static_cast<std::size_t>(lanes), 0.0);
  // Partials known to be exact: sums of top weights ŵ = e^0 = 1 (and zeros) are integers
  // ≤ 12288 < 2^24, so adding two of them does not round.
  std::vector<char> lane_exact(static_cast<std::size_t>(lanes), 1);
  double coef_sum = 0, coef_sq = 0;
  auto addition = [&](double lhs, double rhs, bool both_exact) {
    if (!(lhs > 0 && rhs > 0) || both_exact) return;  // + 0 and integer sums are exact
    // Round to nearest moves a + b by ≤ u|a + b| and by ≤ min(|a|, |b|) (a float operand is a
    // candidate result): tiny weights added to a large partial barely round.
    const double c = std::min(lhs + rhs, std::min(lhs, rhs) / kU) / S;
    coef_sum += c;
    coef_sq += c * c;
  };
  for (int lane = 0; lane < lanes; ++lane) {
    double s = 0;
    bool s_exact = true;
    for (long long j = lane; j < L; j += lanes) {
      const auto k = static_cast<std::size_t>(j);
      // Ambiguous entries count as kept: a rounding that may happen must be counted.
      const double wj = w[k] > 0 ? w[k] : (x[k] >= drop_sure ? std::exp(x[k]) : 0.0);
      const bool wj_exact = wj == 0 || (logits[k] == m && exp0_exact);
      addition(s, wj, s_exact && wj_exact);
      s += wj;
      s_exact = s_exact && wj_exact;
    }
    lane_sum[static_cast<std::size_t>(lane)] = s;
    lane_exact[static_cast<std::size_t>(lane)] = s_exact;
  }
  for (int width = lanes / 2; width >= 1; width /= 2) {
    for (int j = 0; j < width; ++j) {
      const auto lo = static_cast<std::size_t>(j), hi = static_cast<std::size_t>(j + width);
      addition(lane_sum[lo], lane_sum[hi], lane_exact[lo] && lane_exact[hi]);
      lane_sum[lo] += lane_sum[hi];
      lane_exact[lo] = lane_exact[lo] && lane_exact[hi];
    }
  }
  const bool sum_exact = lane_exact[0];  // Ŝ = the number of top weights, exactly
  const int depth = gpu::jacobian_norm_sum_depth(L, lanes);
  coef_sum *= 1 + eps_w + 1e-12;
  coef_sq *= (1 + eps_w + 1e-12) * (1 + eps_w + 1e-12);
  sum.roundings(coef_sum, coef_sq, kU);
  {
    // Computed partials over ŵ vs exact ones over w: factor within (1+γ_D)·e^Δ; log(1+e) − e.
    const double drift = (1 + higham_gamma(depth, kU)) * std::exp(Delta) - 1;
    const double e = coef_sum * kU * (1 + drift);
    sum.remainder(coef_sum * kU * drift + e * e / (1 - e));
  }

  // (J5) fl(Ŝ·T) and the final division, each one rounding unless provably exact: Ŝ·T when T
  // is a power of two, or Ŝ is a known integer n and n·T (exact in double) is a float; the
  // quotient when also λ̂ = 1 exactly (a tied top) and 1/fl(n·T) is a float.
  ErrorBudget final_ops;
  int frac_exp = 0;
  const bool t_pow2 = std::frexp(T, &frac_exp) == 0.5;
  const double nT = S * T;  // with sum_exact, S = n exactly
  const bool product_exact = t_pow2 || (sum_exact && static_cast<double>(static_cast<float>(nT)) == nT);
  bool quotient_exact = false;
  if (sum_exact && product_exact && top_count >= 2) {
    const auto y = static_cast<float>(nT);
    const float q = 1.0f / y;
    quotient_exact = static_cast<double>(q) * static_cast<double>(y) == 1.0;
  }
  if (!product_exact) final_ops.rounding(1.0, kU);
  if (!quotient_exact) final_ops.rounding(1.0, kU);
  final_ops.remainder(2 * kU * kU / (1 - kU));

  ErrorBudget total;
  total.add(sum);
  total.add(final_ops);

  // (J6) weights → log N(ŵ) − log N(w): route A (first order Σ(π_i − σ_i)δ_i, path remainder)
  // where it applies and is smaller, otherwise Fact 1's Δ.
  bool route_a = !out.ambiguous_floor;
  double r_top = 0, r_b = 0, lambda = 1.0;  // λ/a (a = 1: the top weight is e^0), b/λ, λ
  ErrorBudget weights;
  if (route_a) {
    double b = 0, kappa0 = 0, E_pi = 0, eta_pi = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (!(w[i] > 0) || logits[i] == m) continue;
      if (!(w[i] < 1.0)) route_a = false;  // x rounds to 0 in double: a near-tie, no κ
      b = std::max(b, w[i]);
    }
    if (route_a && top_count == 1) {
      // λ from the certified norm: λ = N·T·S (relative error ≤ rad/lower + the double sum; the
      // truth includes the dropped mass, which moves N by ≤ τ).
      const double eps_lambda = (truth.lower > 0 ? (truth.rad + out.tau) / truth.lower : 1.0) +
                                (L + 4) * 0x1p-53 + eps_w;
      lambda = truth.mid * T * S;
      r_top = lambda;
      r_b = b / lambda;
      const double grow = std::exp(Delta) * (1 + eps_lambda + eps_w);
      if (!(eps_lambda < 1e-6) || !(r_top * grow < 1) || !(r_b * grow < 1)) {
        route_a = false;
      } else {
        kappa0 = std::max((1 + r_top) / (1 - r_top), (1 + r_b) / (1 - r_b));
        const double kappa_bar = std::max((1 + r_top * grow) / (1 - r_top * grow),
                                          (1 + r_b * grow) / (1 - r_b * grow));
        E_pi = std::expm1(Delta * (1 + 2 * kappa_bar));
        // Double evaluation of π: w and λ relative ε each move λ − w_i by ≤ κ·ε relative.
        eta_pi = 4 * (1 + 2 * kappa0) * (eps_lambda + eps_w) + 4 * L * 0x1p-53;
        if (!(eta_pi < 1e-3)) route_a = false;
      }
    }
    if (route_a) {
      std::vector<double> pi(w.size(), 0.0);
      double pi_norm = 0;
      for (std::size_t i = 0; i < w.size(); ++i) {
        if (!(w[i] > 0)) continue;
        if (top_count == 1) {
          const double gap = w[i] - lambda;
          pi[i] = w[i] / (gap * gap);
        } else {
          pi[i] = logits[i] == m ? 1.0 : 0.0;  // tied top: λ = a, log N(w) moves with δ_top only
        }
        pi_norm += pi[i];
      }
      const double E_sigma = std::expm1(Delta);
      const double eta_sigma = eps_w + (L + 4) * 0x1p-53;
      double lin_sum = 0, lin_sq = 0, systematic = 0, remainder = 0;
      for (std::size_t i = 0; i < w.size(); ++i) {
        if (!(w[i] > 0)) continue;
        const double pi_i = pi[i] / pi_norm, sigma_i = w[i] / S;
        const double g = std::fabs(pi_i - sigma_i) + pi_i * eta_pi + sigma_i * eta_sigma;
        const double c = g * std::fabs(x[i]) * (1 + 0x1p-50);
        const int events = (exact_sub[i] ? 0 : 1) + (exact_div[i] ? 0 : 1);
        lin_sum += events * c;
        lin_sq += events * c * c;
        systematic += g * (exp_err[i] + 0x1p-149);
        // δ1·δ2 of the exponent; the path: |π_i(t) − π_i| ≤ π_i·E_π, |σ_i(t) − σ_i| ≤ σ_i·E_σ.
        remainder += (events == 2 ? c * kU * kU : 0.0) +
                     (pi_i * (1 + eta_pi) * E_pi + sigma_i * (1 + eta_sigma) * E_sigma) * d[i];
      }
      weights.roundings(lin_sum, lin_sq, kU);
      weights.systematic(systematic);
      weights.remainder(remainder);
      if (!(weights.guaranteed() < Delta)) route_a = false;
    }
  }
  if (route_a) {
    total.add(weights);
  } else {
    total.systematic(Delta);
  }
  out.weights_by_spread = !route_a;

  // (J7) the solver: none at a tie or a single weight; else the noise exit's log error θ₀
  // divided by a lower bound of the slope dφ/dlog λ on the segment between λ̂ and λ*(ŵ), or the
  // bracket exit's.
  if (top_count == 1 && (kept >= 2 || out.ambiguous_floor)) {
    const double K = gpu::jacobian_norm_secular_noise_k(L, lanes);
    const double c = (geometry.noise_factor + 1.001) * K * kU;
    const double theta0 = std::log1p(2.0 * c / (1.0 - c));
    double slope = 1.0;  // −dlog Q/dlog λ ≥ 1, dlog P/dlog λ ≥ 0
    if (route_a) {
      // On the segment every one of λ, w_i, a is within e^{±ε} of its exact value (ε = Δ + θ₀,
      // after a common rescaling, which φ ignores); λ − w_i and a − λ then move by ≤ κ′ε in
      // log, κ′ = (1 + r′)/(1 − r′), r′ = max(λ/a, b/λ)·e^{2ε}. The slope s = λ/(a−λ) + Σ
      // [w_iλ/(λ−w_i)²]/Σ [w_i/(λ−w_i)] moves by ≤ (3 + 3κ′)ε in log.
      const double eps = Delta + theta0;
      const double r_prime = std::max(r_top, r_b) * std::exp(2 * eps) * (1 + 1e-9);
      if (r_prime < 1) {
        const double kappa = (1 + r_prime) / (1 - r_prime);
        double num = 0, den = 0;
        for (std::size_t i = 0; i < w.size(); ++i) {
          if (!(w[i] > 0) || logits[i] == m) continue;
          const double t = w[i] / (lambda - w[i]);
          den += t;
          num += t * lambda / (lambda - w[i]);
        }
        // 1 − 1e−6: the double evaluation (relative ≤ (L + 100)·κ·2^−50, required below 1e−7).
        if (den > 0 && kappa * static_cast<double>(L + 100) * 0x1p-50 < 1e-7) {
          const double s_exact = r_top / (1 - r_top) + num / den;
          slope = std::max(slope, s_exact * std::exp(-(3 + 3 * kappa) * eps) * (1 - 1e-6));
        }
      }
    }
    out.solver_part = std::max(theta0 / slope,
                               std::log1p(static_cast<double>(geometry.bracket_exit_width)));
    total.systematic(out.solver_part);
  }
  // (J8) ρ = e^E − 1; ×(1 + 1e−9) covers the double evaluation of E (≤ a few·L operations of
  // relative 2^−53 on positive terms: < 1e−11 for L ≤ 12288).
  out.rho = std::expm1(total.guaranteed()) * (1 + 1e-9);
  out.rho_probabilistic = std::expm1(total.probabilistic(lambda_fa)) * (1 + 1e-9);
  out.systematic_part = total.systematic_part();
  out.linear_part = total.linear();
  out.linear_rms = total.linear_rms();
  out.remainder_part = total.remainder_part();
  return out;
}

std::vector<KernelCheckRow> check_jacobian_norm(
    const KernelCheckRequest& request,
    const std::function<void(std::size_t, std::size_t)>& progress) {
  struct Case {
    DType dtype;
    long long L;
    Variant variant;
    std::uint64_t index;
  };
  std::vector<Case> cases;
  std::uint64_t index = 0;
  // A length the user names that the matrix lacks runs as given (substreams after the matrix).
  std::vector<long long> lengths(std::begin(kLengths), std::end(kLengths));
  const bool custom_length =
      request.seqlen_k && std::find(lengths.begin(), lengths.end(), *request.seqlen_k) == lengths.end();
  if (custom_length) {
    if (*request.seqlen_k > gpu::kJacobianNormMaxLength)
      throw std::invalid_argument("jacobian-norm: row length " + std::to_string(*request.seqlen_k) +
                                  " exceeds the kernel's limit " +
                                  std::to_string(gpu::kJacobianNormMaxLength));
    lengths = {*request.seqlen_k};
    index = 3 * std::size(kLengths) * 4;
  }
  for (DType t : {DType::f32, DType::f16, DType::bf16}) {
    for (long long L : lengths) {
      for (Variant v : {Variant::random, Variant::masked, Variant::very_negative, Variant::tied_max}) {
        const std::uint64_t k = index++;  // substream index independent of the filters
        if (request.dtype && *request.dtype != t) continue;
        if (request.seqlen_k && *request.seqlen_k != L) continue;
        if (request.quick && L > 1000 && !custom_length) continue;
        cases.push_back({t, L, v, k});
      }
    }
  }
  const gpu::DeviceReport device = request.prefer_device ? gpu::query_devices() : gpu::DeviceReport{};
  const bool on_device = request.prefer_device && device.device_count > 0;
  require_false_alarm(request.false_alarm);
  const Rng root(request.seed);
  const int n_t = static_cast<int>(std::size(kTemperatures));

  auto check_case = [&](std::size_t ci) {
    std::vector<KernelCheckRow> out;
    const Case& cs = cases[ci];
    // ≥ 3 rows so that the masked and tied-max variants keep a random row besides their two
    // special rows (fully masked / single entry; all equal / two equal).
    const int rows = cs.L <= 64 ? (request.quick ? 4 : 8) : (cs.L <= 1000 ? (request.quick ? 3 : 5) : 3);
    const auto data = make_rows(cs.variant, cs.L, rows, root.substream(cs.index));
    std::vector<float> as_float;
    const std::vector<std::uint32_t> buffer = encode(data, cs.dtype, as_float);

    gpu::JacobianNormArgs args{cs.dtype, buffer.data(), rows, cs.L, kTemperatures, n_t, nullptr};
    std::vector<float> first(static_cast<std::size_t>(rows * n_t)), second(first.size()), twin(first.size());
    auto run = [&](std::vector<float>& dst) {
      args.out = dst.data();
      return on_device ? gpu::run_jacobian_norm_on_device(args) : gpu::jacobian_norm_twin(args);
    };
    gpu::KernelStatus status = run(first);
    if (status.ok()) status = run(second);
    if (status.ok() && on_device) {
      args.out = twin.data();
      status = gpu::jacobian_norm_twin(args);
    }
    if (!status.ok()) {  // one failing row for the case (as flash attention reports it)
      KernelCheckRow row;
      row.kernel = "jacobian-norm";
      row.shape = fmt::format("L={} R={}", cs.L, rows);
      row.dtype = std::string(gpu::dtype_name(cs.dtype));
      row.variant = variant_name(cs.variant);
      row.executed_on = on_device ? "device (" + device.name + ")" : "twin";
      row.note = "run failed: " + status.message;
      row.could_not_run = true;
      out.push_back(std::move(row));
      return out;
    }
    // By value (gpu/output_equality.hpp): all NaNs equal — payloads differ host/device.
    const bool deterministic = gpu::same_output_values(first, second);
    const auto twin_difference = on_device ? gpu::first_output_difference(first, twin) : std::nullopt;
    const bool matches_twin = !twin_difference;

    // The rows as the kernel read them (dtype values as doubles): the truth it is judged by.
    std::vector<std::vector<double>> rounded(data.size());
    bool overflowed = false;  // a logit rounded to +inf (or NaN): the kernel returns NaN
    for (std::size_t r = 0; r < data.size(); ++r) {
      rounded[r].assign(as_float.begin() + static_cast<long>(r * cs.L),
                        as_float.begin() + static_cast<long>((r + 1) * cs.L));
      for (double v : rounded[r]) overflowed = overflowed || !(v < std::numeric_limits<double>::infinity());
    }
    // Finite logits the dtype made ±inf: counted and reported (issue 18), −inf ones included —
    // they read as masked, which the truth of the row as read then agrees with.
    long long overflowed_logits = 0;
    for (std::size_t r = 0; r < data.size(); ++r)
      for (std::size_t j = 0; j < data[r].size(); ++j)
        overflowed_logits += std::isfinite(data[r][j]) && std::isinf(rounded[r][j]) ? 1 : 0;
    // m = the values this row judges (one output per row of the case at this T).
    const double lambda_fa = probabilistic_lambda(request.false_alarm, rows);
    for (int t = 0; t < n_t; ++t) {
      const float T = kTemperatures[t];
      double err = 0, naive = 0, atol = 0, max_rad = 0, ratio = 0, p_ratio = 0;
      double rho_max = 0, p_rho_max = 0, tau_max = 0, solver_max = 0;
      InputQuantizationEnclosure quantization;
      int fallback_rows = 0;
      std::string worst_budget;  // the budget of the row with the largest ratio, in units of u
      bool finite = true, zeros_exact = true, vacuous = overflowed;
      for (int r = 0; r < rows && !overflowed; ++r) {
        const auto& row_in = rounded[static_cast<std::size_t>(r)];
        const Truth truth = certified_norm(row_in, T);
        const Truth original = certified_norm(data[static_cast<std::size_t>(r)], T);
        // Input quantization, apart: |N(original) − N(rounded)| enclosed by both balls.
        quantization.add(original.mid, original.rad, truth.mid, truth.rad);
        const double got = first[static_cast<std::size_t>(r * n_t + t)];
        finite = finite && std::isfinite(got);
        if (truth.mid == 0 && truth.rad == 0) zeros_exact = zeros_exact && got == 0.0;
        max_rad = std::max(max_rad, truth.rad);
        const JacobianNormRowBound b = jacobian_norm_row_bound(
            std::span<const double>(row_in), T, truth.mid, truth.rad, truth.lower, lambda_fa);
        vacuous = vacuous || !(b.rho < 1.0);
        fallback_rows += b.weights_by_spread ? 1 : 0;
        // 2^−60: a floor so that the relative norm below is defined on rows with ρ = 0 (a single
        // weight: N̂ = 0 exactly); it only loosens the bound.
        const double rho = std::max(b.rho, 0x1p-60), p_rho = std::max(b.rho_probabilistic, 0x1p-60);
        rho_max = std::max(rho_max, rho);
        p_rho_max = std::max(p_rho_max, p_rho);
        tau_max = std::max(tau_max, b.tau);
        solver_max = std::max(solver_max, b.solver_part);
        // Rigorous over the enclosure: |N̂ − N| ≤ |N̂ − mid| + rad, and ρ·N + (1+ρ)τ ≥ ρ·lower + (1+ρ)τ.
        const double g_bound = rho * truth.lower + (1 + rho) * b.tau;
        const double p_bound = p_rho * truth.lower + (1 + p_rho) * b.tau;
        auto over = [](double e, double bound) {
          return bound > 0 ? e / bound : (e == 0 ? 0.0 : std::numeric_limits<double>::infinity());
        };
        const double e = std::fabs(got - truth.mid) + truth.rad;
        if (over(e, g_bound) >= ratio)
          worst_budget = fmt::format("; worst row's log budget /u: rounding {:.3g} (rms {:.3g}), "
                                     "systematic {:.3g} (solver {:.3g}), second order {:.2g}",
                                     b.linear_part / kU, b.linear_rms / kU, b.systematic_part / kU,
                                     b.solver_part / kU, b.remainder_part / kU);
        ratio = std::max(ratio, over(e, g_bound));
        p_ratio = std::max(p_ratio, over(e, p_bound));
        // The relative norm |x − N|/(N + ν), ν = (1+ρ)τ/ρ, in which the bound is ρ.
        err = std::max(err, over(e, g_bound) * rho);
        const double naive_value = naive_norm(as_float.data() + r * cs.L, cs.L, T, cs.dtype);
        naive = std::max(naive, over(std::fabs(naive_value - truth.mid) + truth.rad, g_bound) * rho);
        const float moved = gpu::round_through(
            cs.dtype, gpu::round_through(cs.dtype, static_cast<float>(truth.mid) + 0.3f) - 0.3f);
        atol = std::max(atol, 2.0 * over(std::fabs(static_cast<double>(moved) - truth.mid), g_bound) * rho);
      }
      KernelCheckRow row;
      row.kernel = "jacobian-norm";
      row.shape = fmt::format("L={} R={} T={:g}", cs.L, rows, T);
      row.dtype = std::string(gpu::dtype_name(cs.dtype));
      row.variant = variant_name(cs.variant);
      row.executed_on = on_device ? "device (" + device.name + ")" : "twin";
      row.max_abs_error = overflowed ? std::numeric_limits<double>::infinity() : err;
      row.bound = overflowed ? std::numeric_limits<double>::infinity() : rho_max;
      row.ratio = overflowed ? 0.0 : ratio;
      row.vacuous = vacuous;
      row.ground_truth_radius = max_rad;
      row.naive_error = naive;
      row.fa_rule_threshold = 2.0 * naive + atol;
      row.fa_rule_pass = err <= row.fa_rule_threshold;
      row.deterministic = deterministic;
      row.probabilistic_bound = overflowed ? std::numeric_limits<double>::infinity() : p_rho_max;
      row.probabilistic_ratio = overflowed ? 0.0 : p_ratio;
      row.false_alarm = request.false_alarm;
      row.input_quantization_low = quantization.low;
      row.input_quantization_high = quantization.high;
      const bool sound = deterministic && finite && zeros_exact && matches_twin && !overflowed;
      row.pass = row.ratio <= 1.0 && sound;
      row.probabilistic_pass = row.probabilistic_ratio <= 1.0 && sound;
      row.note = fmt::format(
          "vs truth of the logits as read (dtype-rounded); norm max_r |N^-N|/(N+nu_r), "
          "nu_r=(1+rho_r)tau_r/rho_r; rho max {:.3g} (tau max {:.3g}, solver {:.3g}{}); "
          "input quantization |N(orig)-N(rounded)| in [{:.3g}, {:.3g}]; probabilistic: "
          "independent mean-zero roundings, false alarm {:g} per case{}{}{}{}{}",
          rho_max, tau_max, solver_max,
          fallback_rows ? fmt::format(", {} rows by the spread bound", fallback_rows) : "",
          quantization.low, quantization.high, request.false_alarm, worst_budget,
          overflowed ? "; a logit overflows the dtype (+inf): the kernel returns NaN, nothing judged" : "",
          zeros_exact ? "" : "; a row with exact norm 0 gave nonzero",
          finite ? "" : "; non-finite output",
          on_device ? device_twin_note(matches_twin,
                                       matches_twin ? "" : twin_difference->message())
                    : "");
      if (overflowed_logits > 0)
        row.note += fmt::format("; {} finite logits overflow {} to ±inf", overflowed_logits,
                                gpu::dtype_name(cs.dtype));
      out.push_back(std::move(row));
    }
    return out;
  };
  return run_cases_in_parallel(cases.size(), request, check_case, progress);
}

}  // namespace attncert
