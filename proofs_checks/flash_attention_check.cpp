// Flash-attention forward: validation against the certified ground truth.
//
// A-PRIORI FORWARD ERROR BOUND (per query row i with a visible key, output column c)
// -------------------------------------------------------------------------------------
// Notation: u = 2⁻²⁴ (fp32 working precision); input rounding x̂ = x(1+δ) + η with |δ| ≤ u_in,
// |η| ≤ η_in (fp32: u_in = u; fp16/bf16 inputs are rounded double → float → 16 bit, so
// u_in = (1+u_dtype)(1+u) − 1 with u_dtype = 2⁻¹¹/2⁻⁸; η_in = half the smallest subnormal:
// 2⁻¹⁵⁰ for fp32, 2⁻²⁵ (fp16) or 2⁻¹³⁴ (bf16) plus 2⁻¹⁵⁰); γ_n = nu/(1−nu) (higham_gamma);
// E = kPortableExpRelativeError = 4u. From the kernel's tiling (gpu::kFlashAttentionTiling,
// the constants the kernel and its twin are built from): n_t = ⌈Lk/B_k⌉ key tiles of B_k = 64
// keys, and the row-sum tree depth D = (keys per lane − 1) + log₂(lanes) = 1 + 5 = 6;
// σ = 1/√d the exact scale, σ̂ = fl32(σ) = σ(1+ε_σ).
// Exact problem: s_j = σ q·k_j, α = softmax(s), O = Σ α_j v_j,
// lse = log Σ e^{s_j}.
//
// 1. Logits. The rounded inputs q̂, k̂ are a deterministic function of the inputs, so their
//    perturbations δq = q̂ − q, δk = k̂ − k are problem data (exact in double, Sterbenz);
//    q̂·k̂ − q·k = δq·k̂ + q·δk gives |q̂·k̂ − q·k| ≤ P_in := Σ_c |δq_c|·K̂_c + |q_c|·δK_c with
//    K̂_c = max_j|k̂_jc|, δK_c = max_j|δk_jc| (this keeps exactly representable inputs, e.g.
//    the large coordinates of the logits ≤ −5e4 cases, from inflating the bound by
//    u_in·|logit|), or by Cauchy–Schwarz ‖δq‖₂·max‖k̂_j‖₂ + ‖q‖₂·max‖δk_j‖₂, whichever is
//    smaller. With Â = min(Σ_c|q̂_c|K̂_c, ‖q̂‖₂·max‖k̂_j‖₂) ≥ Σ_c|q̂_c k̂_jc|, the fmaf chain of
//    length d adds ≤ γ_d·Â, and
//    t = fl(ŝ·σ̂) two relative errors (ε_σ and the product, c_s = (1+ε_σ)(1+u) − 1; "+0" is
//    exact):
//        |t_j − s_j| ≤ Δ := σ[P_in + (γ_d + (1+γ_d)c_s)·Â].
//    Perturbing logits by ≤ Δ changes every weight by a factor in [e^{−2Δ}, e^{2Δ}], so with
//    ᾱ = softmax(t): ‖ᾱ − α‖₁ ≤ e^{2Δ} − 1, and since Σ(ᾱ_j − α_j) = 0,
//        |Σ ᾱ_j v_jc − O_c| ≤ (e^{2Δ} − 1)·h_c,  h_c = (max_j v_jc − min_j v_jc)/2.
// 2. Online softmax relative to the final maximum M (exact max of the t_j; w_j = e^{t_j−M},
//    W = Σ w_j ≥ 1 because the arg-max key gets p = e⁰ = 1 and all later α = 1 exactly).
//    The key's weight as stored is p_j times the α of every later tile whose maximum moved:
//    at most n_t portable_expf evaluations → factor (1±E)^{n_t}; their arguments are
//    fl(t_j − m_b) and fl(m_b − m_{b'}), whose absolute rounding errors sum to ≤ u(M − t_j),
//    so w_j gets a factor e^{η_j}, |η_j| ≤ u·x_j, x_j = M − t_j ≤ X := 2(σA + Δ) with
//    A = min(Σ_c|q_c|K_c, ‖q‖₂·max‖k_j‖₂) ≥ |q·k_j|. Σ w_j(e^{u x_j} − 1) ≤ W·ε_sub with
//        ε_sub = min(e^{uX} − 1, Lk·u/(e(1−u)))   (x e^{−x(1−u)} ≤ 1/(e(1−u))).
//    Row sum l: each p passes the D-deep lane/butterfly tree, then one fmaf per tile:
//        ε_l = (1+E)^{n_t}(1+u)^{D+n_t} − 1,  l̂ = W(1+ρ), |ρ| ≤ ρ̄ = ε_l + ε_sub(1+ε_l) + uf.
//    Underflow: weights flushed to 0 by portable_expf (argument < −87.33) or by an α that
//    underflows, and subnormal roundings, total ≤ uf = (n_t+2)·Lk·2⁻¹²⁴ relative to W ≥ 1.
// 3. Numerator N_c = Σ w_j v_jc: P is rounded to the dtype (relative u_P = u_dtype, absolute
//    η_P = 2⁻²⁵ for fp16, 2⁻¹³⁴ for bf16, 0 for fp32), v carries input rounding, and
//    acc ← acc·α then one fmaf per key below Lk in the tile: ≤ Lk + n_t roundings per term:
//        ε_N = (1+E)^{n_t}(1+u_P)(1+u_in)(1+γ_{Lk + n_t}) − 1,
//        |N̂_c − N_c| ≤ W[ max_j|v_jc|·(ε_N + ε_sub(1+ε_N)) + η_in(1+ε_N)(1+ε_sub) ]
//                      + Lk·η_P·(max|v_jc|(1+u_in) + η_in) + uf·W·(max|v_jc| + 1).
// 4. O_c = fl(N̂_c / l̂): with |Ō_c| = |N_c/W| ≤ max|v_jc|,
//        |N̂/l̂ − N/W| ≤ |N̂ − N|/(W(1−ρ̄)) + max|v_jc|·ρ̄/(1−ρ̄) =: e_eval,
//    and the division adds u·(max|v_jc| + e_eval). Total:
//        |Ô_c − O_c| ≤ (e^{2Δ}−1)h_c + e_eval + u(max|v_jc| + e_eval).
// 5. lse = fl(M + portable_logf(l̂)): |M + log W − lse| ≤ Δ, |log l̂ − log W| ≤ −log(1−ρ̄),
//    portable_logf adds ≤ u|log l̂| + kPortableLogAbsError with
//    |log l̂| ≤ max(log(Lk(1+ρ̄)), −log(1−ρ̄)),
//    the sum one rounding u(|M| + |log l̂| + 4u) with |M| ≤ σA + Δ.
// A fully masked row is exact (O = 0, lse = −inf) and contributes no error.
// Every quantity above is computed from the inputs (and their dtype rounding) before any
// kernel runs, never from its output; the double arithmetic that evaluates the bound is
// covered by inflating the norms and the result by 1e-9 (kBoundSafety).
//
// NAIVE SAME-PRECISION REFERENCE (the flash-attention rule's baseline, as FA's attention_ref
// without upcast): q·scale rounded to the dtype, scores rounded to the dtype, softmax in fp32
// with P rounded to the dtype, P·V accumulated in fp32 and rounded to the dtype.
//
// GROUND TRUTH (shared by the dtypes: every dtype's inputs are roundings of the same doubles)
// The exact O, lse of the double inputs enclosed as mid ± rad. Default (KernelTruth::fast):
// midpoint_radius_attention, then refine_rows_in_balls for the rows whose verdicts the double
// radius cannot decide (flash_attention_rows_to_refine), so the verdicts are those of an Arb
// truth at a fraction of its cost. A comparison "|x − o| ≤ b" is computed as
// |x − mid| + rad ≤ b; any o' in the enclosure — in particular the Arb ball's midpoint —
// gives |x − o'| ∈ [|x − mid| − rad, |x − mid| + rad], so when both ends fall on the same
// side of b the verdict is the same for every truth inside (up to the Arb truth's own radius,
// ~2⁻⁵³ of the values once its midpoint is rounded to double, and the double rounding of the
// comparison: ties the Ball truth cannot resolve either). Undecided elements or lse
// values put their row into Arb. The printed ratio R = max_e (|x − mid| + rad)/b lies within
// [R_lo, R] of the exact problem's (R_lo from − rad); when R − R_lo > kRatioResolution·R the
// rows that can hold the maximum (an element with (|x − mid| + rad)/b ≥ R_lo) go into Arb,
// after which R comes from Arb rows (the others stay below R_lo); the same for lse. The FA
// rule E ≤ 2N + atol, with E, N maxima over the case:
// decided when E_hi ≤ 2N_lo + atol_lo (passes) or E_lo > 2N_hi + atol_hi (fails), the ends
// from ∓rad elementwise; atol depends on the truth only through each midpoint's dtype
// rounding, fixed unless the enclosure straddles a rounding boundary (then its term lies
// between 0 and a bound from the roundings in FA3's formula). Otherwise every row that can
// hold the maximum of E or N (its upper end ≥ the lower end of the maximum) or a straddling
// element is refined;
// the maxima then come from Arb rows, as the rows left in double stay below those lower ends.
#include "proofs_checks/flash_attention_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpu/device.hpp"
#include "gpu/flash_attention.hpp"
#include "gpu/portable_exp.hpp"
#include "gpu/portable_log.hpp"
#include "numerics/rng.hpp"
#include "numerics/scalar_traits.hpp"
#include "proofs_checks/kernel_checks.hpp"
#include "proofs_checks/naive_attention_reference.hpp"

namespace attncert {
namespace {

using gpu::DType;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kU = 0x1p-24;
// The bound is evaluated in double: written without cancellation (log1p/expm1), each term
// carries a relative error of a few 1e-16 times the number of operations; 1e-9 covers that.
constexpr double kBoundSafety = 1.0 + 1e-9;
constexpr long kGroundTruthBits = 96;

// The kernel's 16-bit inputs are made double → float → 16 bit: two roundings, so
// u_in = (1 + u_dtype)(1 + u) − 1 and the absolute floors add up.
double input_relative_rounding(DType t) {
  const double ud = gpu::dtype_unit_roundoff(t);
  return t == DType::f32 ? kU : ud + kU + ud * kU;
}
double probability_absolute_floor(DType t) {
  return t == DType::f32 ? 0.0 : gpu::dtype_half_smallest_subnormal(t);
}
double input_absolute_floor(DType t) {
  return t == DType::f32 ? 0x1p-150 : probability_absolute_floor(t) + 0x1p-150;
}

}  // namespace

FlashAttentionBound flash_attention_bound(const FlashAttentionBoundInputs& in,
                                          const gpu::FlashAttentionTiling& tiling) {
  // Inputs beyond the dtype's range become ±inf in the kernel; the rounding model (relative
  // u_in plus a floor) no longer holds, and nothing can be promised.
  if (!(in.max_abs_input < gpu::dtype_overflow_threshold(in.dtype)))
    return {kInf, kInf, kInf};
  const double u_in = input_relative_rounding(in.dtype);
  const double eta_in = input_absolute_floor(in.dtype);
  const double u_p = in.dtype == DType::f32 ? 0.0 : gpu::dtype_unit_roundoff(in.dtype);
  const double eta_p = probability_absolute_floor(in.dtype);
  const double E = static_cast<double>(gpu::kPortableExpRelativeError);
  const double Lk = in.seqlen_k;
  const long long key_tiles = tiling.key_tiles(in.seqlen_k);
  const double n_t = static_cast<double>(key_tiles);
  const double tree_depth = tiling.row_sum_tree_depth();
  const double sigma = in.scale;
  const double gamma_d = higham_gamma(in.head_dim, kU);

  // 1. logits
  const double A = in.abs_dot * kBoundSafety;
  const double A_hat = in.abs_rounded_dot * kBoundSafety;
  const double P_in = in.rounding_dot * kBoundSafety;
  const double c_s = in.scale_relative_error + kU + in.scale_relative_error * kU;
  const double delta = sigma * (P_in + (gamma_d + (1 + gamma_d) * c_s) * A_hat);
  const double logit_bound = sigma * A + delta;  // |t_j| ≤ σA + Δ
  const double logit_term = std::expm1(2 * delta) * in.v_half_range;

  // 2. online softmax and row sum
  const double X = 2 * logit_bound;
  const double eps_sub = std::min(std::expm1(kU * X), Lk * kU / (std::exp(1.0) * (1 - kU)));
  const double eps_l = std::expm1(n_t * std::log1p(E) + (tree_depth + n_t) * std::log1p(kU));
  const double uf = (n_t + 2) * Lk * 0x1p-124;
  const double rho = eps_l + eps_sub * (1 + eps_l) + uf;

  // 3. numerator, 4. division
  const double eps_N = std::expm1(n_t * std::log1p(E) + std::log1p(u_p) + std::log1p(u_in) +
                                  std::log1p(higham_gamma(in.seqlen_k + key_tiles, kU)));
  const double vmax = in.v_max_abs;
  const double numer_rel = vmax * (eps_N + eps_sub * (1 + eps_N)) +
                           eta_in * (1 + eps_N) * (1 + eps_sub) + uf * (vmax + 1);
  const double numer_abs = Lk * eta_p * (vmax * (1 + u_in) + eta_in);
  const double e_eval = (numer_rel + numer_abs) / (1 - rho) + vmax * rho / (1 - rho);
  FlashAttentionBound b;
  b.logit_error = delta;
  b.output = (logit_term + e_eval + kU * (vmax + e_eval)) * kBoundSafety;

  // 5. log-sum-exp
  const double log_l = std::max(std::log(Lk * (1 + rho)), -std::log1p(-rho));  // ≥ |log l̂|
  const double log_err = kU * log_l + static_cast<double>(gpu::kPortableLogAbsError);
  b.log_sum_exp =
      (delta - std::log1p(-rho) + log_err + kU * (logit_bound + log_l + log_err)) * kBoundSafety;
  return b;
}

namespace {

struct ShapeCase {
  int seqlen_q, seqlen_k;
};
constexpr ShapeCase kShapes[] = {{1, 1}, {239, 1}, {799, 3}, {113, 203}, {108, 256}, {1023, 1024}};
constexpr int kHeadDims[] = {60, 64, 100, 128};
constexpr DType kDtypes[] = {DType::f32, DType::f16, DType::bf16};

struct Case {
  std::uint64_t index;  // position in the full matrix: the seed substream
  ShapeCase shape;
  int head_dim;
  bool causal;
  bool negative_logits;  // every logit ≤ −5e4
};

std::vector<Case> full_matrix() {
  std::vector<Case> cases;
  std::uint64_t index = 0;
  for (const ShapeCase& s : kShapes)
    for (int d : kHeadDims)
      for (bool negative : {false, true})
        for (bool causal : {false, true}) cases.push_back({index++, s, d, causal, negative});
  return cases;
}

/// A shape the user names that the matrix lacks (both lengths given, or a head dim outside
/// {60, 64, 100, 128}) is run as given, with substreams after the matrix's own.
std::vector<Case> custom_cases(const KernelCheckRequest& r) {
  const bool shape_in_matrix =
      !(r.seqlen_q && r.seqlen_k) ||
      std::any_of(std::begin(kShapes), std::end(kShapes), [&](const ShapeCase& s) {
        return s.seqlen_q == *r.seqlen_q && s.seqlen_k == *r.seqlen_k;
      });
  const bool dim_in_matrix = !r.head_dim || std::find(std::begin(kHeadDims), std::end(kHeadDims),
                                                      *r.head_dim) != std::end(kHeadDims);
  if (shape_in_matrix && dim_in_matrix) return {};
  if (r.head_dim && (*r.head_dim < gpu::kFlashAttentionMinHeadDim ||
                     *r.head_dim > gpu::kFlashAttentionMaxHeadDim))
    throw std::invalid_argument(fmt::format(
        "flash-attention: head dim {} is not supported (the kernel handles {}..{})", *r.head_dim,
        gpu::kFlashAttentionMinHeadDim, gpu::kFlashAttentionMaxHeadDim));
  // The certified truth costs ~Lq·Lk·d ball operations; 4·(1023·1024·128) takes ~6 s.
  const int cost_dim = r.head_dim.value_or(gpu::kFlashAttentionMaxHeadDim);
  if (r.seqlen_q && r.seqlen_k && static_cast<double>(*r.seqlen_q) * *r.seqlen_k * cost_dim > 5.4e8)
    throw std::invalid_argument("flash-attention: seqlen_q·seqlen_k·head_dim above 5.4e8 would "
                                "make the certified ground truth take minutes per case");
  std::vector<ShapeCase> shapes;
  if (r.seqlen_q && r.seqlen_k) shapes.push_back({*r.seqlen_q, *r.seqlen_k});
  else
    for (const ShapeCase& s : kShapes)
      if ((!r.seqlen_q || *r.seqlen_q == s.seqlen_q) && (!r.seqlen_k || *r.seqlen_k == s.seqlen_k))
        shapes.push_back(s);
  std::vector<int> dims;
  if (r.head_dim) dims.push_back(*r.head_dim);
  else dims.assign(std::begin(kHeadDims), std::end(kHeadDims));
  std::vector<Case> cases;
  std::uint64_t index = std::size(kShapes) * std::size(kHeadDims) * 4;
  for (const ShapeCase& s : shapes)
    for (int d : dims)
      for (bool negative : {false, true})
        for (bool causal : {false, true}) cases.push_back({index++, s, d, causal, negative});
  return cases;
}

/// The CI subset: L = 1, fully masked rows (causal with Lq > Lk), odd head dims, logits ≤ −5e4,
/// both maskings, the largest head dim; small enough for the Ball truth to take well under 1 s.
bool in_quick_subset(const Case& c) {
  const int Lq = c.shape.seqlen_q, d = c.head_dim;
  if (Lq == 1) return d == 64 && !c.negative_logits && !c.causal;
  if (Lq == 239) return d == 60 && c.causal && !c.negative_logits;
  if (Lq == 799) return d == 100 && c.causal == c.negative_logits;
  if (Lq == 113)
    return (d == 100 && !c.causal && !c.negative_logits) ||
           (d == 60 && c.causal && c.negative_logits);
  if (Lq == 108) return d == 128 && c.causal && !c.negative_logits;
  return false;
}

bool selected(const Case& c, const KernelCheckRequest& r) {
  if (r.seqlen_q && *r.seqlen_q != c.shape.seqlen_q) return false;
  if (r.seqlen_k && *r.seqlen_k != c.shape.seqlen_k) return false;
  if (r.head_dim && *r.head_dim != c.head_dim) return false;
  if (r.causal && *r.causal != c.causal) return false;
  if (r.quick && !in_quick_subset(c)) return false;
  return true;
}

/// Inputs in double, [batch_heads, L, d] row-major.
struct Problem {
  int batch_heads, Lq, Lk, d;
  bool causal;
  std::vector<double> q, k, v;
};

Problem make_problem(const Case& c, const Rng& root) {
  Problem p{};
  p.Lq = c.shape.seqlen_q;
  p.Lk = c.shape.seqlen_k;
  p.d = c.head_dim;
  p.causal = c.causal;
  // Two heads where the Ball truth is cheap, to exercise the head indexing.
  p.batch_heads = static_cast<long long>(p.Lq) * p.Lk <= 65536 ? 2 : 1;
  Rng rng = root.substream(c.index);
  const std::size_t nq = static_cast<std::size_t>(p.batch_heads) * p.Lq * p.d;
  const std::size_t nk = static_cast<std::size_t>(p.batch_heads) * p.Lk * p.d;
  p.q = rng.normal_vector(nq);
  p.k = rng.normal_vector(nk);
  p.v = rng.normal_vector(nk);
  if (c.negative_logits) {
    // Coordinate 0: q = 2^a, k = −2^b (exact in every dtype), 2^(a+b)/√d ≥ 5e4 + margin, so
    // every logit is ≤ −5e4 while the other coordinates keep O(1) differences between keys.
    const double need = (5e4 + 64.0) * std::sqrt(static_cast<double>(p.d));
    const int e = static_cast<int>(std::ceil(std::log2(need)));
    const double qa = std::ldexp(1.0, e / 2), kb = std::ldexp(1.0, e - e / 2);
    for (std::size_t i = 0; i < nq; i += p.d) p.q[i] = qa;
    for (std::size_t i = 0; i < nk; i += p.d) p.k[i] = -kb;
  }
  return p;
}

std::vector<float> to_float(const std::vector<double>& x) {
  std::vector<float> r(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) r[i] = static_cast<float>(x[i]);
  return r;
}
std::vector<std::uint16_t> to_half_bits(const std::vector<double>& x, DType t) {
  std::vector<std::uint16_t> r(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float f = static_cast<float>(x[i]);
    r[i] = t == DType::f16 ? gpu::float_to_f16_bits(f) : gpu::float_to_bf16_bits(f);
  }
  return r;
}

/// Inputs as the kernel reads them (fp16/bf16: double → float → 16 bit; the bound's u_in
/// covers both roundings).
struct DeviceInputs {
  std::vector<float> qf, kf, vf;
  std::vector<std::uint16_t> qh, kh, vh;
  const void* q = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
};

DeviceInputs kernel_inputs(const Problem& p, DType t) {
  DeviceInputs in;
  if (t == DType::f32) {
    in.qf = to_float(p.q), in.kf = to_float(p.k), in.vf = to_float(p.v);
    in.q = in.qf.data(), in.k = in.kf.data(), in.v = in.vf.data();
  } else {
    in.qh = to_half_bits(p.q, t), in.kh = to_half_bits(p.k, t), in.vh = to_half_bits(p.v, t);
    in.q = in.qh.data(), in.k = in.kh.data(), in.v = in.vh.data();
  }
  return in;
}

/// The certified truth of the problem's exact inputs (one batch, its heads), shared by the
/// dtypes. Ball: every visible row in Arb. Fast: the double enclosure, then the rows whose
/// verdicts its radius leaves undecided for some dtype recomputed in Arb (the same function
/// and precision as the Ball truth).
AttentionEnclosure certified_truth(const Problem& p, KernelTruth tier,
                                   std::span<const FlashAttentionComparison> comparisons) {
  const Tensor4View<const double> Q(p.q.data(), 1, p.batch_heads, p.Lq, p.d);
  const Tensor4View<const double> K(p.k.data(), 1, p.batch_heads, p.Lk, p.d);
  const Tensor4View<const double> V(p.v.data(), 1, p.batch_heads, p.Lk, p.d);
  MidpointRadiusOptions o;
  // Bottom-right aligned, as the kernel; scale: the exact 1/√d.
  if (p.causal) o.keys = KeyVisibility::causal_mask(DiagonalAlignment::bottom_right);
  o.fallback_precision_bits = kGroundTruthBits;
  AttentionEnclosure truth = midpoint_radius_attention(Q, K, V, o);
  std::vector<std::size_t> rows;
  if (tier == KernelTruth::ball) {
    for (std::size_t row = 0; row < truth.row_tier.size(); ++row)
      if (truth.row_tier[row] == RowTier::Double) rows.push_back(row);
  } else {
    rows = flash_attention_rows_to_refine(truth, comparisons);
  }
  if (!rows.empty()) refine_rows_in_balls(Q, K, V, o, rows, truth);
  return truth;
}

/// How the truth was obtained, for the row's note.
std::string truth_note(KernelTruth tier, const AttentionEnclosure& truth) {
  const std::size_t out_of_range = truth.count(RowTier::BallOutOfRange);
  const std::string beyond =
      out_of_range > 0 ? fmt::format(", {} beyond double's range in Arb", out_of_range) : "";
  if (tier == KernelTruth::ball) return "truth: Arb balls";
  return fmt::format("truth: fast enclosure ({} rows refined in Arb{})",
                     truth.count(RowTier::BallRefined), beyond);
}

/// The value the kernel reads for input x (double → float → dtype).
double kernel_value(DType t, double x) {
  return static_cast<double>(gpu::round_through(t, static_cast<float>(x)));
}

/// A row x as the bound sees it: x, its kernel value x̂ and δ = x̂ − x (exact in double,
/// Sterbenz), elementwise in absolute value, and their 2-norms.
struct RowData {
  std::vector<double> x, rounded, rounding;
  double norm = 0, rounded_norm = 0, rounding_norm = 0;
};
RowData row_data(const double* x, int d, DType t) {
  RowData r;
  r.x.resize(d), r.rounded.resize(d), r.rounding.resize(d);
  for (int i = 0; i < d; ++i) {
    const double k = kernel_value(t, x[i]);
    r.x[i] = std::abs(x[i]), r.rounded[i] = std::abs(k), r.rounding[i] = std::abs(k - x[i]);
    r.norm += x[i] * x[i], r.rounded_norm += k * k,
        r.rounding_norm += r.rounding[i] * r.rounding[i];
  }
  r.norm = std::sqrt(r.norm), r.rounded_norm = std::sqrt(r.rounded_norm);
  r.rounding_norm = std::sqrt(r.rounding_norm);
  return r;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

/// Per-element bound (output) and per-row bound (lse), from the inputs only.
struct Bounds {
  std::vector<double> output, lse;  // output per element, lse per row; 0 for masked rows
  double max_output = 0, max_lse = 0;
  // Elements of visible rows, and those whose bound is no smaller than 2·max_j |v_jc| — the
  // most two convex combinations of the values can differ by, so such a bound says nothing.
  std::size_t visible_elements = 0, vacuous_elements = 0;
};

Bounds bounds(const Problem& p, DType t, float scale) {
  Bounds b;
  b.output.assign(static_cast<std::size_t>(p.batch_heads) * p.Lq * p.d, 0.0);
  b.lse.assign(static_cast<std::size_t>(p.batch_heads) * p.Lq, 0.0);
  const double sigma = 1.0 / std::sqrt(static_cast<double>(p.d));
  FlashAttentionBoundInputs in;
  in.dtype = t;
  in.seqlen_k = p.Lk;
  in.head_dim = p.d;
  in.scale = sigma;
  // |σ̂ − σ|/σ: the float rounding of 1/√d plus ≤ 2⁻⁵² for the double 1/√d it came from.
  in.scale_relative_error = std::abs(static_cast<double>(scale) - sigma) / sigma + 0x1p-52;
  for (int h = 0; h < p.batch_heads; ++h) {
    std::vector<double> vmax(p.d, 0.0), vlo(p.d, kInf), vhi(p.d, -kInf);
    // Keys: coordinatewise maxima (K_c, K̂_c, δK_c) and the largest 2-norms.
    std::vector<double> kmax(p.d, 0.0), krmax(p.d, 0.0), kdmax(p.d, 0.0);
    double k_norm = 0, kr_norm = 0, kd_norm = 0;
    for (int j = 0; j < p.Lk; ++j) {
      const std::size_t base = (static_cast<std::size_t>(h) * p.Lk + j) * p.d;
      const RowData kj = row_data(&p.k[base], p.d, t);
      k_norm = std::max(k_norm, kj.norm), kr_norm = std::max(kr_norm, kj.rounded_norm);
      kd_norm = std::max(kd_norm, kj.rounding_norm);
      for (int c = 0; c < p.d; ++c) {
        kmax[c] = std::max(kmax[c], kj.x[c]), krmax[c] = std::max(krmax[c], kj.rounded[c]);
        kdmax[c] = std::max(kdmax[c], kj.rounding[c]);
        const double x = p.v[base + c];
        vmax[c] = std::max(vmax[c], std::abs(x));
        vlo[c] = std::min(vlo[c], x), vhi[c] = std::max(vhi[c], x);
      }
    }
    double kv_max_abs = 0;
    for (int c = 0; c < p.d; ++c) kv_max_abs = std::max({kv_max_abs, kmax[c], vmax[c]});
    for (int i = 0; i < p.Lq; ++i) {
      const std::size_t row = static_cast<std::size_t>(h) * p.Lq + i;
      if (gpu::flash_attention_visible_keys(i, p.Lq, p.Lk, p.causal) == 0) continue;  // exact
      const RowData qi = row_data(&p.q[row * p.d], p.d, t);
      in.max_abs_input = kv_max_abs;
      for (double x : qi.x) in.max_abs_input = std::max(in.max_abs_input, x);
      in.abs_dot = std::min(dot(qi.x, kmax), qi.norm * k_norm);
      in.abs_rounded_dot = std::min(dot(qi.rounded, krmax), qi.rounded_norm * kr_norm);
      in.rounding_dot = std::min(dot(qi.rounding, krmax) + dot(qi.x, kdmax),
                                 qi.rounding_norm * kr_norm + qi.norm * kd_norm);
      for (int c = 0; c < p.d; ++c) {
        in.v_max_abs = vmax[c];
        in.v_half_range = (vhi[c] - vlo[c]) / 2;
        const FlashAttentionBound fb = flash_attention_bound(in);
        b.output[row * p.d + c] = fb.output;
        b.max_output = std::max(b.max_output, fb.output);
        ++b.visible_elements;
        if (!(fb.output < 2 * vmax[c])) ++b.vacuous_elements;
        if (c == 0) b.lse[row] = fb.log_sum_exp, b.max_lse = std::max(b.max_lse, fb.log_sum_exp);
      }
    }
  }
  return b;
}

float round_to(DType t, float x) { return gpu::round_through(t, x); }

/// FA's attention_ref without upcast (naive_attention_reference.hpp), head by head.
std::vector<float> naive_attention(const Problem& p, DType t, float scale) {
  std::vector<float> out;
  out.reserve(static_cast<std::size_t>(p.batch_heads) * p.Lq * p.d);
  KeyVisibility keys;
  if (p.causal) keys = KeyVisibility::causal_mask(DiagonalAlignment::bottom_right);
  for (int h = 0; h < p.batch_heads; ++h) {
    const auto head = [&](const std::vector<double>& x, int L) {
      return ConstMatrixView<double>(x.data() + static_cast<std::size_t>(h) * L * p.d, L, p.d,
                                     ViewStride(p.d, 1));
    };
    const std::vector<float> o =
        naive_attention_reference(head(p.q, p.Lq), head(p.k, p.Lk), head(p.v, p.Lk), t, scale, keys);
    out.insert(out.end(), o.begin(), o.end());
  }
  return out;
}

struct RunOutput {
  std::vector<float> out, lse;
  gpu::KernelStatus status;
};

RunOutput run(const Problem& p, const DeviceInputs& in, DType t, float scale, bool on_device) {
  RunOutput r;
  r.out.assign(static_cast<std::size_t>(p.batch_heads) * p.Lq * p.d, 0.0f);
  r.lse.assign(static_cast<std::size_t>(p.batch_heads) * p.Lq, 0.0f);
  gpu::FlashAttentionArgs a;
  a.q = in.q, a.k = in.k, a.v = in.v;
  a.q_dtype = a.k_dtype = a.v_dtype = t;
  a.out = r.out.data(), a.log_sum_exp = r.lse.data();
  a.batch_heads = p.batch_heads, a.seqlen_q = p.Lq, a.seqlen_k = p.Lk, a.head_dim = p.d;
  a.scale = scale, a.causal = p.causal;
  r.status = on_device ? gpu::run_flash_attention_on_device(a) : gpu::flash_attention_twin(a);
  return r;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

double max_error(const std::vector<float>& x, const std::vector<double>& mid,
                 const std::vector<double>& rad, bool& finite) {
  double e = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) {
      finite = false;
      return kInf;  // NaN must not vanish in std::max
    }
    e = std::max(e, std::abs(static_cast<double>(x[i]) - mid[i]) + rad[i]);
  }
  return e;
}

/// error / bound, with NaN or an error where the bound is 0 counted as a violation (inf).
double element_ratio(double error, double bound) {
  if (error == 0.0) return 0.0;
  if (!std::isfinite(error) || !(bound > 0.0)) return kInf;
  return error / bound;
}

/// The flash-attention rule's absolute term (naive_attention_reference.hpp).
double fa_absolute_term(DType t, double reference) { return flash_rule_absolute_term(t, reference); }

/// An upper bound of FA3's term for every reference whose dtype rounding r has |r| ≤ m. With
/// w = fl₃₂(r + 0.3f) and a = dtype(w): |a − (r + 0.3f)| ≤ δ := ε(m + 0.3f) + η, ε = u₃₂ + u +
/// u₃₂u (u, η the dtype's unit roundoff and half its smallest subnormal); then
/// b = dtype(fl₃₂(a − 0.3f)), a − 0.3f = r + (a − r − 0.3f), so |b − r| ≤ δ + ε(m + δ) + η,
/// and the term is 2|b − r|. Enlarged by 1e-9 for the double evaluation.
double fa_absolute_term_bound(DType t, double m) {
  const double eps = kU + gpu::dtype_unit_roundoff(t) + kU * gpu::dtype_unit_roundoff(t);
  const double eta = gpu::dtype_half_smallest_subnormal(t);
  const double delta = eps * (m + static_cast<double>(0.3f)) + eta;
  return 2 * (delta + eps * (m + delta) + eta) * kBoundSafety;
}

/// The range of the FA rule's absolute term over the exact references the truth allows: each
/// element's term depends on its reference only through the dtype rounding, fixed unless the
/// enclosure straddles a rounding boundary; then it lies in [0, fa_absolute_term_bound].
struct AbsoluteTermRange {
  double low = 0, high = 0;
  std::vector<char> straddles;  // per row: an element whose rounding is not fixed
};
AbsoluteTermRange fa_absolute_term_range(DType t, const AttentionEnclosure& truth) {
  const auto d = static_cast<std::size_t>(truth.shape[3]);
  AbsoluteTermRange r;
  r.straddles.assign(truth.row_tier.size(), 0);
  for (std::size_t e = 0; e < truth.output_mid.size(); ++e) {
    const double mid = truth.output_mid[e], rad = truth.output_rad[e];
    const float lo = round_to(t, static_cast<float>(mid - rad));
    const float hi = round_to(t, static_cast<float>(mid + rad));
    if (lo == hi) {
      const double term = fa_absolute_term(t, mid);
      r.low = std::max(r.low, term), r.high = std::max(r.high, term);
    } else {  // (an infinite radius gives ±inf roundings: an infinite bound)
      r.straddles[e / d] = 1;
      r.high = std::max(r.high, fa_absolute_term_bound(
                                    t, std::max(std::abs(static_cast<double>(lo)),
                                                std::abs(static_cast<double>(hi)))));
    }
  }
  return r;
}

/// The check's comparison "|x − mid| + rad ≤ bound" is decided by the truth when it holds, or
/// fails even for |x − mid| − rad (x non-finite: fails whatever the truth).
bool undecided(double distance, double rad, double bound) {
  return distance + rad > bound && !(distance - rad > bound);
}

/// One comparison's error/bound ratios, each as the interval the truth allows:
/// [(|x − mid| − rad)/b, (|x − mid| + rad)/b], by element_ratio (so non-finite x gives inf).
struct RatioTerm {
  double low, high;
};
RatioTerm ratio_term(double x, double mid, double rad, double bound) {
  const double distance = std::abs(x - mid);
  return {element_ratio(std::max(distance - rad, 0.0), bound),
          element_ratio(distance + rad, bound)};
}

/// Marks the rows that can hold the largest ratio when the truth leaves it uncertain by more
/// than kRatioResolution of itself. `terms(row, add)` calls add(low, high) for the row's terms.
template <class Terms>
void refine_for_ratio(std::size_t rows, const Terms& terms, const std::vector<char>& eligible,
                      std::vector<char>& refine) {
  double low = 0, high = 0;
  for (std::size_t row = 0; row < rows; ++row)
    terms(row, [&](RatioTerm t) { low = std::max(low, t.low), high = std::max(high, t.high); });
  if (!(high - low > kRatioResolution * high)) return;  // also inf − inf: NaN, decided
  for (std::size_t row = 0; row < rows; ++row) {
    if (!eligible[row] || refine[row]) continue;
    terms(row, [&](RatioTerm t) { refine[row] = refine[row] || t.high >= low; });
  }
}

/// Lower and upper ends of max_e |x_e − o_e| over the exact outputs o_e the truth allows
/// (inf for both when some x is not finite: the rule then fails or passes whatever the truth).
struct ErrorRange {
  double low = 0, high = 0;
};
ErrorRange max_error_range(const std::vector<float>& x, const AttentionEnclosure& truth) {
  ErrorRange r;
  for (std::size_t e = 0; e < x.size(); ++e) {
    if (!std::isfinite(x[e])) return {kInf, kInf};
    const double distance = std::abs(static_cast<double>(x[e]) - truth.output_mid[e]);
    r.low = std::max(r.low, distance - truth.output_rad[e]);
    r.high = std::max(r.high, distance + truth.output_rad[e]);
  }
  return r;
}

}  // namespace

std::vector<std::size_t> flash_attention_rows_to_refine(
    const AttentionEnclosure& truth, std::span<const FlashAttentionComparison> comparisons) {
  const std::size_t rows = truth.row_tier.size();
  const auto d = static_cast<std::size_t>(truth.shape[3]);
  if (truth.output_mid.size() != rows * d || truth.output_rad.size() != rows * d ||
      truth.lse_mid.size() != rows || truth.lse_rad.size() != rows)
    throw std::invalid_argument(fmt::format(
        "flash_attention_rows_to_refine: truth of {} rows x {} columns has {} / {} outputs and "
        "{} / {} lse values",
        rows, d, truth.output_mid.size(), truth.output_rad.size(), truth.lse_mid.size(),
        truth.lse_rad.size()));
  for (const FlashAttentionComparison& c : comparisons)
    if (c.out.size() != rows * d || c.naive.size() != rows * d || c.out_bound.size() != rows * d ||
        c.lse.size() != rows || c.lse_bound.size() != rows)
      throw std::invalid_argument(fmt::format(
          "flash_attention_rows_to_refine: {} comparison has out {}, naive {}, out_bound {}, lse "
          "{}, lse_bound {} values; the truth has {} rows x {} columns",
          gpu::dtype_name(c.dtype), c.out.size(), c.naive.size(), c.out_bound.size(),
          c.lse.size(), c.lse_bound.size(), rows, d));

  std::vector<char> refine(rows, 0), in_double(rows, 0);
  for (std::size_t row = 0; row < rows; ++row)
    in_double[row] = truth.row_tier[row] == RowTier::Double;
  for (const FlashAttentionComparison& c : comparisons) {
    // Per element and per lse: error within the bound.
    for (std::size_t row = 0; row < rows; ++row) {
      if (!in_double[row]) continue;
      bool open = undecided(std::abs(static_cast<double>(c.lse[row]) - truth.lse_mid[row]),
                            truth.lse_rad[row], c.lse_bound[row]);
      for (std::size_t e = row * d; e < (row + 1) * d && !open; ++e)
        open = undecided(std::abs(static_cast<double>(c.out[e]) - truth.output_mid[e]),
                         truth.output_rad[e], c.out_bound[e]);
      refine[row] = refine[row] || open;
    }
    // The printed ratios (masked rows: no lse term; their outputs are exact, rad 0).
    refine_for_ratio(
        rows,
        [&](std::size_t row, const auto& add) {
          for (std::size_t e = row * d; e < (row + 1) * d; ++e)
            add(ratio_term(c.out[e], truth.output_mid[e], truth.output_rad[e], c.out_bound[e]));
        },
        in_double, refine);
    refine_for_ratio(
        rows,
        [&](std::size_t row, const auto& add) {
          if (truth.lse_mid[row] != -kInf)
            add(ratio_term(c.lse[row], truth.lse_mid[row], truth.lse_rad[row], c.lse_bound[row]));
        },
        in_double, refine);
    // The FA rule E ≤ 2N + atol, with E, N and atol over the whole case.
    const ErrorRange E = max_error_range(c.out, truth), N = max_error_range(c.naive, truth);
    const AbsoluteTermRange atol = fa_absolute_term_range(c.dtype, truth);
    const bool passes = E.high <= 2 * N.low + atol.low;
    const bool fails = E.low > 2 * N.high + atol.high;
    if (passes || fails) continue;
    // Undecided: refine every row that can hold either maximum or changes atol; then the
    // maxima come from Arb rows (the other rows stay below the old lower ends).
    for (std::size_t row = 0; row < rows; ++row) {
      if (!in_double[row] || refine[row]) continue;
      bool candidate = atol.straddles[row] != 0;
      for (std::size_t e = row * d; e < (row + 1) * d && !candidate; ++e) {
        const double rad = truth.output_rad[e];
        candidate = std::abs(static_cast<double>(c.out[e]) - truth.output_mid[e]) + rad >= E.low ||
                    std::abs(static_cast<double>(c.naive[e]) - truth.output_mid[e]) + rad >= N.low;
      }
      refine[row] = candidate;
    }
  }
  std::vector<std::size_t> named;
  for (std::size_t row = 0; row < rows; ++row)
    if (refine[row]) named.push_back(row);
  return named;
}

std::vector<KernelCheckRow> check_flash_attention(
    const KernelCheckRequest& request,
    const std::function<void(std::size_t, std::size_t)>& progress) {
  std::vector<Case> cases;
  const std::vector<Case> custom = custom_cases(request);
  KernelCheckRequest filters = request;
  if (!custom.empty()) filters.quick = false;  // a shape the user named runs even with --quick
  for (const Case& c : custom.empty() ? full_matrix() : custom)
    if (selected(c, filters)) cases.push_back(c);
  std::vector<DType> dtypes;
  for (DType t : kDtypes)
    if (!request.dtype || *request.dtype == t) dtypes.push_back(t);

  const gpu::DeviceReport device = gpu::query_devices();
  const bool on_device = request.prefer_device && device.device_count > 0;
  const Rng root(request.seed);
  // One task per case; cases are independent. Within a case the kernels run first (every
  // dtype), then the truth they share (whose refinement depends on all of them), then the
  // verdicts.
  auto check_case = [&](std::size_t case_index) {
    const Case& c = cases[case_index];
    const Problem p = make_problem(c, root);
    const float scale = gpu::default_attention_scale(p.d);
    int masked_rows = 0;
    for (int i = 0; i < p.Lq; ++i)
      masked_rows += gpu::flash_attention_visible_keys(i, p.Lq, p.Lk, p.causal) == 0;
    masked_rows *= p.batch_heads;

    struct DtypeRun {
      gpu::KernelStatus status;  // of the first run
      bool deterministic = false, twin_match = true;
      std::size_t compared = 0;  // index into `compared` when the run succeeded
      Bounds bounds;             // its summary; the per-element bounds are in `compared`
    };
    std::vector<DtypeRun> runs(dtypes.size());
    std::vector<FlashAttentionComparison> compared;
    for (std::size_t k = 0; k < dtypes.size(); ++k) {
      const DType t = dtypes[k];
      DtypeRun& r = runs[k];
      const DeviceInputs in = kernel_inputs(p, t);
      RunOutput first = run(p, in, t, scale, on_device);
      r.status = first.status;
      if (!first.status.ok()) continue;
      const RunOutput second = run(p, in, t, scale, on_device);
      r.deterministic = second.status.ok() && same_bits(first.out, second.out) &&
                        same_bits(first.lse, second.lse);
      if (on_device) {
        const RunOutput twin = run(p, in, t, scale, false);
        r.twin_match = same_bits(first.out, twin.out) && same_bits(first.lse, twin.lse);
      }
      r.bounds = bounds(p, t, scale);
      FlashAttentionComparison x;
      x.dtype = t;
      x.out = std::move(first.out);
      x.lse = std::move(first.lse);
      x.naive = naive_attention(p, t, scale);
      x.out_bound = std::move(r.bounds.output);
      x.lse_bound = std::move(r.bounds.lse);
      r.compared = compared.size();
      compared.push_back(std::move(x));
    }
    const AttentionEnclosure truth = certified_truth(p, request.truth, compared);
    const std::string truth_text = truth_note(request.truth, truth);
    double radius = 0;
    for (double r : truth.output_rad) radius = std::max(radius, r);

    std::vector<KernelCheckRow> rows;
    for (std::size_t k = 0; k < dtypes.size(); ++k) {
      const DType t = dtypes[k];
      const DtypeRun& r = runs[k];
      KernelCheckRow row;
      row.kernel = "flash-attention";
      row.shape = fmt::format("Lq={} Lk={} d={} bh={}", p.Lq, p.Lk, p.d, p.batch_heads);
      row.dtype = std::string(gpu::dtype_name(t));
      row.variant = std::string(c.causal ? "causal" : "non-causal") +
                    (c.negative_logits ? ", logits<=-5e4" : "") +
                    (masked_rows > 0 ? ", masked-rows" : "");
      row.executed_on = on_device ? "device (" + device.name + ")" : "twin";
      if (!r.status.ok()) {
        row.note = "run failed: " + r.status.message;
        rows.push_back(row);
        continue;
      }
      const FlashAttentionComparison& x = compared[r.compared];
      const Bounds& b = r.bounds;
      row.deterministic = r.deterministic;
      bool finite = true;
      row.max_abs_error = max_error(x.out, truth.output_mid, truth.output_rad, finite);
      row.ground_truth_radius = radius;

      // lse: finite rows against the truth; masked rows must be exactly −inf.
      double lse_error = 0;
      bool masked_ok = true;
      for (std::size_t i = 0; i < x.lse.size(); ++i) {
        if (truth.lse_mid[i] == -kInf) {
          masked_ok = masked_ok && x.lse[i] == -std::numeric_limits<float>::infinity();
          for (int col = 0; col < p.d; ++col)
            masked_ok = masked_ok && x.out[i * p.d + col] == 0.0f;
          continue;
        }
        if (!std::isfinite(x.lse[i])) finite = false;
        const double err = std::abs(x.lse[i] - truth.lse_mid[i]) + truth.lse_rad[i];
        lse_error = std::isfinite(err) ? std::max(lse_error, err) : kInf;
      }

      row.bound = b.max_output;
      // Ratio of the per-element error to its own bound, maximised (≤ 1 iff every element is
      // within its bound); max error / max bound alone would hide a violating element.
      double ratio = 0, lse_ratio = 0;
      for (std::size_t e = 0; e < x.out.size(); ++e) {
        const double err = std::abs(x.out[e] - truth.output_mid[e]) + truth.output_rad[e];
        ratio = std::max(ratio, element_ratio(err, x.out_bound[e]));
      }
      for (std::size_t i = 0; i < x.lse.size(); ++i) {
        if (truth.lse_mid[i] == -kInf) continue;
        const double err = std::abs(x.lse[i] - truth.lse_mid[i]) + truth.lse_rad[i];
        lse_ratio = std::max(lse_ratio, element_ratio(err, x.lse_bound[i]));
      }
      row.ratio = ratio;

      bool naive_finite = true;
      row.naive_error =
          max_error(x.naive, truth.output_mid, truth.output_rad, naive_finite);  // inf if NaN/inf
      double atol = 0;
      for (double ref : truth.output_mid) atol = std::max(atol, fa_absolute_term(t, ref));
      row.fa_rule_threshold = 2.0 * row.naive_error + atol;
      row.fa_rule_pass = row.max_abs_error <= row.fa_rule_threshold;
      row.pass = finite && masked_ok && row.deterministic && r.twin_match && ratio <= 1.0 &&
                 lse_ratio <= 1.0;
      row.vacuous = b.visible_elements > 0 && b.vacuous_elements == b.visible_elements;
      row.note = fmt::format("lse error {:.3g} bound {:.3g} ratio {:.3g}", lse_error, b.max_lse,
                             lse_ratio);
      if (b.vacuous_elements > 0)
        row.note += fmt::format("; {} of {} elements have a vacuous bound (>= 2 max|v|)",
                                b.vacuous_elements, b.visible_elements);
      if (masked_rows > 0)
        row.note += fmt::format("; fully masked rows: {} ({})", masked_rows,
                                masked_ok ? "output 0, lse -inf" : "NOT 0 / -inf");
      if (!finite) row.note += "; non-finite output in a visible row";
      if (!naive_finite) row.note += "; naive reference non-finite (its scores overflow the dtype)";
      if (on_device) row.note += r.twin_match ? "; bit-identical to twin" : "; DIFFERS from twin";
      row.note += "; " + truth_text;
      rows.push_back(std::move(row));
    }
    return rows;
  };
  return run_cases_in_parallel(cases.size(), request.jobs, check_case, progress, dtypes.size());
}

}  // namespace attncert
