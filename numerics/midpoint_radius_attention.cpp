// The fast enclosure tier (midpoint_radius_attention.hpp): softmax attention in double with an
// a-priori certified radius, rows it cannot enclose recomputed in Arb balls.
//
// ===== Derivation ===========================================================================
// Model. Round to nearest in double (checked at entry: FE_TONEAREST, no flush-to-zero or
// denormals-are-zero), u = 2⁻⁵³, η = 2⁻¹⁰⁷⁵ (half the smallest subnormal). Every ×, ÷, fma:
// fl(x) = x(1 + δ) + e with |δ| ≤ u, |e| ≤ η; every + and − : fl(x) = x(1 + δ) (exact when
// subnormal). Also |fl(x) − x| ≤ u·|fl(x)| + η. γ_n = n·u/(1 − n·u). Sizes are capped
// (Lk ≤ 2²², d ≤ 2²⁰), so every n·u below is ≤ 2⁻²⁸ and 1/(1 − n·u) ≤ 1 + 2n·u.
//
// (1) Products. A dot product of n terms evaluated in *any* order, with or without fma
//     (which is all BLIS may do), puts at most n roundings on each term, so
//       |fl(xᵀy) − xᵀy| ≤ γ_n·|x|ᵀ|y| + n·η(1 + u)ⁿ,   fl(|x|ᵀ|y|) ≥ (1 − u)ⁿ|x|ᵀ|y| − n·η(1 + u)ⁿ.
//     Per block of query rows, Ŝ ≈ Q Kᵀ by one blas::gemm per chunk of 32 head-dim columns,
//     the chunks summed by our own additions, so each product term gets at most
//     n = 32 + #chunks − 1 roundings (n = d for d ≤ 32; for d = 128, γ_35 instead of γ_128:
//     this term dominates the radius): |Ŝ − S| ≤ γ_n·E + d·2⁻¹⁰⁷⁴, E = |Q||K|ᵀ exactly.
//     E only needs an upper bound, so it is a float GEMM (twice as fast): query row i and
//     K scaled by powers of two 2^−e_i, 2^−e_K (max entry below 1) and rounded *up* to float
//     (values below float's range to 2⁻¹⁴⁹), q′ ≥ |q|·2^−e_i, k′ ≥ |k|·2^−e_K,
//     Â = fl_float(q′k′ᵀ). With float's u_f = 2⁻²⁴, η_f = 2⁻¹⁵⁰ and d·u_f ≤ 1/16 (d ≤ 2²⁰),
//       E ≤ 2^{e_i+e_K}·(Â + d·2⁻¹⁴⁹)·(1 + 2d·u_f),  so
//       |Ŝ − S| ≤ e1 := κ_i·Â + κ_i·d·2⁻¹⁴⁹ + d·2⁻¹⁰⁷⁴,  κ_i ≥ γ_n·2^{e_i+e_K}(1 + 2d·u_f).
// (2) Multiplier c = scale/T (exact real). ĉ = fl(scale/T), or for the default
//     ĉ = fl(fl(1/fl(√d))/T) (three correctly rounded operations, d ≥ 1 so no underflow before
//     the last): ĉ = c(1 + δ₂)(1 + δ₃)/(1 + δ₁) + e₃, so |ĉ − c| ≤ δc := 4u·|ĉ| + 2⁻¹⁰⁷⁴.
// (3) Logits s = c·S + M (M the additive mask). t = fl(ĉ·Ŝ), ŝ = fl(t + M):
//       |ŝ − s| ≤ u|ŝ| + (u|t| + η) + |ĉ|·e1 + δc·(|Ŝ| + e1) =: θ   (u|ŝ| only with a mask),
//     i.e. θ = a1·Â + a2·|Ŝ| + u|t| [+ u|ŝ|] + η_θ with a1 = (|ĉ| + δc)κ_i, a2 = δc,
//     η_θ = (|ĉ| + δc)·(κ_i·d·2⁻¹⁴⁹ + d·2⁻¹⁰⁷⁴) + η (a1 and η_θ per query row). The computed θ̂ uses
//     constants inflated by 1 + 2⁻⁴⁰ and η_θ + 2⁻¹⁰⁷⁰: with ≤ 8 roundings (deficit ≥ (1 − u)⁸) and
//     ≤ 4 underflows (≤ 4η) it is ≥ θ. Rows with θ̂ > 1/16 at a key that (3a) does not remove
//     (or any non-finite Ŝ, Â, t, ŝ there) go to Arb balls, as do rows whose output or radius
//     below is not finite (value products overflowing).
// (3a) Keys whose weight certainly underflows. A large finite mask entry M (PyTorch's
//     finfo.min: −3.4e38, −1.8e308) makes θ̂ ≥ u|ŝ| huge, though the key is irrelevant. So in a
//     row with some θ̂_j > 1/16, with m = max_j ŝ_j of (4) finite, a key with x̂ = fl(ŝ_j − m)
//     finite, x̂ ≤ 4U and θ̂_j ≤ −x̂/4 is "far": for x = ŝ_j − m (exact, ≤ 0), x̂ = x(1 + δ)
//     (a subtraction; finite, so no overflow), so x ≤ x̂/(1 + u) ≤ 4U/(1 + u), and −x̂/4 is
//     exact (|x̂| ≥ 2800), so θ_j ≤ θ̂_j ≤ (1 + u)|x|/4; hence
//       s_j − m ≤ x + θ_j ≤ x(3 − u)/4 ≤ U(3 − u)/(1 + u) < 2U,
//     and its true weight of (4) is 0 < w_j < e^{2U} < e^U. It gets ŵ_j = 0 (ŝ_j := −inf, exactly
//     0 from bounded_exp) and θ̂_j := 0: an underflowed weight of (4), |w_j − ŵ_j| < e^U ≤ 2e^U,
//     counted in (5)'s n_uf (which counts every unmasked key with ŵ_j = 0, so n_uf ≤ Lk, against
//     Vmax taken over all Lk keys) and in (9)'s Lk·2e^U. The θ̂ ≤ 1/16 test and θmax are then
//     over the other keys: (4) needs θ_j ≤ 1/16 only where bounded_exp gives ŵ_j, and (5)'s
//     W ≥ σ̂/λ sums only keys with ŵ_j > 0. The key attaining m has x̂ = 0, is never far, so m
//     is also the maximum over the kept keys, and its ŵ = bounded_exp(0) ≥ 1 − ε_e keeps σ̂ ≥ 1/2.
//     A key with a NaN or infinite ŝ or θ̂ is never far; −inf mask entries stay exact zeros (θ̂ = 0,
//     kept). The same test applies without a mask (logits far below m with large θ̂).
// (3b) Softcap (optional, C > 0 finite exact): the logit is f(c·S) + M, f(x) = C·tanh(x/C).
//     f is 1-Lipschitz (f′ = sech² ≤ 1), so t's error θ_t of (3) (without a mask) passes
//     through: |f(t) − f(c·S)| ≤ θ_t. ŷ = fl(t/C): |ŷ − t/C| ≤ u|ŷ| + η, and tanh is 1-Lipschitz,
//     so |C·tanh ŷ − f(t)| ≤ C(u|ŷ| + η). tanh ŷ = sign(ŷ)·T(|ŷ|), T evaluated as T̂:
//     - |ŷ| ≤ 2⁻¹⁶: T̂ = |ŷ|; for y ≥ 0, y − y³/3 ≤ tanh y ≤ y (integrate 1 − y² ≤ sech² y ≤ 1),
//       so |T̂ − T| ≤ |ŷ|³/3 (relative 2⁻³²/3: no cancellation near 0);
//     - else T̂ = fl(fl(1 − ê)/fl(1 + ê)), ê = bounded_exp(−2|ŷ|) (exact argument):
//       |ê − e| ≤ ε_e·e (ê = 0 below U: e < e^U), and (1 − e)/(1 + e) has slope ≥ −2 on
//       [0, ∞), so |(1 − ê)/(1 + ê) − T| ≤ 2ε_e·e + 2e^U; 1 − ê loses ≤ u absolutely (|1 − ê| ≤ 1),
//       1 + ê and the quotient ≤ u relatively each, quotient ≤ 1.0001: |T̂ − T| ≤ 2ε_e + 3.01u
//       + 2e^U (absolute; relative to T it grows as |ŷ| → 2⁻¹⁶, to ≈ 2¹⁶·4u: the radius, not
//       the enclosure, pays for that region).
//     ŝ = fl(C·sign(ŷ)T̂) [+ M, one more rounding]:
//       θ = θ_t + C(u|ŷ| + ε_T) + u|ŝ_cap| [+ u|ŝ|] + C(η + 2e^U) + η,
//     ε_T the bound of the case taken; evaluated with ≤ 8 roundings of non-negative terms (up)
//     plus C·2⁻¹⁰⁰⁰ + 2⁻¹⁰⁶⁸ for the absolute terms and underflows (2e^U < 2⁻¹⁰⁰⁹). From here on
//     ŝ and θ are (3)'s: (3a), (4)–(9) never use how ŝ was formed, and lse is log Σ exp of the
//     capped logits. Rows with huge logits (θ_t > 1/16, though f flattens them) go to balls.
// (4) Weights. m = max_j ŝ_j (a double, exact), ŵ_j = bounded_exp(ŝ_j − m):
//     |ŵ − e^{ŝ−m}| ≤ ε_e·e^{ŝ−m} above kBoundedExpUnderflow (U), ŵ = 0 below (true
//     e^{ŝ−m} < e^U ≤ e^{−700} < 2⁻¹⁰⁰⁹; checked at run time). True weights (relative to e^m)
//     w_j = e^{s_j − m} = e^{ŝ_j − m}·e^{τ_j}, |τ_j| ≤ θ_j ≤ 1/16 (keys (3a) keeps). For ŵ_j > 0:
//       |w_j − ŵ_j| ≤ e^{ŝ−m}(e^θ − 1 + ε_e) ≤ ŵ_j·φ_j,  φ_j = (θ_j(1 + θ_j) + ε_e)(1 + 2ε_e)
//     (e^θ − 1 ≤ θ(1 + θ) for θ ≤ 1); for ŵ_j = 0 (underflow): |w_j − ŵ_j| ≤ 2e^U.
//     Masked pairs have w = ŵ = 0 exactly.
// (5) Real arithmetic on the computed weights: σ = Σ ŵ_j, N = Σ ŵ_j v_j, O* = N/σ (a convex
//     combination, |O*| ≤ Vmax = max_j |v_j| per column), W = Σ w_j, exact O = Σ w_j v_j / W.
//     Because Σ ŵ_j (v_j − O*) = 0:   O − O* = Σ_j (w_j − ŵ_j)(v_j − O*) / W, so
//       |O − O*| ≤ [Σ_j ŵ_j φ_j (|v_j| + |O*|) + n_uf·2e^U·2Vmax] / W.
//     W ≥ σ·e^{−θmax}/(1 + ε_e) ≥ σ̂/λ with λ = e^{θmax}(1 + ε_e)(1 + γ_σ) (below), θmax over
//     the keys with ŵ_j > 0 (only their w_j ≥ ŵ_j·e^{−θ_j}/(1 + ε_e) enter).
// (6) Computed sums. Keys are taken in chunks of kc = 64, chunks in groups of G ≈ √#chunks:
//     σ̂ = Σ_groups Σ_chunks Σ_keys ŵ and N̂ the same with one blas::gemm per chunk, the
//     chunk and group sums by our own additions, so every term gets at most
//     n = kc + G + #groups roundings (80 at Lk = 4096, instead of BLAS's Lk):
//     |σ̂ − σ| ≤ γ_σ·σ, |N̂ − N| ≤ γ_PV·(Ŵ|V|) + Lk·2⁻¹⁰⁷⁴ with γ_σ = γ_PV = γ_n. Ô = fl(N̂/σ̂):
//       |Ô − O*| ≤ u|Ô| + η + (γ_PV(Ŵ|V|) + Lk·2⁻¹⁰⁷⁴)/σ̂ + g·|O*|,  g = γ_σ/(1 − γ_σ) ≤ 2γ_σ.
// (7) Together, with Φ_j = φ_j + γ_PV (so both the weight errors and the PV rounding are one
//     GEMM), P = λ/σ̂·Σ_j ŵ_jΦ_j|v_j| and Sg = λ/σ̂·Σ_j ŵ_jΦ_j:
//       x := |O*| ≤ (|Ô|(1 + u) + P)(1 + 2g) + tiny,
//       |O − Ô| ≤ u|Ô| + P + (g + Sg)·x + tiny.
//     Here P = λ/σ̂·fl(G|V|) with G = fl(ŵ∘Φ̂) (a second PV-shaped GEMM) and Sg from the row
//     sums of G.
// (8) Evaluating the radius. Every quantity of (7) is built from non-negative doubles with
//     +, ×, ÷ by positive doubles; the longest chain of roundings has K ≤ Lk + 64 ≤ 2²⁵ steps,
//     so the computed value is ≥ (1 − u)^K·exact − (underflows). The final rad = fl(fl(r̂·μ) + τ)
//     with μ = 1 + 2⁻²⁰ ≥ (1 − u)^{−K−2}, and τ = Lk·(2⁻¹⁰⁰⁰·Vmax + 2⁻¹⁰⁶⁶) (per column), which
//     dominates twice the sum A of every absolute term, A ≤ Lk·(2⁻¹⁰⁰⁴·Vmax + 2⁻¹⁰⁷⁰):
//     - proportional to Vmax: the underflowed weights, (4) and (3a) (n_uf·2e^U·2Vmax·λ/σ̂
//       ≤ Lk·2⁻¹⁰⁰⁵·Vmax, as σ̂ ≥ 1/2 and λ ≤ 1.1), and the underflow losses of G_j = ŵ_j·Φ̂_j
//       (≤ 4η each: Φ̂'s own ≤ 3η times ŵ ≤ 1, and the product's) where they meet |v_j| ≤ Vmax in
//       P (≤ λ/σ̂·4η·Lk·Vmax) or x ≤ Vmax in Sg·x (≤ (λ/σ̂·4η·Lk + η)·Vmax): ≤ Lk·2⁻¹⁰⁷⁰·Vmax;
//     - absolute (η-scale; they do not shrink with V, as a product ŵ_j·v_j may be subnormal
//       however small V is): the "tiny" terms of (6)–(7), η + Lk·2⁻¹⁰⁷⁴/σ̂ in |O − Ô| and the
//       same times (g + Sg)(1 + 2g) ≤ 0.1 through x, ≤ Lk·2⁻¹⁰⁷²; and the underflows of the
//       radius evaluation that are not relative to V: one η per product G_j|v_j| in R
//       (λ/σ̂·Lk·η(1 + u)ⁿ in P) and η for each of the 6 other products of a column's radius
//       (p, u·|Ô| twice, x, (g + Sg)·x, r̂·μ), ≤ 9·Lk·η ≤ Lk·2⁻¹⁰⁷¹.
//     (The earlier τ = 2⁻¹⁰⁰⁰·Lk·(Vmax + 1) charged the absolute part at 2⁻¹⁰⁰⁰ scale, which made
//     the radius useless relative to |O| for |V| ≲ 1e-290.) τ's evaluation: 2⁻¹⁰⁰⁰·Lk and
//     2⁻¹⁰⁶⁶·Lk are exact, the product with Vmax loses ≤ u relative and ≤ η (underflow), the
//     sum ≤ u relative, so τ̂ ≥ (1 − u)²τ − η. With r the bound of (7) without its absolute
//     terms A_e, L the losses above (A_e + L ≤ A) and r̂ ≥ (1 − u)^K·r − L:
//       rad ≥ (1 − u)[(1 − u)μ·r̂ − η + τ̂] ≥ r − 1.0001·L − 2η + (1 − u)³·2A ≥ r + A_e,
//     as A ≥ Lk·2⁻¹⁰⁷⁰ ≥ 2⁵η. Constants (κ, δc, λ's factors, …) are evaluated with ≤ 10
//     roundings and multiplied by 1 + 2⁻⁴⁰ ("up"), which makes them upper bounds of their real
//     values.
// (9) lse = m + log W. From (4)–(6): σ̂/λ ≤ W ≤ σ̂·e^{θmax}(1 + 2ε_e)(1 + 2γ_σ) + Lk·2e^U, so
//     |log W − log σ̂| ≤ θ̂max + 2ε_e + 2γ_σ + Lk·2⁻¹⁰⁰⁰ (log(A + B) ≤ log A + B/A, A ≥ 1/2).
//     log σ̂ and the sum with m are evaluated in Arb (arb_log is a proven enclosure; glibc's
//     log has only a documented, not a proven, error) and the resulting ball is rounded
//     outward to a double midpoint and radius.
// ============================================================================================
#include "numerics/midpoint_radius_attention.hpp"

#include <arb.h>
#include <fmt/format.h>

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "numerics/arb_handles.hpp"
#include "numerics/ball.hpp"
#include "numerics/blas.hpp"
#include "numerics/bounded_exp.hpp"
#include "numerics/cpu_dispatch.hpp"
#include "numerics/precision.hpp"
#include "numerics/softmax_attention.hpp"

namespace attncert {
namespace {

using Index = std::ptrdiff_t;
using Mat = RowMatrix<double>;
constexpr double kU = 0x1p-53;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kThetaLimit = 1.0 / 16;  // (4) needs θ ≤ 1
constexpr Index kMaxKeys = Index{1} << 22;
constexpr Index kMaxHeadDim = Index{1} << 20;
constexpr double kOutputLimit = 0x1p31;  // entries of (B, H, Lq, dv)
constexpr char kWho[] = "midpoint_radius_attention";

/// x·(1 + 2⁻⁴⁰): an upper bound of the real value a double computed with ≤ 10 roundings of
/// non-negative operands approximates from below by at most (1 − u)¹⁰.
double up(double x) { return x * (1 + 0x1p-40); }

/// γ_n upper bound for n·u ≤ 2⁻²⁸: n·u/(1 − n·u) ≤ n·u·(1 + 2⁻²⁷).
double gamma_bound(double n) { return up(n * kU * (1 + 0x1p-27)); }

void require_default_fp_environment() {
  if (std::fegetround() != FE_TONEAREST) {
    throw std::logic_error(fmt::format("{}: the rounding mode is not round-to-nearest", kWho));
  }
  // Flush-to-zero and denormals-are-zero, tested by their effect rather than by a register
  // (MXCSR on x86, FPCR on Arm): the radius charges 2⁻¹⁰⁷⁴ per underflowing product, which a
  // flushed result (error up to 2⁻¹⁰²²) would exceed. volatile keeps the products at run time.
  // Each result is scaled back to a normal number before comparing, as DAZ also zeroes
  // subnormal operands of the comparison itself.
  volatile double smallest_normal = 0x1p-1022, subnormal = 0x1p-1070, half = 0.5, up = 0x1p60;
  const double flushed_output = smallest_normal * half;  // 2⁻¹⁰²³ unless FTZ
  const double read_subnormal = subnormal * up;          // 2⁻¹⁰¹⁰ unless DAZ
  if (flushed_output * up != 0x1p-963 || read_subnormal != 0x1p-1010) {
    throw std::logic_error(
        fmt::format("{}: flush-to-zero or denormals-are-zero is in effect", kWho));
  }
}


std::string shape_text(const Tensor4View<const double>& t) {
  return fmt::format("({}, {}, {}, {})", t.batch(), t.heads(), t.length(), t.dim());
}

void check_finite(const ConstMatrixView<double>& M, const char* name, Index b, Index h) {
  for (Index i = 0; i < M.rows(); ++i)
    for (Index j = 0; j < M.cols(); ++j)
      if (!std::isfinite(M(i, j))) {
        throw std::domain_error(fmt::format(
            "{}: {}({}, {}) (batch {}, head {}) is {}; entries of Q, K and V must be finite", kWho,
            name, i, j, b, h, M(i, j)));
      }
}

void validate(const Tensor4View<const double>& Q, const Tensor4View<const double>& K,
              const Tensor4View<const double>& V, const MidpointRadiusOptions& options) {
  if (K.batch() != Q.batch() || V.batch() != Q.batch() || K.heads() != V.heads() ||
      Q.heads() % K.heads() != 0 || K.length() != V.length() || K.dim() != Q.dim()) {
    throw std::invalid_argument(fmt::format(
        "{}: Q is {}, K is {}, V is {} (B, H, L, d); need equal batch, K.dim = Q.dim, K and V "
        "with the same heads and length, and K's heads dividing Q's heads",
        kWho, shape_text(Q), shape_text(K), shape_text(V)));
  }
  if (K.length() > kMaxKeys || Q.dim() > kMaxHeadDim ||
      static_cast<double>(Q.batch()) * Q.heads() * Q.length() * std::max(V.dim(), Index{1}) >
          kOutputLimit) {
    throw std::invalid_argument(fmt::format(
        "{}: Q is {}, K is {}, V is {}: too large (at most 2^22 keys, head dim 2^20, 2^31 "
        "output entries)",
        kWho, shape_text(Q), shape_text(K), shape_text(V)));
  }
  if (!std::isfinite(options.temperature) || !(options.temperature > 0)) {
    throw std::invalid_argument(
        fmt::format("{}: temperature T = {} must be finite and > 0", kWho, options.temperature));
  }
  if (options.scale && !std::isfinite(*options.scale)) {
    throw std::domain_error(fmt::format("{}: scale = {} must be finite", kWho, *options.scale));
  }
  options.keys.validate();
  if (options.softcap && !(std::isfinite(*options.softcap) && *options.softcap > 0)) {
    throw std::invalid_argument(
        fmt::format("{}: softcap C = {} must be finite and > 0", kWho, *options.softcap));
  }
  require_precision(options.fallback_precision_bits,
                    "midpoint_radius_attention fallback_precision_bits");
  if (options.mask) {
    const auto& M = *options.mask;
    if (M.rows() != Q.length() || M.cols() != K.length()) {
      throw std::invalid_argument(fmt::format("{}: mask is {}×{} but must be Lq×Lk = {}×{}", kWho,
                                              M.rows(), M.cols(), Q.length(), K.length()));
    }
    for (Index i = 0; i < M.rows(); ++i)
      for (Index j = 0; j < M.cols(); ++j)
        if (std::isnan(M(i, j)) || M(i, j) == kInf) {
          throw std::domain_error(
              fmt::format("{}: mask({}, {}) is {}; mask entries must be finite or exactly -inf",
                          kWho, i, j, M(i, j)));
        }
  }
  const Index group = Q.heads() / K.heads();
  for (Index b = 0; b < Q.batch(); ++b) {
    for (Index h = 0; h < Q.heads(); ++h) check_finite(Q.const_head(b, h), "Q", b, h);
    for (Index h = 0; h < K.heads(); ++h) {
      check_finite(K.const_head(b, h), "K", b, h * group);
      check_finite(V.const_head(b, h), "V", b, h * group);
    }
  }
}

/// (mid, rad) of a ball: mid its midpoint rounded to nearest, rad ≥ every |x − mid|. A ball
/// that is not finite, or whose midpoint is beyond double's range, becomes [0 ± inf].
void ball_to_mid_rad(arb_srcptr x, double& mid, double& rad) {
  mid = arf_get_d(arb_midref(x), ARF_RND_NEAR);
  if (!std::isfinite(mid) || !arb_is_finite(x)) {
    mid = 0.0;
    rad = kInf;
    return;
  }
  arb_handles::ArbHandle diff;
  arb_handles::ArfHandle m, bound;
  arf_set_d(m, mid);
  arb_sub_arf(diff, x, m, ARF_PREC_EXACT);
  arb_get_abs_ubound_arf(bound, diff, 53);
  rad = arf_get_d(bound, ARF_RND_UP);
}

/// One head's output location inside the enclosure.
struct HeadSlot {
  AttentionEnclosure* enc;
  Index b, h;
  double* mid(Index i) { return enc->output_mid.data() + row(i) * enc->shape[3]; }
  double* rad(Index i) { return enc->output_rad.data() + row(i) * enc->shape[3]; }
  std::size_t row(Index i) const { return enc->row_index(b, h, i); }
  /// A row with no visible key: O = 0 and lse = −inf exactly.
  void set_masked(Index i) {
    const Index dv = enc->shape[3];
    std::fill_n(mid(i), dv, 0.0);
    std::fill_n(rad(i), dv, 0.0);
    enc->lse_mid[row(i)] = -kInf;
    enc->lse_rad[row(i)] = 0.0;
    enc->row_tier[row(i)] = RowTier::Masked;
  }
};

/// Whether query row i sees at least one key (key visibility and −inf mask entries hide keys).
bool has_visible_key(Index i, Index Lq, Index Lk, const MidpointRadiusOptions& options) {
  const KeyRange keys = options.keys.range(i, Lq, Lk);
  if (!options.mask) return !keys.empty();
  for (Index j = keys.begin; j < keys.end; ++j)
    if ((*options.mask)(i, j) != -kInf) return true;
  return false;
}

/// Recomputes rows `requested` of one head with softmax_attention<Ball> and stores them as
/// `tier` (rows without a visible key as Masked). Key visibility and mask become key ranges and
/// Ball masks over the selected rows (the alignment of the diagonal refers to the full Lq,
/// which a row subset would lose).
void enclose_rows_in_balls(const ConstMatrixView<double>& Q, const ConstMatrixView<double>& K,
                           const ConstMatrixView<double>& V, const MidpointRadiusOptions& options,
                           const std::vector<Index>& requested, RowTier tier, HeadSlot slot) {
  const Index Lq = Q.rows(), Lk = K.rows(), d = Q.cols(), dv = V.cols();
  std::vector<Index> rows;
  for (Index i : requested) {
    if (has_visible_key(i, Lq, Lk, options)) {
      rows.push_back(i);
    } else {
      slot.set_masked(i);
    }
  }
  if (rows.empty()) return;
  const long prec = options.fallback_precision_bits;
  const Index n = static_cast<Index>(rows.size());
  auto visible = [&](Index i) { return options.keys.range(i, Lq, Lk); };
  Index keys = 0;  // keys [0, keys) hold every key any of the rows sees
  for (Index i : rows) keys = std::max(keys, visible(i).end);
  RowMatrix<Ball> kb(keys, d), vb(keys, dv);
  for (Index j = 0; j < keys; ++j) {
    for (Index k = 0; k < d; ++k) kb(j, k) = Ball(K(j, k), prec);
    for (Index k = 0; k < dv; ++k) vb(j, k) = Ball(V(j, k), prec);
  }
  SoftmaxAttentionOptions<Ball> ball_options;
  if (options.scale) ball_options.scale = Ball(*options.scale);
  ball_options.temperature = Ball(options.temperature);
  ball_options.precision_bits = prec;
  if (options.softcap) ball_options.softcap = Ball(*options.softcap);
  // Batches of rows, each against the key range [k_lo, k_hi) its rows see; a Ball mask only
  // where rows of a batch see different ranges or a mask was given.
  constexpr Index kBatch = 32;
  for (Index b0 = 0; b0 < n; b0 += kBatch) {
    const Index nb = std::min(kBatch, n - b0);
    Index k_lo = keys, k_hi = 0;
    for (Index r = 0; r < nb; ++r) {
      const KeyRange v = visible(rows[b0 + r]);  // not empty: the row has a visible key
      k_lo = std::min(k_lo, v.begin);
      k_hi = std::max(k_hi, v.end);
    }
    bool ragged = false;
    for (Index r = 0; r < nb; ++r) {
      const KeyRange v = visible(rows[b0 + r]);
      ragged |= v.begin != k_lo || v.end != k_hi;
    }
    const Index kv = k_hi - k_lo;
    RowMatrix<Ball> qb(nb, d), mask;
    for (Index r = 0; r < nb; ++r)
      for (Index k = 0; k < d; ++k) qb(r, k) = Ball(Q(rows[b0 + r], k), prec);
    ball_options.mask.reset();
    if (ragged || options.mask) {
      mask.resize(nb, kv);
      for (Index r = 0; r < nb; ++r) {
        const Index i = rows[b0 + r];
        const KeyRange v = visible(i);
        for (Index j = 0; j < kv; ++j) {
          mask(r, j) = !v.contains(k_lo + j) ? Ball(-kInf)
                       : options.mask        ? Ball((*options.mask)(i, k_lo + j))
                                             : Ball(0);
        }
      }
      ball_options.set_mask(mask);
    }
    const SoftmaxAttentionResult<Ball> res = softmax_attention<Ball>(
        const_view(qb), ConstMatrixView<Ball>(kb.data() + k_lo * d, kv, d, ViewStride(d, 1)),
        ConstMatrixView<Ball>(vb.data() + k_lo * dv, kv, dv, ViewStride(dv, 1)), ball_options);
    for (Index r = 0; r < nb; ++r) {
      const Index i = rows[b0 + r];
      double* mid = slot.mid(i);
      double* rad = slot.rad(i);
      for (Index k = 0; k < dv; ++k) ball_to_mid_rad(res.output(r, k).arb(), mid[k], rad[k]);
      const std::size_t flat = slot.row(i);
      ball_to_mid_rad(res.log_sum_exp(r).arb(), slot.enc->lse_mid[flat], slot.enc->lse_rad[flat]);
      slot.enc->row_tier[flat] = tier;
    }
  }
}

/// Logit products are summed over head-dim chunks of this many columns (1). Measured at
/// (4096, 4096, 128): 32 gives radius / max|O| 3.4e-13 for ~8% more time than 64 (5.5e-13).
constexpr Index kLogitChunk = 32;
/// Weights and value products are summed over key chunks of this many keys (6).
constexpr Index kKeyChunk = 64;

/// Per-call constants of the derivation (all upper bounds, see the header comment).
struct Constants {
  double c_hat;       // ĉ
  double a1, a2, a3;  // θ coefficients of Â, |Ŝ|, |t| (and |ŝ| with a mask), inflated;
                      // a1 before the scale 2^{e_i+e_K} of the float Â
  double eta_theta;   // η_θ without its Â part, inflated, plus 2⁻¹⁰⁷⁰
  double eps_exp;     // ε_e
  double abs_c_plus;  // |ĉ| + δc
  double d;

  /// The constants of query row i, whose float Â carries the scale 2^{e}, e = e_i + e_K:
  /// a1·2^e (at least DBL_MIN, so that an underflow cannot drop the term; ∞ beyond double's
  /// range, which sends the row to balls) and η_θ + a1·2^e·d·2⁻¹⁴⁹.
  Constants for_row(int e) const {
    Constants r = *this;
    r.a1 = up(std::max(std::ldexp(a1, e), std::numeric_limits<double>::min()));
    r.eta_theta = up(eta_theta + r.a1 * d * 0x1p-149);
    return r;
  }
};

Constants make_constants(Index d, const MidpointRadiusOptions& options) {
  Constants k{};
  k.c_hat = options.scale ? *options.scale / options.temperature
                          : (1.0 / std::sqrt(static_cast<double>(d))) / options.temperature;
  const double abs_c = std::abs(k.c_hat);
  const double delta_c = up(4 * kU * abs_c + 0x1p-1074);
  // (1): roundings per product term: d in one GEMM, or kLogitChunk within a chunk plus one
  // per later chunk. γ_n ≤ n·u(1 + 2n·u); the float bound's factor 1 + 2d·u_f.
  const Index chunks = (d + kLogitChunk - 1) / kLogitChunk;
  const double n = static_cast<double>(chunks == 1 ? d : kLogitChunk + chunks - 1);
  const double gamma_n = n * kU * (1 + 2 * n * kU);
  k.abs_c_plus = abs_c + delta_c;
  k.a1 = up(k.abs_c_plus * gamma_n * (1 + 2 * static_cast<double>(d) * 0x1p-24));
  k.a2 = delta_c;
  k.a3 = up(kU);
  k.eta_theta = up(k.abs_c_plus * (static_cast<double>(d) * 0x1p-1074) + 0x1p-1074 + 0x1p-1070);
  k.d = static_cast<double>(d);
  k.eps_exp = kBoundedExpRelativeError;
  return k;
}

/// θ̂ of (3) without the mask's u|ŝ| (Lanes in logits_lanes spell out the same expression).
inline double theta(float a_hat, double s_hat, double t, const Constants& k) {
  return k.a1 * a_hat + k.a2 * std::abs(s_hat) + k.a3 * std::abs(t) + k.eta_theta;
}

/// (3) for one row with a mask: ŝ_j = fl(fl(ĉ·Ŝ_j) + M_j) into s and θ̂_j into a (from the
/// float Â_j in a_hat), with Ŝ_j = s[j], or fl(s[j] + last[j]) when the last head-dim chunk is
/// still separate. m and θmax over the unmasked keys. False when some θ̂ exceeds the limit or is
/// not finite.
bool logits_row_masked(double* s, const double* last, const float* a_hat, double* a,
                       const double* mask, Index mstride, Index vis, const Constants& k, double& m,
                       double& theta_max) {
  bool ok = true;
  for (Index j = 0; j < vis; ++j) {
    const double mj = mask[j * mstride];
    if (mj == -kInf) {
      s[j] = -kInf;
      a[j] = 0.0;
      continue;
    }
    const double sj = last ? s[j] + last[j] : s[j];
    const double t = k.c_hat * sj;
    const double x = t + mj;
    const double th = theta(a_hat[j], sj, t, k) + k.a3 * std::abs(x);
    s[j] = x;
    a[j] = th;
    m = std::max(m, x);
    theta_max = std::max(theta_max, th);
    ok &= th <= kThetaLimit;  // false for NaN and ∞
  }
  return ok;
}

/// (3b) Constants of the softcap step.
struct Softcap {
  double cap;       // C (exact, finite, > 0)
  double err_exp;   // ≥ 2ε_e + 3.01u: the error of tanh by bounded_exp's formula
  double abs_term;  // ≥ C·(η + 2e^U) + η + the underflows of evaluating θ̂ (≤ C·2⁻¹⁰⁰⁰ + 2⁻¹⁰⁶⁸)
};
/// Below this |ŷ|, tanh ŷ is taken as ŷ (error ≤ |ŷ|³/3 ≤ 2⁻³²|ŷ|/3).
constexpr double kTanhSeriesLimit = 0x1p-16;
/// 1/3 rounded up.
constexpr double kThirdUp = 0x1.5555555555556p-2;

Softcap make_softcap(double cap) {
  return {cap, up(2 * kBoundedExpRelativeError + 4 * kU), up(cap * 0x1p-1000) + 0x1p-1068};
}

/// (3b) for one row with softcap (and a mask if `mask` is not null): ŝ_j = fl(C·T̂_j) [+ M_j]
/// into s and θ̂_j into a; m and θmax over the unmasked keys. `scratch` holds the exponentials.
/// False when some θ̂ exceeds the limit or is not finite.
bool logits_row_capped(double* s, const double* last, const float* a_hat, double* a,
                       const double* mask, Index mstride, Index n, const Constants& k,
                       const Softcap& cap, std::vector<double>& scratch, double& m,
                       double& theta_max) {
  scratch.resize(static_cast<std::size_t>(n));
  double* e = scratch.data();
  auto masked = [&](Index j) { return mask && mask[j * mstride] == -kInf; };
  for (Index j = 0; j < n; ++j) {
    if (masked(j)) {
      s[j] = -kInf;
      a[j] = 0.0;
      e[j] = -kInf;
      continue;
    }
    const double sj = last ? s[j] + last[j] : s[j];
    const double t = k.c_hat * sj;
    a[j] = theta(a_hat[j], sj, t, k);  // θ_t of (3) for t
    s[j] = t / cap.cap;                // ŷ
    e[j] = -2 * std::abs(s[j]);        // exact (or −inf: ê = 0, as e^{−2|ŷ|} < e^U)
  }
  bounded_exp(e, 0.0, e, static_cast<std::size_t>(n));
  bool ok = true;
  for (Index j = 0; j < n; ++j) {
    if (masked(j)) continue;
    const double y = s[j], ay = std::abs(y);
    double tanh_abs, err;
    if (ay <= kTanhSeriesLimit) {
      tanh_abs = ay;
      err = ay * ay * ay * kThirdUp;
    } else {
      tanh_abs = (1 - e[j]) / (1 + e[j]);
      err = cap.err_exp;
    }
    const double capped = cap.cap * std::copysign(tanh_abs, y);
    const double x = mask ? capped + mask[j * mstride] : capped;
    const double th = up(a[j] + cap.cap * (kU * ay + err) + kU * std::abs(capped) +
                         (mask ? kU * std::abs(x) : 0.0)) +
                      cap.abs_term;
    s[j] = x;
    a[j] = th;
    m = std::max(m, x);
    theta_max = std::max(theta_max, th);
    ok &= th <= kThetaLimit;  // false for NaN and ∞
  }
  return ok;
}

// The unmasked row passes, in 8-lane vectors (GCC vector extensions) so that each CPU clone
// (cpu_dispatch.hpp) runs them at its width. Lane order only changes the order of sums, which
// the bounds of (6) allow.
using Lanes = DoubleLanes;  // cpu_dispatch.hpp
constexpr Index kLanes = kDoubleLanes;

// Loads and stores through memcpy (unaligned), written out (see DoubleLanes).
#define ATTNCERT_LOAD(x, p) std::memcpy(&(x), (p), sizeof(Lanes))
#define ATTNCERT_STORE(p, x) std::memcpy((p), &(x), sizeof(Lanes))

struct LogitScan {
  double m, theta_max;
  bool ok;  // every θ̂ finite and ≤ kThetaLimit
};

/// (3) for one row without a mask (see logits_row_masked).
template <bool kLastChunk>
[[gnu::always_inline]] inline LogitScan logits_lanes(double* s, const double* last,
                                                     const float* a_hat, double* a, Index n,
                                                     const Constants& k) {
  const Lanes c = Lanes{} + k.c_hat, a1 = Lanes{} + k.a1, a2 = Lanes{} + k.a2, a3 = Lanes{} + k.a3,
              eta = Lanes{} + k.eta_theta;
  Lanes mv = Lanes{} - kInf, tv = {}, nonfinite = {};
  Index j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    Lanes sj;
    ATTNCERT_LOAD(sj, s + j);
    if constexpr (kLastChunk) {
      Lanes lj;
      ATTNCERT_LOAD(lj, last + j);
      sj += lj;
    }
    FloatLanes af;
    std::memcpy(&af, a_hat + j, sizeof af);
    const Lanes aj = __builtin_convertvector(af, Lanes);  // exact
    const Lanes t = c * sj;
    const Lanes th = a1 * aj + a2 * (sj < 0 ? -sj : sj) + a3 * (t < 0 ? -t : t) + eta;  // theta()
    ATTNCERT_STORE(s + j, t);
    ATTNCERT_STORE(a + j, th);
    mv = t > mv ? t : mv;
    tv = th > tv ? th : tv;
    nonfinite += th - th;  // NaN once some θ̂ is ∞ or NaN
  }
  LogitScan r{-kInf, 0.0, true};
  double z = 0.0;
  for (; j < n; ++j) {
    const double sj = kLastChunk ? s[j] + last[j] : s[j];
    const double t = k.c_hat * sj;
    const double th = theta(a_hat[j], sj, t, k);
    s[j] = t;
    a[j] = th;
    r.m = t > r.m ? t : r.m;
    r.theta_max = th > r.theta_max ? th : r.theta_max;
    z += th - th;
  }
  for (Index l = 0; l < kLanes; ++l) {
    r.m = mv[l] > r.m ? mv[l] : r.m;
    r.theta_max = tv[l] > r.theta_max ? tv[l] : r.theta_max;
    z += nonfinite[l];
  }
  r.ok = z == 0 && r.theta_max <= kThetaLimit;
  return r;
}

ATTNCERT_CPU_CLONES LogitScan logits_row(double* s, const double* last, const float* a_hat,
                                         double* a, Index n, const Constants& k) {
  return last ? logits_lanes<true>(s, last, a_hat, a, n, k)
              : logits_lanes<false>(s, last, a_hat, a, n, k);
}

/// (3a) for a row some of whose θ̂ exceed the limit (s holds ŝ, a holds θ̂, m = max ŝ finite):
/// a key whose logit is certainly below m + 2U (x̂ = fl(ŝ_j − m) finite, x̂ ≤ 4U and
/// θ̂_j ≤ −x̂/4) gets ŵ_j = 0 (ŝ_j = −inf) and θ̂_j = 0; every other key must have θ̂_j ≤ the
/// limit. theta_max becomes the maximum over the keys kept. False when some kept θ̂ exceeds the
/// limit or is not finite.
bool drop_far_keys(double* s, double* a, Index n, double m, double& theta_max) {
  const double far_below = 4 * kBoundedExpUnderflow;  // ≤ −2800
  theta_max = 0.0;
  for (Index j = 0; j < n; ++j) {
    const double th = a[j];
    if (th <= kThetaLimit) {
      theta_max = std::max(theta_max, th);
      continue;
    }
    const double x = s[j] - m;
    // x finite: −x/4 is then exact (|x| ≥ 2800) and finite, so th ≤ −x/4 also makes th finite.
    if (std::isfinite(x) && x <= far_below && th <= -0.25 * x) {
      s[j] = -kInf;
      a[j] = 0.0;
      continue;
    }
    return false;  // also for a NaN θ̂ or ŝ
  }
  return true;
}

struct WeightSums {
  double sigma, g_sum;  // σ̂ and Σ_j G_j
};

/// (4)/(7) for one row: G_j = ŵ_j·(θ̂_j(1 + θ̂_j)·c1 + c0) into a (which held θ̂), and σ̂, ΣG
/// summed by key chunks of kKeyChunk and groups of `group_keys` keys (6).
ATTNCERT_CPU_CLONES WeightSums weights_row(const double* w, double* a, Index n, Index group_keys,
                                           double c1, double c0) {
  const Lanes c1v = Lanes{} + c1, c0v = Lanes{} + c0;
  WeightSums total{0.0, 0.0};
  for (Index g0 = 0; g0 < n; g0 += group_keys) {
    WeightSums group{0.0, 0.0};
    for (Index j0 = g0; j0 < std::min(n, g0 + group_keys); j0 += kKeyChunk) {
      const Index j1 = std::min(n, j0 + kKeyChunk);
      Lanes wv = {}, gv = {};
      Index j = j0;
      for (; j + kLanes <= j1; j += kLanes) {
        Lanes th, x;
        ATTNCERT_LOAD(th, a + j);
        ATTNCERT_LOAD(x, w + j);
        const Lanes gj = x * ((th * (1 + th)) * c1v + c0v);
        ATTNCERT_STORE(a + j, gj);
        wv += x;
        gv += gj;
      }
      WeightSums chunk{0.0, 0.0};
      for (; j < j1; ++j) {
        const double gj = w[j] * ((a[j] * (1 + a[j])) * c1 + c0);
        a[j] = gj;
        chunk.sigma += w[j];
        chunk.g_sum += gj;
      }
      for (Index l = 0; l < kLanes; ++l) {
        chunk.sigma += wv[l];
        chunk.g_sum += gv[l];
      }
      group.sigma += chunk.sigma;
      group.g_sum += chunk.g_sum;
    }
    total.sigma += group.sigma;
    total.g_sum += group.g_sum;
  }
  return total;
}

#undef ATTNCERT_LOAD
#undef ATTNCERT_STORE

/// Scratch buffers of one head, reused across blocks (block × Lk each, never Lq × Lk).
struct Workspace {
  RowMatrix<float> q_up, k_up, a_hat;  // (1): scaled |Q|, |K| rounded up; Â
  int k_exponent = 0;                  // e_K
  std::vector<int> q_exponent;         // e_i of the block's rows
  Mat v_abs, s, t, a, o_acc, o_group, o_chunk, r;
  std::vector<double> v_max, sigma, g_sum, theta_max, row_max, tau;
  std::vector<double> cap;  // (3b) exponentials of one row
  std::vector<char> row_ok;
};

/// The exponent e with max_abs·2^−e < 1 (0 when max_abs is 0).
int exponent_above(double max_abs) { return max_abs > 0 ? std::ilogb(max_abs) + 1 : 0; }

/// A float ≥ |x|·2^−e, for |x|·2^−e < 1. Below float's smallest subnormal 2⁻¹⁴⁹ it is 2⁻¹⁴⁹
/// (or 0 for x = 0): ldexp is exact above 2⁻¹⁰²², and rounding to nearest keeps a value
/// ≥ 2⁻¹⁴⁹ at or above it.
float scaled_float_above(double x, int e) {
  const double y = std::ldexp(std::abs(x), -e);
  if (y < 0x1p-149) return x == 0 ? 0.0f : 0x1p-149f;
  const float f = static_cast<float>(y);
  return static_cast<double>(f) < y ? std::nextafter(f, std::numeric_limits<float>::infinity()) : f;
}

/// The double pass for one head. Rows it cannot enclose are collected in `fallback`.
void double_head(const ConstMatrixView<double>& Q, const ConstMatrixView<double>& K,
                 const ConstMatrixView<double>& V, const MidpointRadiusOptions& options,
                 const Constants& kc0, bool new_kv_head, Workspace& ws, HeadSlot slot,
                 std::vector<Index>& fallback) {
  const Index Lq = Q.rows(), Lk = K.rows(), d = Q.cols(), dv = V.cols();
  AttentionEnclosure& enc = *slot.enc;
  if (new_kv_head) {
    // (1): K as one block, scaled by its largest entry's exponent.
    ws.k_up.resize(Lk, d);
    ws.k_exponent = exponent_above(K.cwiseAbs().maxCoeff());
    for (Index j = 0; j < Lk; ++j)
      for (Index k = 0; k < d; ++k) ws.k_up(j, k) = scaled_float_above(K(j, k), ws.k_exponent);
    ws.v_abs = V.cwiseAbs();
    ws.v_max.assign(static_cast<std::size_t>(dv), 0.0);
    for (Index j = 0; j < Lk; ++j)
      for (Index c = 0; c < dv; ++c) ws.v_max[c] = std::max(ws.v_max[c], ws.v_abs(j, c));
    ws.tau.resize(static_cast<std::size_t>(dv));
    for (Index c = 0; c < dv; ++c) {
      // (8): 2⁻¹⁰⁰⁰·Lk exact, 2⁻¹⁰⁶⁶·Lk exact (a multiple of 2⁻¹⁰⁶⁶ below 2⁻¹⁰⁴⁴).
      ws.tau[c] = 0x1p-1000 * static_cast<double>(Lk) * ws.v_max[c] +
                  0x1p-1066 * static_cast<double>(Lk);
    }
  }
  const bool masked_input = options.mask.has_value();
  std::optional<Softcap> softcap;
  if (options.softcap) softcap = make_softcap(*options.softcap);
  const double mu = 1 + 0x1p-20;

  // Rows per block: 128, unless that would hold more than 2²⁴ logits (128 MiB) per buffer.
  // Fewer rows cost time: BLIS repacks the key chunk for every block (at Lq = Lk = 32768,
  // d = 128: 75 s of CPU with 32 rows, 42 s with 128, one run after the other).
  const Index block = std::clamp<Index>((Index{1} << 24) / Lk, 8, 128);
  const Index bmax = std::min(block, Lq);
  ws.s.resize(bmax, Lk);
  ws.a.resize(bmax, Lk);
  const Index d_chunks = (d + kLogitChunk - 1) / kLogitChunk;
  if (d_chunks > 1) ws.t.resize(bmax, Lk);
  ws.q_up.resize(bmax, d);
  ws.a_hat.resize(bmax, Lk);
  ws.q_exponent.resize(static_cast<std::size_t>(bmax));
  ws.o_acc.resize(bmax, dv);
  ws.o_group.resize(bmax, dv);
  ws.o_chunk.resize(bmax, dv);
  ws.r.resize(bmax, dv);
  for (auto* v : {&ws.sigma, &ws.g_sum, &ws.theta_max, &ws.row_max}) {
    v->assign(static_cast<std::size_t>(bmax), 0.0);
  }
  ws.row_ok.assign(static_cast<std::size_t>(bmax), 0);

  for (Index r0 = 0; r0 < Lq; r0 += block) {
    const Index nb = std::min(block, Lq - r0);
    // Keys some row of the block sees: [kb, kb + kw) (ranges only move right as the row grows,
    // key_visibility.hpp). Columns of S, A, Â below are keys from kb on.
    const Index kend = options.keys.range(r0 + nb - 1, Lq, Lk).end;
    const Index kb = std::min(options.keys.range(r0, Lq, Lk).begin, kend);
    const Index kv = kend - kb;
    std::fill(ws.row_ok.begin(), ws.row_ok.end(), 0);
    if (kv == 0) {  // every row of the block sees no key
      for (Index i = 0; i < nb; ++i) slot.set_masked(r0 + i);
      continue;
    }
    // Key chunks and groups of chunks for σ̂ and N̂ (6).
    const Index n_chunks = (kv + kKeyChunk - 1) / kKeyChunk;
    const Index group = static_cast<Index>(std::ceil(std::sqrt(static_cast<double>(n_chunks))));
    const Index n_groups = (n_chunks + group - 1) / group;
    const Index group_keys = group * kKeyChunk;
    const double gamma_chunks = gamma_bound(static_cast<double>(kKeyChunk + group + n_groups));
    const double g = up(2 * gamma_chunks);
    // φ̂ = θ̂(1 + θ̂)·c1 + c0,  c1 ≥ 1 + 2ε_e,  c0 ≥ ε_e(1 + 2ε_e) + γ_PV.
    const double c1 = up(1 + 2 * kc0.eps_exp);
    const double c0 = up(kc0.eps_exp * (1 + 2 * kc0.eps_exp) + gamma_chunks);
    const double lambda_factor = up((1 + kc0.eps_exp) * (1 + gamma_chunks));

    {
      auto S = ws.s.topLeftCorner(nb, kv);
      auto A = ws.a.topLeftCorner(nb, kv);
      auto Qb = Q.middleRows(r0, nb);
      // (1): Ŝ by head-dim chunks; the last chunk is added in the logit pass.
      auto T = ws.t.topLeftCorner(nb, kv);
      for (Index c = 0; c < d_chunks; ++c) {
        const Index c0 = c * kLogitChunk, w = std::min(kLogitChunk, d - c0);
        blas::gemm(1.0, Qb.middleCols(c0, w), K.middleRows(kb, kv).middleCols(c0, w).transpose(),
                   0.0, c == 0 ? S : T);
        if (c > 0 && c + 1 < d_chunks) S += T;
      }
      // (1): Â in float, each query row scaled on its own.
      for (Index i = 0; i < nb; ++i) {
        ws.q_exponent[i] = exponent_above(Qb.row(i).cwiseAbs().maxCoeff());
        for (Index k = 0; k < d; ++k)
          ws.q_up(i, k) = scaled_float_above(Qb(i, k), ws.q_exponent[i]);
      }
      auto Ahat = ws.a_hat.topLeftCorner(nb, kv);
      blas::gemm(1.0f, ws.q_up.topRows(nb), ws.k_up.middleRows(kb, kv).transpose(), 0.0f, Ahat);

      for (Index i = 0; i < nb; ++i) {
        const Index row = r0 + i;
        // The row's keys [lo, hi) among the block's columns; s, a, a_hat start at lo.
        const KeyRange keys = options.keys.range(row, Lq, Lk);
        const Index lo = std::clamp<Index>(keys.begin - kb, 0, kv);
        const Index hi = std::clamp<Index>(keys.end - kb, lo, kv);
        const Index vis = hi - lo;
        double* const s_row = S.row(i).data();
        double* const a_row = A.row(i).data();
        double* s = s_row + lo;
        double* a = a_row + lo;
        const float* a_hat = Ahat.row(i).data() + lo;
        const Constants kr = kc0.for_row(ws.q_exponent[i] + ws.k_exponent);
        // (3): logits and their error bounds θ̂ into a.
        double m = -kInf, theta_max = 0.0;
        const double* last = d_chunks > 1 ? T.row(i).data() + lo : nullptr;
        bool ok = true;
        const double* mrow = nullptr;
        Index mstride = 0;
        if (masked_input) {
          mrow = options.mask->data() + row * options.mask->rowStride() +
                 keys.begin * options.mask->colStride();
          mstride = options.mask->colStride();
        }
        if (softcap) {
          ok = logits_row_capped(s, last, a_hat, a, mrow, mstride, vis, kr, *softcap, ws.cap, m,
                                 theta_max);
        } else if (masked_input) {
          ok = logits_row_masked(s, last, a_hat, a, mrow, mstride, vis, kr, m, theta_max);
        } else {
          const LogitScan scan = logits_row(s, last, a_hat, a, vis, kr);
          m = scan.m, theta_max = scan.theta_max, ok = scan.ok;
        }
        // (3a): keys whose weights certainly underflow (large finite mask entries) leave the
        // θ̂ test; m stays the maximum over all keys (its key is never one of them).
        if (!ok && std::isfinite(m)) ok = drop_far_keys(s, a, vis, m, theta_max);
        std::fill_n(s_row, lo, 0.0);
        std::fill_n(a_row, lo, 0.0);
        std::fill(s_row + hi, s_row + kv, 0.0);
        std::fill(a_row + hi, a_row + kv, 0.0);
        if (m == -kInf && ok) {  // no visible key
          slot.set_masked(row);
          std::fill_n(s_row, kv, 0.0);
          continue;
        }
        if (!ok || !std::isfinite(m)) {
          fallback.push_back(row);
          std::fill_n(s_row, kv, 0.0);
          std::fill_n(a_row, kv, 0.0);
          continue;
        }
        // (4): weights (masked pairs: ŝ = −inf gives ŵ = 0 exactly).
        bounded_exp(s, m, s, static_cast<std::size_t>(vis));
        const WeightSums sums = weights_row(s, a, vis, group_keys, c1, c0);
        ws.sigma[i] = sums.sigma;
        ws.g_sum[i] = sums.g_sum;
        ws.theta_max[i] = theta_max;
        ws.row_max[i] = m;
        ws.row_ok[i] = 1;
      }

      // (6): N̂ by key chunks, accumulated here; (7): R = G|V| in one GEMM.
      auto O = ws.o_acc.topRows(nb);
      auto Og = ws.o_group.topRows(nb);
      auto Oc = ws.o_chunk.topRows(nb);
      for (Index g0 = 0; g0 < kv; g0 += group_keys) {
        for (Index j0 = g0; j0 < std::min(kv, g0 + group_keys); j0 += kKeyChunk) {
          const Index w = std::min(kKeyChunk, kv - j0);
          blas::gemm(1.0, S.middleCols(j0, w), V.middleRows(kb + j0, w), 0.0, j0 == g0 ? Og : Oc);
          if (j0 != g0) Og += Oc;
        }
        if (g0 == 0) {
          O = Og;
        } else {
          O += Og;
        }
      }
      auto R = ws.r.topRows(nb);
      blas::gemm(1.0, A, ws.v_abs.middleRows(kb, kv), 0.0, R);
    }

    for (Index i = 0; i < nb; ++i) {
      if (!ws.row_ok[i]) continue;
      const Index row = r0 + i;
      const std::size_t flat = slot.row(row);
      const double sigma = ws.sigma[i];
      const double th = ws.theta_max[i];
      // λ ≥ e^{θmax}(1 + ε_e)(1 + γ_σ), via e^θ ≤ 1 + θ(1 + θ).
      const double lambda = up((1 + th * (1 + th)) * lambda_factor);
      const double lam_over_sigma = lambda / sigma;
      const double sg = lam_over_sigma * ws.g_sum[i];
      double* mid = slot.mid(row);
      double* rad = slot.rad(row);
      bool finite = true;
      for (Index c = 0; c < dv; ++c) {
        const double o = ws.o_acc(i, c) / sigma;
        const double ao = std::abs(o);
        const double p = lam_over_sigma * ws.r(i, c);
        // ao + u·ao, not ao·(1 + u): 1 + 2⁻⁵³ rounds to 1 (μ's slack would cover it anyway).
        const double x = std::min((ao + kU * ao + p) * (1 + 2 * g), ws.v_max[c]);
        const double r = kU * ao + p + (g + sg) * x;
        mid[c] = o;
        rad[c] = r * mu + ws.tau[c];
        finite &= std::isfinite(rad[c]);  // false also when o is not finite
      }
      if (!finite) {  // a value product beyond double's range
        fallback.push_back(row);
        continue;
      }
      // (9): lse in Arb.
      arb_handles::ArbHandle lse;
      arb_handles::ArfHandle err;
      arb_set_d(lse, sigma);
      arb_log(lse, lse, 80);
      {
        arb_handles::ArbHandle mb;
        arb_set_d(mb, ws.row_max[i]);
        arb_add(lse, lse, mb, 80);
      }
      const double lse_err =
          up(th + 2 * kc0.eps_exp + 2 * gamma_chunks + static_cast<double>(Lk) * 0x1p-1000);
      arf_set_d(err, lse_err);
      arb_add_error_arf(lse, err);
      ball_to_mid_rad(lse, enc.lse_mid[flat], enc.lse_rad[flat]);
      enc.row_tier[flat] = RowTier::Double;
    }
  }
}

}  // namespace

std::size_t AttentionEnclosure::count(RowTier tier) const {
  return static_cast<std::size_t>(std::count(row_tier.begin(), row_tier.end(), tier));
}

double AttentionEnclosure::largest_relative_radius() const {
  const std::size_t dv = static_cast<std::size_t>(shape[3]);
  double rad = 0.0, big = 0.0;
  for (std::size_t r = 0; r < row_tier.size(); ++r) {
    if (row_tier[r] == RowTier::Masked) continue;
    for (std::size_t c = 0; c < dv; ++c) {
      rad = std::max(rad, output_rad[r * dv + c]);
      big = std::max(big, std::abs(output_mid[r * dv + c]));
    }
  }
  if (rad == 0.0) return 0.0;
  return big > 0 ? rad / big : kInf;
}

AttentionEnclosure midpoint_radius_attention(const Tensor4View<const double>& Q,
                                             const Tensor4View<const double>& K,
                                             const Tensor4View<const double>& V,
                                             const MidpointRadiusOptions& options) {
  validate(Q, K, V, options);
  require_default_fp_environment();
  if (!(kBoundedExpUnderflow <= -700)) {
    throw std::logic_error(fmt::format("{}: (4) needs kBoundedExpUnderflow <= -700, it is {}", kWho,
                                       kBoundedExpUnderflow));
  }
  AttentionEnclosure enc;
  enc.shape = {Q.batch(), Q.heads(), Q.length(), V.dim()};
  const std::size_t rows = static_cast<std::size_t>(Q.batch() * Q.heads() * Q.length());
  enc.output_mid.assign(rows * static_cast<std::size_t>(V.dim()), 0.0);
  enc.output_rad.assign(rows * static_cast<std::size_t>(V.dim()), 0.0);
  enc.lse_mid.assign(rows, 0.0);
  enc.lse_rad.assign(rows, 0.0);
  enc.row_tier.assign(rows, RowTier::Double);

  const Constants constants = make_constants(Q.dim(), options);
  const bool c_finite = std::isfinite(constants.c_hat);
  const Index group = Q.heads() / K.heads();
  Workspace ws;
  std::vector<Index> fallback;
  for (Index b = 0; b < Q.batch(); ++b) {
    for (Index h = 0; h < Q.heads(); ++h) {
      const auto Qh = Q.const_head(b, h);
      const auto Kh = K.const_head(b, h / group);
      const auto Vh = V.const_head(b, h / group);
      HeadSlot slot{&enc, b, h};
      fallback.clear();
      if (c_finite) {
        double_head(Qh, Kh, Vh, options, constants, h % group == 0, ws, slot, fallback);
      } else {  // ĉ overflowed: every row with a visible key needs balls
        for (Index i = 0; i < Q.length(); ++i) fallback.push_back(i);
      }
      enclose_rows_in_balls(Qh, Kh, Vh, options, fallback, RowTier::BallOutOfRange, slot);
    }
  }
  return enc;
}

AttentionEnclosure midpoint_radius_attention(const RowMatrix<double>& Q, const RowMatrix<double>& K,
                                             const RowMatrix<double>& V,
                                             const MidpointRadiusOptions& options) {
  auto view = [](const RowMatrix<double>& m) {
    if (m.size() == 0) {
      throw std::invalid_argument(fmt::format(
          "{}: empty input ({}×{}); every dimension must be >= 1", kWho, m.rows(), m.cols()));
    }
    return Tensor4View<const double>(m.data(), 1, 1, m.rows(), m.cols());
  };
  return midpoint_radius_attention(view(Q), view(K), view(V), options);
}

void refine_rows_in_balls(const Tensor4View<const double>& Q, const Tensor4View<const double>& K,
                          const Tensor4View<const double>& V, const MidpointRadiusOptions& options,
                          std::span<const std::size_t> rows, AttentionEnclosure& enclosure) {
  validate(Q, K, V, options);
  const std::array<std::ptrdiff_t, 4> expected{Q.batch(), Q.heads(), Q.length(), V.dim()};
  if (enclosure.shape != expected ||
      enclosure.row_tier.size() != static_cast<std::size_t>(Q.batch() * Q.heads() * Q.length())) {
    throw std::invalid_argument(fmt::format(
        "refine_rows_in_balls: the enclosure is ({}, {}, {}, {}) but Q, V give ({}, {}, {}, {})",
        enclosure.shape[0], enclosure.shape[1], enclosure.shape[2], enclosure.shape[3], expected[0],
        expected[1], expected[2], expected[3]));
  }
  const std::size_t n_rows = enclosure.row_tier.size();
  std::vector<std::vector<Index>> per_head(static_cast<std::size_t>(Q.batch() * Q.heads()));
  for (std::size_t r : rows) {
    if (r >= n_rows) {
      throw std::invalid_argument(fmt::format(
          "refine_rows_in_balls: row {} is outside the enclosure's {} rows", r, n_rows));
    }
    if (enclosure.row_tier[r] == RowTier::Masked) continue;
    per_head[r / static_cast<std::size_t>(Q.length())].push_back(
        static_cast<Index>(r % static_cast<std::size_t>(Q.length())));
  }
  const Index group = Q.heads() / K.heads();
  for (Index b = 0; b < Q.batch(); ++b) {
    for (Index h = 0; h < Q.heads(); ++h) {
      auto& list = per_head[static_cast<std::size_t>(b * Q.heads() + h)];
      std::sort(list.begin(), list.end());
      list.erase(std::unique(list.begin(), list.end()), list.end());
      enclose_rows_in_balls(Q.const_head(b, h), K.const_head(b, h / group),
                            V.const_head(b, h / group), options, list, RowTier::BallRefined,
                            HeadSlot{&enclosure, b, h});
    }
  }
}

}  // namespace attncert
