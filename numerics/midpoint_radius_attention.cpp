// The fast enclosure tier (midpoint_radius_attention.hpp): softmax attention in double with an
// a-priori certified radius, rows it cannot enclose recomputed in Arb balls.
//
// ===== Derivation ===========================================================================
// Model. Round to nearest in double (checked at entry: FE_TONEAREST, no flush-to-zero or
// denormals-are-zero), u = 2⁻⁵³, η = 2⁻¹⁰⁷⁵ (half the smallest subnormal). Every ×, ÷, fma:
// fl(x) = x(1 + δ) + e with |δ| ≤ u, |e| ≤ η; every + and − : fl(x) = x(1 + δ) (exact when
// subnormal). Also |fl(x) − x| ≤ u·|fl(x)| + η. γ_n = n·u/(1 − n·u). Sizes are capped
// (Lk ≤ 2²⁴, d ≤ 2²⁰), so every n·u below is ≤ 2⁻²⁸ and 1/(1 − n·u) ≤ 1 + 2n·u.
//
// (1) Products. A dot product of n terms evaluated in *any* order, with or without fma
//     (which is all BLIS may do), puts at most n roundings on each term, so
//       |fl(xᵀy) − xᵀy| ≤ γ_n·|x|ᵀ|y| + n·η(1 + u)ⁿ,   fl(|x|ᵀ|y|) ≥ (1 − u)ⁿ|x|ᵀ|y| − n·η(1 + u)ⁿ.
//     Per block of query rows: Ŝ = fl(Q Kᵀ) and Â = fl(|Q||K|ᵀ) by blas::gemm. Hence with
//     κ_d ≥ γ_d/(1 − d·u):  |Ŝ − S| ≤ e1 := κ_d·Â + d·2⁻¹⁰⁷⁴.
// (2) Multiplier c = scale/T (exact real). ĉ = fl(scale/T), or for the default
//     ĉ = fl(fl(1/fl(√d))/T) (three correctly rounded operations, d ≥ 1 so no underflow before
//     the last): ĉ = c(1 + δ₂)(1 + δ₃)/(1 + δ₁) + e₃, so |ĉ − c| ≤ δc := 4u·|ĉ| + 2⁻¹⁰⁷⁴.
// (3) Logits s = c·S + M (M the additive mask). t = fl(ĉ·Ŝ), ŝ = fl(t + M):
//       |ŝ − s| ≤ u|ŝ| + (u|t| + η) + |ĉ|·e1 + δc·(|Ŝ| + e1) =: θ   (u|ŝ| only with a mask),
//     i.e. θ = a1·Â + a2·|Ŝ| + u|t| [+ u|ŝ|] + η_θ with a1 = (|ĉ| + δc)κ_d, a2 = δc,
//     η_θ = (|ĉ| + δc)·d·2⁻¹⁰⁷⁴ + η. The computed θ̂ uses constants inflated by 1 + 2⁻⁴⁰ and
//     η_θ + 2⁻¹⁰⁷⁰: with ≤ 7 roundings (deficit ≥ (1 − u)⁷) and ≤ 4 underflows (≤ 4η) it is
//     ≥ θ. Rows with θ̂ > 1/16 somewhere (or any non-finite Ŝ, Â, t, ŝ) go to Arb balls.
// (4) Weights. m = max_j ŝ_j (a double, exact), ŵ_j = bounded_exp(ŝ_j − m):
//     |ŵ − e^{ŝ−m}| ≤ ε_e·e^{ŝ−m} above kBoundedExpUnderflow (U), ŵ = 0 below (true
//     e^{ŝ−m} < e^U ≤ e^{−700} < 2⁻¹⁰⁰⁹; checked at run time). True weights (relative to e^m)
//     w_j = e^{s_j − m} = e^{ŝ_j − m}·e^{τ_j}, |τ_j| ≤ θ_j ≤ 1/16. For ŵ_j > 0:
//       |w_j − ŵ_j| ≤ e^{ŝ−m}(e^θ − 1 + ε_e) ≤ ŵ_j·φ_j,  φ_j = (θ_j(1 + θ_j) + ε_e)(1 + 2ε_e)
//     (e^θ − 1 ≤ θ(1 + θ) for θ ≤ 1); for ŵ_j = 0 (underflow): |w_j − ŵ_j| ≤ 2e^U.
//     Masked pairs have w = ŵ = 0 exactly.
// (5) Real arithmetic on the computed weights: σ = Σ ŵ_j, N = Σ ŵ_j v_j, O* = N/σ (a convex
//     combination, |O*| ≤ Vmax = max_j |v_j| per column), W = Σ w_j, exact O = Σ w_j v_j / W.
//     Because Σ ŵ_j (v_j − O*) = 0:   O − O* = Σ_j (w_j − ŵ_j)(v_j − O*) / W, so
//       |O − O*| ≤ [Σ_j ŵ_j φ_j (|v_j| + |O*|) + n_uf·2e^U·2Vmax] / W.
//     W ≥ σ·e^{−θmax}/(1 + ε_e) ≥ σ̂/λ with λ = e^{θmax}(1 + ε_e)(1 + γ_σ) (below).
// (6) Computed sums. Keys are taken in chunks of kc: σ̂ = fl(Σ_chunks fl(Σ_chunk ŵ)) and
//     N̂ = Σ_chunks blas::gemm(chunk) accumulated by our own additions, so every term gets at
//     most kc + #chunks roundings: |σ̂ − σ| ≤ γ_σ·σ, |N̂ − N| ≤ γ_PV·(Ŵ|V|) + Lk·2⁻¹⁰⁷⁴ with
//     γ_σ = γ_PV = γ_{kc + #chunks} (instead of BLAS's γ_{Lk}). Ô = fl(N̂/σ̂):
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
//     with μ = 1 + 2⁻²⁰ ≥ (1 − u)^{−K−2}, and τ = 2⁻¹⁰⁰⁰·Lk·(Vmax + 1), which dominates twice
//     every absolute term: the "tiny" terms of (6)–(7), the underflowed weights
//     (n_uf·2e^U·2Vmax·λ/σ̂ ≤ Lk·2⁻¹⁰⁰⁵·Vmax, as σ̂ ≥ 1/2), and the underflow losses of the
//     radius evaluation (≤ 2⁻¹⁰⁷⁰·Lk·(Vmax + 1)). Constants (κ_d, δc, λ's factors, …) are
//     evaluated with ≤ 10 roundings and multiplied by 1 + 2⁻⁴⁰ ("up"), which makes them upper
//     bounds of their real values.
// (9) lse = m + log W. From (4)–(6): σ̂/λ ≤ W ≤ σ̂·e^{θmax}(1 + 2ε_e)(1 + 2γ_σ) + Lk·2e^U, so
//     |log W − log σ̂| ≤ θ̂max + 2ε_e + 2γ_σ + Lk·2⁻¹⁰⁰⁸. log σ̂ and the sum with m are evaluated
//     in Arb (arb_log is a proven enclosure; glibc's log has only a documented, not a proven,
//     error) and the resulting ball is rounded outward to a double midpoint and radius.
// ============================================================================================
#include "numerics/midpoint_radius_attention.hpp"

#include <arb.h>
#include <fmt/format.h>

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include "numerics/arb_handles.hpp"
#include "numerics/ball.hpp"
#include "numerics/blas.hpp"
#include "numerics/bounded_exp.hpp"
#include "numerics/precision.hpp"
#include "numerics/softmax_attention.hpp"

namespace attncert {
namespace {

using Index = std::ptrdiff_t;
using Mat = RowMatrix<double>;
constexpr double kU = 0x1p-53;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kThetaLimit = 1.0 / 16;  // (4) needs θ ≤ 1
constexpr Index kMaxKeys = Index{1} << 24;
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
#if defined(__SSE__) || defined(__x86_64__)
  if ((_mm_getcsr() & 0x8040u) != 0) {  // FTZ (bit 15) or DAZ (bit 6)
    throw std::logic_error(
        fmt::format("{}: flush-to-zero or denormals-are-zero is set (MXCSR)", kWho));
  }
#endif
}

Index visible_keys(Index i, Index Lq, Index Lk, bool causal) {
  if (!causal) return Lk;
  return std::clamp<Index>(i + (Lk - Lq) + 1, 0, Lk);
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
        "{}: Q is {}, K is {}, V is {}: too large (at most 2^24 keys, head dim 2^20, 2^31 "
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
  require_precision(options.fallback_precision_bits,
                    "midpoint_radius_attention fallback_precision_bits");
  if (options.mask) {
    const auto& M = *options.mask;
    if (M.rows() != Q.length() || M.cols() != K.length()) {
      throw std::invalid_argument(fmt::format("{}: mask is {}×{} but must be Lq×Lk = {}×{}",
                                              kWho, M.rows(), M.cols(), Q.length(), K.length()));
    }
    for (Index i = 0; i < M.rows(); ++i)
      for (Index j = 0; j < M.cols(); ++j)
        if (std::isnan(M(i, j)) || M(i, j) == kInf) {
          throw std::domain_error(fmt::format(
              "{}: mask({}, {}) is {}; mask entries must be finite or exactly -inf", kWho, i, j,
              M(i, j)));
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

/// Whether query row i sees at least one key (causal and −inf mask entries hide keys).
bool has_visible_key(Index i, Index Lq, Index Lk, const MidpointRadiusOptions& options) {
  const Index vis = visible_keys(i, Lq, Lk, options.causal);
  if (!options.mask) return vis > 0;
  for (Index j = 0; j < vis; ++j)
    if ((*options.mask)(i, j) != -kInf) return true;
  return false;
}

/// Recomputes rows `rows` of one head with softmax_attention<Ball> and stores them as `tier`.
/// Causal and mask become one Ball mask over the selected rows (bottom-right alignment refers
/// to the full Lq, which a row subset would lose).
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
  RowMatrix<Ball> qb(n, d), kb(Lk, d), vb(Lk, dv);
  for (Index r = 0; r < n; ++r)
    for (Index k = 0; k < d; ++k) qb(r, k) = Ball(Q(rows[r], k), prec);
  for (Index j = 0; j < Lk; ++j) {
    for (Index k = 0; k < d; ++k) kb(j, k) = Ball(K(j, k), prec);
    for (Index k = 0; k < dv; ++k) vb(j, k) = Ball(V(j, k), prec);
  }
  SoftmaxAttentionOptions<Ball> ball_options;
  if (options.scale) ball_options.scale = Ball(*options.scale);
  ball_options.temperature = Ball(options.temperature);
  ball_options.precision_bits = prec;
  RowMatrix<Ball> mask;
  if (options.causal || options.mask) {
    mask.resize(n, Lk);
    for (Index r = 0; r < n; ++r) {
      const Index vis = visible_keys(rows[r], Lq, Lk, options.causal);
      for (Index j = 0; j < Lk; ++j) {
        mask(r, j) = j >= vis       ? Ball(-kInf)
                     : options.mask ? Ball((*options.mask)(rows[r], j))
                                    : Ball(0);
      }
    }
    ball_options.set_mask(mask);
  }
  const SoftmaxAttentionResult<Ball> res = softmax_attention<Ball>(qb, kb, vb, ball_options);
  for (Index r = 0; r < n; ++r) {
    const Index i = rows[r];
    double* mid = slot.mid(i);
    double* rad = slot.rad(i);
    for (Index k = 0; k < dv; ++k) ball_to_mid_rad(res.output(r, k).arb(), mid[k], rad[k]);
    const std::size_t flat = slot.row(i);
    ball_to_mid_rad(res.log_sum_exp(r).arb(), slot.enc->lse_mid[flat], slot.enc->lse_rad[flat]);
    slot.enc->row_tier[flat] = tier;
  }
}

/// Per-call constants of the derivation (all upper bounds, see the header comment).
struct Constants {
  double c_hat;        // ĉ
  double a1, a2, a3;   // θ coefficients of Â, |Ŝ|, |t| (and |ŝ| with a mask), inflated
  double eta_theta;    // η_θ, inflated, plus 2⁻¹⁰⁷⁰
  double eps_exp;      // ε_e
};

Constants make_constants(Index d, const MidpointRadiusOptions& options) {
  Constants k{};
  k.c_hat = options.scale ? *options.scale / options.temperature
                          : (1.0 / std::sqrt(static_cast<double>(d))) / options.temperature;
  const double abs_c = std::abs(k.c_hat);
  const double delta_c = up(4 * kU * abs_c + 0x1p-1074);
  const double du = static_cast<double>(d) * kU;
  const double kappa_d = up(du * (1 + 3 * du));
  k.a1 = up((abs_c + delta_c) * kappa_d);
  k.a2 = delta_c;
  k.a3 = up(kU);
  k.eta_theta = up((abs_c + delta_c) * (static_cast<double>(d) * 0x1p-1074) + 0x1p-1074 +
                   0x1p-1070);
  k.eps_exp = kBoundedExpRelativeError;
  return k;
}

/// Scratch buffers of one head, reused across blocks (block × Lk each, never Lq × Lk).
struct Workspace {
  Mat q_abs, k_abs, v_abs, s, a, o_acc, o_chunk, r;
  std::vector<double> v_max, sigma, g_sum, theta_max, row_max, tau;
  std::vector<Index> n_under;
  std::vector<char> row_ok;
};

/// The double pass for one head. Rows it cannot enclose are collected in `fallback`.
void double_head(const ConstMatrixView<double>& Q, const ConstMatrixView<double>& K,
                 const ConstMatrixView<double>& V, const MidpointRadiusOptions& options,
                 const Constants& kc0, bool new_kv_head, Workspace& ws, HeadSlot slot,
                 std::vector<Index>& fallback) {
  const Index Lq = Q.rows(), Lk = K.rows(), d = Q.cols(), dv = V.cols();
  AttentionEnclosure& enc = *slot.enc;
  if (new_kv_head) {
    ws.k_abs = K.cwiseAbs();
    ws.v_abs = V.cwiseAbs();
    ws.v_max.assign(static_cast<std::size_t>(dv), 0.0);
    for (Index j = 0; j < Lk; ++j)
      for (Index c = 0; c < dv; ++c) ws.v_max[c] = std::max(ws.v_max[c], ws.v_abs(j, c));
    ws.tau.resize(static_cast<std::size_t>(dv));
    for (Index c = 0; c < dv; ++c) {
      ws.tau[c] = 0x1p-1000 * static_cast<double>(Lk) * (ws.v_max[c] + 1);
    }
  }
  const bool masked_input = options.mask.has_value();
  const double a4 = masked_input ? kc0.a3 : 0.0;
  const double mu = 1 + 0x1p-20;

  // Rows per block: about 2²⁰ logits (8 MiB per buffer) at once.
  const Index block = std::clamp<Index>((Index{1} << 20) / Lk, 8, 128);
  const Index bmax = std::min(block, Lq);
  ws.s.resize(bmax, Lk);
  ws.a.resize(bmax, Lk);
  ws.q_abs.resize(bmax, d);
  ws.o_acc.resize(bmax, dv);
  ws.o_chunk.resize(bmax, dv);
  ws.r.resize(bmax, dv);
  for (auto* v : {&ws.sigma, &ws.g_sum, &ws.theta_max, &ws.row_max}) {
    v->assign(static_cast<std::size_t>(bmax), 0.0);
  }
  ws.n_under.assign(static_cast<std::size_t>(bmax), 0);
  ws.row_ok.assign(static_cast<std::size_t>(bmax), 0);

  for (Index r0 = 0; r0 < Lq; r0 += block) {
    const Index nb = std::min(block, Lq - r0);
    const Index kv = visible_keys(r0 + nb - 1, Lq, Lk, options.causal);  // widest row
    std::fill(ws.row_ok.begin(), ws.row_ok.end(), 0);
    if (kv == 0) {  // every row of the block is causally masked
      for (Index i = 0; i < nb; ++i) slot.set_masked(r0 + i);
      continue;
    }
    // Key chunks for σ̂ and N̂ (6): kc ≈ √kv keys per chunk.
    const Index kc = std::max<Index>(
        32, 8 * static_cast<Index>(std::ceil(std::sqrt(static_cast<double>(kv)) / 8)));
    const Index n_chunks = (kv + kc - 1) / kc;
    const double gamma_chunks = gamma_bound(static_cast<double>(kc + n_chunks));
    const double g = up(2 * gamma_chunks);
    // φ̂ = θ̂(1 + θ̂)·c1 + c0,  c1 ≥ 1 + 2ε_e,  c0 ≥ ε_e(1 + 2ε_e) + γ_PV.
    const double c1 = up(1 + 2 * kc0.eps_exp);
    const double c0 = up(kc0.eps_exp * (1 + 2 * kc0.eps_exp) + gamma_chunks);
    const double lambda_factor = up((1 + kc0.eps_exp) * (1 + gamma_chunks));

    {
      auto S = ws.s.topLeftCorner(nb, kv);
      auto A = ws.a.topLeftCorner(nb, kv);
      auto Qb = Q.middleRows(r0, nb);
      ws.q_abs.topRows(nb) = Qb.cwiseAbs();
      blas::gemm(1.0, Qb, K.topRows(kv).transpose(), 0.0, S);
      blas::gemm(1.0, ws.q_abs.topRows(nb), ws.k_abs.topRows(kv).transpose(), 0.0, A);

      for (Index i = 0; i < nb; ++i) {
        const Index row = r0 + i;
        const Index vis = visible_keys(row, Lq, Lk, options.causal);
        double* s = S.row(i).data();
        double* a = A.row(i).data();
        // (3): logits and their error bounds θ̂ (a holds θ̂ from here on).
        double m = -kInf, theta_max = 0.0;
        bool ok = true;
        if (!masked_input) {
          for (Index j = 0; j < vis; ++j) {
            const double t = kc0.c_hat * s[j];
            const double th = kc0.a1 * a[j] + kc0.a2 * std::abs(s[j]) + kc0.a3 * std::abs(t) +
                              kc0.eta_theta;
            s[j] = t;
            a[j] = th;
            m = std::max(m, t);
            theta_max = std::max(theta_max, th);
            ok &= th <= kThetaLimit;  // false for NaN and ∞
          }
        } else {
          const double* mrow = options.mask->data() + row * options.mask->rowStride();
          const Index mstride = options.mask->colStride();
          for (Index j = 0; j < vis; ++j) {
            const double mj = mrow[j * mstride];
            if (mj == -kInf) {
              s[j] = -kInf;
              a[j] = 0.0;
              continue;
            }
            const double t = kc0.c_hat * s[j];
            const double x = t + mj;
            const double th = kc0.a1 * a[j] + kc0.a2 * std::abs(s[j]) + kc0.a3 * std::abs(t) +
                              a4 * std::abs(x) + kc0.eta_theta;
            s[j] = x;
            a[j] = th;
            m = std::max(m, x);
            theta_max = std::max(theta_max, th);
            ok &= th <= kThetaLimit;
          }
        }
        for (Index j = vis; j < kv; ++j) {
          s[j] = 0.0;
          a[j] = 0.0;
        }
        if (m == -kInf && ok) {  // no visible key
          slot.set_masked(row);
          std::fill_n(s, kv, 0.0);
          continue;
        }
        if (!ok || !std::isfinite(m)) {
          fallback.push_back(row);
          std::fill_n(s, kv, 0.0);
          std::fill_n(a, kv, 0.0);
          continue;
        }
        // (4): weights (masked pairs: ŝ = −inf gives ŵ = 0 exactly).
        bounded_exp(s, m, s, static_cast<std::size_t>(vis));
        // (4)/(7): G = ŵ∘Φ̂ into a; σ̂ and ΣG by key chunks (6); underflowed weights.
        double sigma = 0.0, g_sum = 0.0;
        Index n_under = 0;
        for (Index j0 = 0; j0 < vis; j0 += kc) {
          const Index j1 = std::min(vis, j0 + kc);
          double part = 0.0, gpart = 0.0;
          for (Index j = j0; j < j1; ++j) {
            const double th = a[j];
            const double gj = s[j] * ((th * (1 + th)) * c1 + c0);
            n_under += (s[j] == 0.0) & (th != 0.0);  // θ̂ = 0 only for masked pairs
            a[j] = gj;
            part += s[j];
            gpart += gj;
          }
          sigma += part;
          g_sum += gpart;
        }
        ws.sigma[i] = sigma;
        ws.g_sum[i] = g_sum;
        ws.theta_max[i] = theta_max;
        ws.row_max[i] = m;
        ws.n_under[i] = n_under;
        ws.row_ok[i] = 1;
      }

      // (6): N̂ by key chunks, accumulated here; (7): R = G|V| in one GEMM.
      auto O = ws.o_acc.topRows(nb);
      auto T = ws.o_chunk.topRows(nb);
      for (Index j0 = 0; j0 < kv; j0 += kc) {
        const Index w = std::min(kc, kv - j0);
        if (j0 == 0) {
          blas::gemm(1.0, S.middleCols(j0, w), V.middleRows(j0, w), 0.0, O);
        } else {
          blas::gemm(1.0, S.middleCols(j0, w), V.middleRows(j0, w), 0.0, T);
          O += T;
        }
      }
      auto R = ws.r.topRows(nb);
      blas::gemm(1.0, A, ws.v_abs.topRows(kv), 0.0, R);
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
      for (Index c = 0; c < dv; ++c) {
        const double o = ws.o_acc(i, c) / sigma;
        const double ao = std::abs(o);
        const double p = lam_over_sigma * ws.r(i, c);
        const double x = std::min((ao * (1 + kU) + p) * (1 + 2 * g), ws.v_max[c]);
        const double r = kU * ao + p + (g + sg) * x;
        mid[c] = o;
        rad[c] = r * mu + ws.tau[c];
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
          up(th + 2 * kc0.eps_exp + 2 * gamma_chunks + static_cast<double>(Lk) * 0x1p-1008);
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
    throw std::logic_error(fmt::format("{}: (4) needs kBoundedExpUnderflow <= -700, it is {}",
                                       kWho, kBoundedExpUnderflow));
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
  if (enclosure.shape != expected || enclosure.row_tier.size() != static_cast<std::size_t>(
                                                                      Q.batch() * Q.heads() *
                                                                      Q.length())) {
    throw std::invalid_argument(fmt::format(
        "refine_rows_in_balls: the enclosure is ({}, {}, {}, {}) but Q, V give ({}, {}, {}, {})",
        enclosure.shape[0], enclosure.shape[1], enclosure.shape[2], enclosure.shape[3],
        expected[0], expected[1], expected[2], expected[3]));
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
