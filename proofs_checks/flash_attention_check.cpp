// Flash-attention forward: validation against the certified ground truth.
//
// FORWARD ERROR BOUND OF THE KERNEL'S ARITHMETIC (docs/flash_attention_kernel_bound.md, same
// numbering). One analysis per query row with n ≥ 1 visible keys (a prefix: masked keys and
// fully masked tiles are exact), evaluated as a guaranteed and a probabilistic bound
// (error_budget.hpp). The kernel is judged against the exact attention of the values it READ
// (q̂, k̂, v̂: the inputs rounded to its dtype) and the float scale σ̂ it multiplies by; input
// rounding is reported apart. Notation: u = 2⁻²⁴; u_P, η_P = the dtype's unit roundoff and half
// its smallest subnormal (fp32: P is not rounded, u_P = η_P = 0); E = kPortableExpRelativeError;
// tiles of B_k keys (gpu::kFlashAttentionTiling: a parameter), b(j) = ⌊j/B_k⌋, n_t = ⌈n/B_k⌉;
// exact problem t_j = σ̂ q̂·k̂_j, M = max t_j, W = Σ e^{t_j−M} (≥ 1), α_j = e^{t_j−M}/W,
// O_c = Σ α_j v̂_jc, lse = M + log W. Every computed float is (pre-rounding value)(1 + δ),
// |δ| ≤ u (+ a subnormal floor, 7.): the exact identity error = Σ_k (pre-rounding value)_k δ_k,
// with pre-rounding = exact + its running error, gives first-order coefficients at the exact
// data and a second-order rest bounded with running errors.
//
// 1. Logits. s_j = fmaf chain over c from +0: exact partial sums S_jc (evaluated in double:
//    products of floats are exact, the sums within γ₅₃(c)Σ|products|, added, 8.). A round-to-nearest result of modulus in [2^e, 2^{e+1}) errs by ≤ u·2^e:
//    with binade(x) = 2^⌊log₂x⌋ and the pre-rounding value within the running error ē_{c−1} of
//    S_jc, step c errs by ≤ a_jc·u, a_jc = binade(|S_jc| + ē_{c−1}), ē_c = ē_{c−1} + a_jc·u
//    (up to 2× below u·|S_jc|). t̂_j = fl(ŝ_j σ̂) ("+0" exact) errs by ≤ a'_j·u, a'_j =
//    binade(σ̂(|s_j| + ē_d)). So |ε_j| = |t̂_j − t_j| ≤ Δ_j = D1_j·u + r1_j with
//    D1_j = σ̂Σ_c a_jc + a'_j (sum of the events' bounds), D2_j = σ̂²Σ_c a_jc² + a'_j² (squares),
//    r1_j = the subnormal floors only.
// 2. Weights. Key j's weight in the row sum is p_j = expf(fl(t̂_j − m̂_b)) times the α̂ =
//    expf(fl(m̂_{b'−1} − m̂_{b'})) of each later tile b' whose computed maximum moved (α̂ = 1
//    exactly otherwise). The arguments telescope to t̂_j − M̂, so
//        p_j·Πα̂ = e^{t̂_j − M̂}·e^{φ_j}·Π(1 + η),  φ_j = Σ (argument)·δ,  |η| ≤ E,
//    M̂ cancels in O = N/l and in M̂ + log l. |φ_j| ≤ φ̄_j = u(M − t_j + 2Δ̄), Δ̄ = max Δ_j (+ the
//    double evaluation of t). Moves: tile b ≥ 1 can move iff its exact maximum > m_{b−1} − 2Δ̄;
//    k_j = such tiles after b(j). First order at the exact data: argument x_j = m_b(j) − t_j for
//    p_j, μ_b = m_b − m_{b−1} for the α of tile b; each computed argument is within 2Δ̄ of it,
//    the rest rφ_j = (1 + k_j)·2Δ̄·u. Write c_j = e^{ε_j+φ_j}Π(1+η) − 1: |c_j| ≤ C̄_j =
//    e^{Δ_j+φ̄_j}(1+E)^{1+k_j} − 1, and c_j − (its linear part) ≤ rc_j = r1_j + rφ_j + C̄_j −
//    Δ_j − φ̄_j − (1+k_j)E (all Taylor coefficients of the product are ≥ 0). A key that is the
//    unique maximum of its tile and above the earlier running maximum by > 2Δ̄ has p_j = 1
//    exactly: no exp error, no P rounding (its e_j = k_j factors instead of 1 + k_j).
// 3. Row sum l. Lane leaf sums (keys x, x + lanes, …), the xor butterfly (after the stage of
//    offset o, lane y < o holds the lanes ≡ y mod o), l ← fmaf(l, α̂, tile sum): each node's
//    rounding multiplies the keys below it: coefficient Σ_{j∈node} α_j (the l update of tile b:
//    all keys of tiles ≤ b); a node adding a zero and the first update (l = 0) are exact.
//    |b̃_j| ≤ B̄_j = (1+u)^{len_l} − 1 (the relative rounding of key j's path), len_l = (keys per
//    lane − 1) + stages + 1 + (n_t − 1 − b(j)); rb_j = B̄_j − len_l·u; B̄' = max_j B̄_j.
// 4. Numerator N_c. p̃_j = fl_P(p_j) = p_j(1 + δ_P) + η (the dtype rounding: |δ_P| ≤ u_P·ρ_j,
//    ρ_j = min(1, binade(p⁺)/p⁻) with p± bounds of p_j from its exact value e^{−x_j}, Δ_j, Δ̄,
//    the argument's rounding and E; η the subnormal floor, 7.); acc ← fl(acc·α̂)
//    at a moving tile, then acc ← fmaf(p̃_j, v̂_jc, acc): the rounding after key j multiplies all
//    keys ≤ j: coefficient |Σ_{j'≤j} α_j' v̂_j'c|; acc·α̂ of tile b: |Σ_{j' in tiles < b} α_j' v̂_j'c|;
//    δ_P,j: α_j|v̂_jc|ρ_j. |ã_j| ≤ Ā_j = (1 + u_Pρ_j)(1+u)^{len_N} − 1 (key j's path),
//    len_N = (n − j) + k_j; ra_j = Ā_j − u_Pρ_j − len_N·u.
// 5. Output. N̂ = W'Σ α_j(1 + c_j)(1 + ã_j)v̂_j, l̂ = W'Σ α_j(1 + c_j)(1 + b̃_j). With the
//    perturbed softmax α'_j = α_j(1 + c_j)/(1 + C), C = Σ α_j c_j ∈ [D_low − 1, C_high],
//    D_low = Σ α_j(1 + c_low_j) > 0 (c_low_j = e^{−Δ_j−φ̄_j}(1−E)^{e_j} − 1: weights stay positive,
//    so no smallness of the logit errors is needed), O' = Σ α'_j v̂_j:
//        N̂/l̂ − O = (O' − O) + (A' − O'B')/(1 + B'),  A' = Σ α'_j v̂_j ã_j,  B' = Σ α'_j b̃_j,
//        O' − O = Σ α_j c_j(v̂_j − O) − C·Σ α_j c_j(v̂_j − O)/(1 + C).
//    First order: the logit events (1.) with coefficients α_j|v̂_jc − O_c|·(…), the exponent
//    arguments (2.) α_j|v̂_jc − O_c|x_j and μ_b|Σ_{j<tile b} α_j(v̂_jc − O_c)| — common-mode
//    errors of p_j and α̂ act on α_j(v̂_jc − O_c), not on |v̂| —, the nodes of l (3.) times |O_c|,
//    the P·V events (4.), the division |O_c|. Systematic: E·Σ α_j|v̂_jc − O_c| (expf of p, keys
//    with p ≠ 1) + E·|Σ_{j<tile b} α_j(v̂_jc − O_c)| per possibly moving tile, floors (7.).
//    Remainder, with G1 = Σ α_j|v̂_j − O|C̄_j, dO = G1/D_low ≥ |O' − O|, C̄ = max(C_high,
//    1 − D_low) ≥ |C|, κ'_j = (C̄_j + C̄)/D_low ≥ |α'_j/α_j − 1|:
//        softmax  Σ α_j|v̂_j − O|rc_j + C̄·dO,
//        rounding Σ α_j[κ'_j(|v̂_j|Ā_j + |O|B̄_j) + (1 + κ'_j)(|v̂_j|ra_j + (|O| + dO)rb_j)] + dO·B̄',
//        quotient B̄'G2/(1 − B̄'),  G2 = Σ α_j(1 + κ'_j)(|v̂_j|Ā_j + (|O| + dO)B̄_j) ≥ |A' − O'B'|,
//        division u·(dO + G2 + quotient + floors).
// 6. lse = fl(M̂ + logf(l̂)) = lse + log(1 + C) + log(1 + B') + (logf error) + rounding. First
//    order: the linear parts of C and B' (coefficients α_j for the logit and exponent events,
//    Σ_{j<tile b} α_j for α̂, Σ_{node} α_j for l) and the final addition |lse|. Systematic:
//    E(Σ_{p≠1} α_j + Σ_b Σ_{j<tile b} α_j), logf: u|log l̂| + kPortableLogAbsError, |log l̂| ≤
//    log W + Δ̄ + max(log(1 + C_high), −log D_low) − log(1 − B̄'), flushed weights. Remainder:
//    Σ α_j(rc_j + κ'_jB̄_j + (1 + κ'_j)rb_j) + max of x − log(1 + x) at x = D_low − 1 and C_high
//    (convex) + B̄'²/(2(1 − B̄')) + u·(the pre-rounding error bound).
// 7. Floors (systematic): subnormal fmaf/product results and the P rounding's η_P: the floor of
//    p̃_j, scaled by Πα̂ ≤ (1+E)^{k_j} and the chain, divided by l̂ ≥ W e^{−Δ̄}(1 − B̄):
//    e^{Δ̄}η_P Σ_j|v̂_jc|(1+Ā_j)(1+E)^{e_j}/(W·D_low(1 − B̄')); flushed weights (expf argument <
//    −87.33, α̂ underflow) and subnormal roundings: ≤ (n_t + 2)·n·2⁻¹²⁴ relative to W' (it
//    also covers weights below double's range in the evaluation).
// 8. Evaluation in double. t_j carries ≤ e_t = σ̂γ₅₃(d)Σ_c|q̂_c k̂_jc| + 2⁻⁵³|t_j|; α_j then a
//    relative error ≤ κ = expm1(2e_t + 2⁻⁵³ max(M − t_j)) + (n + 4)·2⁻⁵² (exp ≤ 1 ulp, the sum W,
//    the division); O_c, every partial sum Σα v and Σα(v − O) an absolute error ≤ ē =
//    2(κ + (n+1)·2⁻⁵³)max_j|v̂_jc|, added to each |·| it enters; the bound's own sums of
//    non-negative terms (≤ 1e-9 relative) and α's κ: the result is multiplied by
//    (1 + κ)²(1 + 10⁻⁹).
// Probabilistic: min(λ√(Σ (c_k u_k)²), Σ c_k u_k) + S + R with λ from the false-alarm probability over all the
// case's checked values (outputs and lse of its visible rows): model = independent mean-zero
// roundings (round-to-nearest on unstructured data). Structured data (ties, constant or
// repeated V, powers of two) correlate the δ_k: the guaranteed bound still holds, the
// probabilistic one may not.
// A fully masked row is exact (O = 0, lse = −inf) and contributes no error.
//
// INPUT QUANTIZATION (reported apart): max_e |O(original inputs, 1/√d) − O(q̂, k̂, v̂, σ̂)|
// enclosed from the two fast-tier enclosures (midpoints' distance ∓ both radii).
//
// NAIVE SAME-PRECISION REFERENCE (the flash-attention rule's baseline, as FA's attention_ref
// without upcast): q·scale rounded to the dtype, scores rounded to the dtype, softmax in fp32
// with P rounded to the dtype, P·V accumulated in fp32 and rounded to the dtype; measured
// against the same truth (of the rounded inputs).
//
// GROUND TRUTH (per dtype: of the values that dtype's kernel read, with its float scale)
// The exact O, lse enclosed as mid ± rad. Default (KernelTruth::fast):
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
// after which R comes from Arb rows (the others stay below R_lo); the same for lse, and the same
// for the probabilistic bounds when they are given. The FA rule E ≤ 2N + atol, with E, N maxima
// over the case:
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
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gpu/device.hpp"
#include "gpu/flash_attention.hpp"
#include "gpu/output_equality.hpp"
#include "gpu/portable_exp.hpp"
#include "gpu/portable_log.hpp"
#include "numerics/rng.hpp"
#include "numerics/scalar_traits.hpp"
#include "proofs_checks/error_budget.hpp"
#include "proofs_checks/kernel_checks.hpp"
#include "proofs_checks/naive_attention_reference.hpp"

namespace attncert {
namespace {

using gpu::DType;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kU = 0x1p-24;
constexpr double kU53 = 0x1p-53;
// The bound's own double sums of non-negative terms: a few 1e-16 times the term count (8.).
constexpr double kBoundSafety = 1.0 + 1e-9;
constexpr long kGroundTruthBits = 96;
// Below this the rounding model of fp32 results holds: a subnormal result has an absolute
// error ≤ 2⁻¹⁵⁰ instead (the floors).
constexpr double kFloatFloor = 0x1p-150;

/// 2^⌊log₂ x⌋ for x > 0 (0 for x = 0): a round-to-nearest result of modulus ≤ x has an absolute
/// error ≤ u·binade(x) — up to 2× below u·x.
double binade(double x) {
  if (!(x > 0)) return 0.0;
  if (x < 0x1p-1022) return x;  // subnormal double: x itself is an upper bound
  // Clearing the mantissa bits of a normal double leaves 2^⌊log₂ x⌋ (inf stays inf).
  return std::bit_cast<double>(std::bit_cast<std::uint64_t>(x) & 0xfff0000000000000ULL);
}

/// The value the kernel reads for input x (double → float → dtype).
double kernel_value(DType t, double x) {
  return static_cast<double>(gpu::round_through(t, static_cast<float>(x)));
}

}  // namespace

FlashAttentionRowBound flash_attention_row_bound(const FlashAttentionRow& row, double lambda,
                                                 const gpu::FlashAttentionTiling& tiling) {
  const int d = row.head_dim;
  const auto du = static_cast<std::size_t>(d);
  if (d < 1 || row.query.size() != du || row.keys.empty() || row.keys.size() % du != 0 ||
      row.values.size() != row.keys.size())
    throw std::invalid_argument(fmt::format(
        "flash_attention_row_bound: head_dim {} with {} query, {} key and {} value numbers; "
        "need head_dim >= 1, one query row and as many keys as values",
        d, row.query.size(), row.keys.size(), row.values.size()));
  if (!(lambda > 0) || !std::isfinite(lambda))
    throw std::invalid_argument(fmt::format("flash_attention_row_bound: lambda {} must be > 0",
                                            lambda));
  if (!(row.scale > 0.0f) || !std::isfinite(row.scale))
    throw std::invalid_argument(
        fmt::format("flash_attention_row_bound: scale {} must be finite and > 0", row.scale));
  const DType dtype = row.dtype;
  for (const auto& [values, name] : {std::pair{row.query, "query"}, std::pair{row.keys, "key"},
                                     std::pair{row.values, "value"}})
    for (double x : values)
      if (!(kernel_value(dtype, x) == x))
        throw std::invalid_argument(fmt::format(
            "flash_attention_row_bound: {} {} is not a {} value (the bound is for the values "
            "the kernel reads)",
            name, x, gpu::dtype_name(dtype)));

  const std::size_t n = row.keys.size() / du;
  FlashAttentionRowBound result;
  result.output.assign(du, kInf), result.output_probabilistic.assign(du, kInf);
  result.lse = result.lse_probabilistic = kInf;
  for (double x : row.values)
    if (!std::isfinite(x)) return result;  // ±inf inputs: no rounding model holds

  const double u = kU;
  const double u_p = dtype == DType::f32 ? 0.0 : gpu::dtype_unit_roundoff(dtype);
  const double eta_p = dtype == DType::f32 ? 0.0 : gpu::dtype_half_smallest_subnormal(dtype);
  const double E = static_cast<double>(gpu::kPortableExpRelativeError);
  const double sigma = static_cast<double>(row.scale);
  const auto block_k = static_cast<std::size_t>(tiling.block_k);
  const auto lanes = static_cast<std::size_t>(tiling.lanes);
  const std::size_t keys_per_lane = static_cast<std::size_t>(tiling.keys_per_lane());
  const std::size_t tiles = (n + block_k - 1) / block_k;
  const double gamma53_d = higham_gamma(d, kU53);

  // 1. logits: each rounding's absolute error ≤ u·binade(|pre-rounding value|), the value
  // within its running error of the exact partial sum
  std::vector<double> t(n), D1(n), D2(n), Delta(n), r1(n);
  double eval_t = 0, Delta_max = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const double* k = &row.keys[j * du];
    double S = 0, abs_products = 0, sum_abs = 0, sum_sq = 0, running = 0;
    for (std::size_t c = 0; c < du; ++c) {
      const double product = row.query[c] * k[c];  // exact: two floats
      S += product;  // the exact partial sum within γ₅₃(c+1)·Σ|products| (8.)
      abs_products += std::abs(product);
      const double a = binade(std::abs(S) + 2 * kU53 * (c + 1.0) * abs_products + running);
      running += a * u;
      sum_abs += a, sum_sq += a * a;
    }
    // The fmaf chain must not overflow float (then t̂ = ±inf, no rounding model).
    if (!((abs_products + running) * (1 + sigma) < 0x1p127)) return result;
    const double a_scale =
        binade(sigma * (std::abs(S) + 2 * kU53 * du * abs_products + running) * (1 + 2 * kU53));
    t[j] = sigma * S;
    D1[j] = sigma * sum_abs + a_scale;
    D2[j] = sigma * sigma * sum_sq + a_scale * a_scale;
    r1[j] = sigma * du * kFloatFloor + kFloatFloor;  // subnormal results: floors only
    Delta[j] = D1[j] * u + r1[j];
    eval_t = std::max(eval_t, sigma * gamma53_d * abs_products * (1 + kU53) + kU53 * std::abs(t[j]));
    Delta_max = std::max(Delta_max, Delta[j]);
  }
  const double Dbar = Delta_max + eval_t;  // |t̂_j − t_j as evaluated| ≤ Dbar

  // 2. exact tile maxima, moves
  std::vector<double> running_max(tiles), move(tiles, 0.0);
  std::vector<char> can_move(tiles, 0);
  for (std::size_t b = 0; b < tiles; ++b) {
    double tile_max = -kInf;
    for (std::size_t j = b * block_k; j < std::min(n, (b + 1) * block_k); ++j)
      tile_max = std::max(tile_max, t[j]);
    running_max[b] = b == 0 ? tile_max : std::max(running_max[b - 1], tile_max);
    if (b > 0) {
      can_move[b] = tile_max > running_max[b - 1] - 2 * Dbar;
      move[b] = running_max[b] - running_max[b - 1];
    }
  }
  // A key whose p is exactly 1: the unique maximum of its tile by more than 2Δ̄, and above the
  // earlier running maximum by more than 2Δ̄ (so t̂_j − m̂_b = +0 and expf(0) = 1): no exp
  // error, no P rounding (1 is a value of every dtype).
  std::vector<char> exact_one(n, 0);
  for (std::size_t b = 0; b < tiles; ++b) {
    std::size_t top = b * block_k;
    double second = -kInf;
    for (std::size_t j = b * block_k + 1; j < std::min(n, (b + 1) * block_k); ++j) {
      if (t[j] > t[top]) second = t[top], top = j;
      else second = std::max(second, t[j]);
    }
    exact_one[top] = t[top] - second > 2 * Dbar && (b == 0 || t[top] > running_max[b - 1] + 2 * Dbar);
  }
  std::vector<std::size_t> moves_after(tiles, 0);
  for (std::size_t b = tiles - 1; b > 0; --b) moves_after[b - 1] = moves_after[b] + can_move[b];
  const double M = running_max[tiles - 1];

  // 3. weights at the exact data (8.: evaluated in double)
  std::vector<double> alpha(n);
  double W = 0, spread = 0;
  for (std::size_t j = 0; j < n; ++j) {
    alpha[j] = std::exp(t[j] - M);
    W += alpha[j];
    spread = std::max(spread, M - t[j]);
  }
  for (double& a : alpha) a /= W;
  const double kappa = std::expm1(2 * eval_t + kU53 * spread) + (n + 4.0) * 0x1p-52;
  const double inflation = (1 + kappa) * (1 + kappa) * kBoundSafety;

  // Per key, column-independent (2.–4.)
  std::vector<double> x(n), Cbar(n), rc(n), Bbar_key(n), rb(n), Abar(n), ra(n), floor_factor(n),
      rho_p(n);
  const double kappa_arg = 2 * eval_t + kU53 * spread;  // double error of x_j (8.)
  std::vector<double> c_low(n);  // c_j ≥ c_low_j > −1
  double Bbar = 0;               // B̄' = max_j B̄_j ≥ |B'|
  for (std::size_t j = 0; j < n; ++j) {
    const std::size_t b = j / block_k;
    const double k_j = static_cast<double>(moves_after[b]);
    x[j] = running_max[b] - t[j];
    const double phi_bar = u * (M - t[j] + 2 * Dbar);
    const double r_phi = (1 + k_j) * 2 * Dbar * u;
    const double exps = k_j + (exact_one[j] ? 0 : 1);  // inexact expf factors of its weight
    // P rounding: |fl_P(p) − p| ≤ u_P·binade(p) ≤ u_P·binade(p⁺), so relative to p ≥ p⁻ at most
    // u_P·ρ_j, ρ_j = min(1, binade(p⁺)/p⁻), p± the exact tile-relative weight moved by the
    // logit errors, the argument's rounding and the exp error.
    double rho = 1;
    const double p_exact = std::exp(-x[j]);
    if (p_exact > 0x1p-1000) {
      const double spread_p = Delta[j] + Dbar + u * (x[j] + 2 * Dbar) + kappa_arg + 0x1p-52;
      const double p_high = p_exact * std::exp(spread_p) * (1 + E);
      const double p_low = p_exact * std::exp(-spread_p) * (1 - E);
      rho = std::min(1.0, binade(p_high) / p_low);
    }
    rho_p[j] = rho;
    const double u_pj = exact_one[j] ? 0.0 : u_p * rho;
    Cbar[j] = std::expm1(Delta[j] + phi_bar + exps * std::log1p(E));
    c_low[j] = std::expm1(-(Delta[j] + phi_bar) + exps * std::log1p(-E));
    rc[j] = r1[j] + r_phi + (Cbar[j] - Delta[j] - phi_bar - exps * E);
    const double len_l = static_cast<double>(keys_per_lane - 1 + tiling.butterfly_stages() + 1 +
                                             (tiles - 1 - b));
    Bbar_key[j] = std::expm1(len_l * std::log1p(u));
    rb[j] = Bbar_key[j] - len_l * u;
    const double len_n = static_cast<double>(n - j) + k_j;
    Abar[j] = std::expm1(std::log1p(u_pj) + len_n * std::log1p(u));
    ra[j] = Abar[j] - u_pj - len_n * u;
    floor_factor[j] = exact_one[j] ? 0.0 : (1 + Abar[j]) * std::exp(exps * std::log1p(E));  // 7.
    Bbar = std::max(Bbar, Bbar_key[j]);
  }
  if (!(Bbar < 0.5)) return result;  // (1+u)^len − 1 ≥ 1/2: far beyond any real row
  // 5. the perturbed softmax: C = Σ α_j c_j ∈ [D_low − 1, C_high], 1 + C ≥ D_low > 0 (every
  // weight stays positive: no smallness of the logit errors is needed); α'_j = α_j(1 + c_j)/(1 + C)
  // differs from α_j by ≤ α_j κ'_j.
  double C_high = 0, D_low = 0;
  for (std::size_t j = 0; j < n; ++j) C_high += alpha[j] * Cbar[j], D_low += alpha[j] * (1 + c_low[j]);
  C_high *= 1 + kappa, D_low /= 1 + kappa;
  if (!(D_low > 0)) return result;
  const double C_abs = std::max(C_high, 1 - D_low);
  std::vector<double> kappa_w(n);
  double lse_remainder_keys = 0;
  for (std::size_t j = 0; j < n; ++j) {
    kappa_w[j] = (Cbar[j] + C_abs) / D_low;
    lse_remainder_keys +=
        alpha[j] * (rc[j] + kappa_w[j] * Bbar_key[j] + (1 + kappa_w[j]) * rb[j]);
  }

  // 3. the row-sum nodes: Σ_nodes Σ_{j∈node} α_j and its squares (a node adding a zero — a
  // masked key or an empty subtree — is exact, and so is the first l ← fmaf(0, α̂, sum));
  // prefix α sums per tile
  double node_sum = 0, node_square_sum = 0;
  std::vector<double> alpha_before(tiles, 0.0);  // Σ α_j over tiles < b
  {
    double cumulative = 0;
    std::vector<double> lane(lanes);
    std::vector<std::size_t> lane_keys(lanes);
    const auto add_node = [&](double weight, std::size_t keys_a, std::size_t keys_b) {
      if (keys_a > 0 && keys_b > 0) node_sum += weight, node_square_sum += weight * weight;
    };
    for (std::size_t b = 0; b < tiles; ++b) {
      alpha_before[b] = cumulative;
      for (std::size_t lx = 0; lx < lanes; ++lx) {
        double s = 0;
        std::size_t visible = 0;
        for (std::size_t i = 0; i < keys_per_lane; ++i) {
          const std::size_t j = b * block_k + lx + i * lanes;
          if (j >= n) continue;
          if (i > 0) add_node(s + alpha[j], visible, 1);
          s += alpha[j], ++visible;
        }
        lane[lx] = s, lane_keys[lx] = visible;
      }
      for (std::size_t offset = lanes / 2; offset > 0; offset /= 2)
        for (std::size_t y = 0; y < offset; ++y) {
          add_node(lane[y] + lane[y + offset], lane_keys[y], lane_keys[y + offset]);
          lane[y] += lane[y + offset], lane_keys[y] += lane_keys[y + offset];
        }
      cumulative += lane[0];
      add_node(cumulative, b, 1);  // l ← fmaf(l, α̂, tile sum): exact for b = 0 (l = 0)
    }
  }

  // 6. lse
  const double lse = M + std::log(W);
  {
    ErrorBudget budget;
    double s1 = 0, s2 = 0, x1 = 0, x2 = 0;
    for (std::size_t j = 0; j < n; ++j) {
      s1 += alpha[j] * D1[j], s2 += alpha[j] * alpha[j] * D2[j];
      x1 += alpha[j] * x[j], x2 += alpha[j] * x[j] * alpha[j] * x[j];
    }
    budget.roundings(s1, s2, u);
    budget.roundings(x1, x2, u);
    double exp_systematic = 0;
    for (std::size_t j = 0; j < n; ++j)
      if (!exact_one[j]) exp_systematic += E * alpha[j];
    for (std::size_t b = 1; b < tiles; ++b) {
      if (move[b] > 0) budget.rounding(alpha_before[b] * move[b], u);
      if (can_move[b]) exp_systematic += E * alpha_before[b];
    }
    budget.roundings(node_sum, node_square_sum, u);
    const double lse_magnitude = std::abs(lse) + eval_t + 0x1p-52 * (std::abs(M) + std::log(W));
    budget.rounding(lse_magnitude, u);
    // flushed weights relative to l̂ ≥ W e^{−Δ̄} D_low (1 − B̄') (W ≥ 1)
    const double flushed =
        std::exp(Dbar) * (tiles + 2.0) * static_cast<double>(n) * 0x1p-124 / (D_low * (1 - Bbar));
    if (!(flushed < 0.5)) return result;
    const double log_l = std::log(W) + Dbar + std::max(std::log1p(C_high), -std::log(D_low)) -
                         std::log1p(-Bbar) - std::log1p(-flushed);
    budget.systematic(exp_systematic - std::log1p(-flushed) + u * log_l +
                      static_cast<double>(gpu::kPortableLogAbsError));
    // x − log(1 + x) ≥ 0 is convex: its largest value on [D_low − 1, C_high] is at an end.
    const auto log_rest = [](double x) { return x - std::log1p(x); };
    const double pre = lse_remainder_keys * (1 + kappa) +
                       std::max(log_rest(D_low - 1), log_rest(C_high)) +
                       Bbar * Bbar / (2 * (1 - Bbar));
    budget.remainder(pre + u * (budget.guaranteed() + pre));
    result.lse = budget.guaranteed() * inflation;
    result.lse_probabilistic = budget.probabilistic(lambda) * inflation;
  }

  // 5. outputs. The row-sum parts, column-independent: Σ α_j κ'_j B̄_j, Σ α_j (1+κ'_j) rb_j,
  // Σ α_j (1+κ'_j) B̄_j (they multiply |O| or |O'| ≤ |O| + dO).
  double kb = 0, rbk = 0, bk = 0;
  for (std::size_t j = 0; j < n; ++j) {
    kb += alpha[j] * kappa_w[j] * Bbar_key[j];
    rbk += alpha[j] * (1 + kappa_w[j]) * rb[j];
    bk += alpha[j] * (1 + kappa_w[j]) * Bbar_key[j];
  }
  for (std::size_t c = 0; c < du; ++c) {
    double O = 0, v_max = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const double v = row.values[j * du + c];
      O += alpha[j] * v, v_max = std::max(v_max, std::abs(v));
    }
    const double e_bar = 2 * (kappa + (n + 1.0) * kU53) * v_max;
    const double O_abs = std::abs(O) + e_bar;
    ErrorBudget budget;
    double logit1 = 0, logit2 = 0, sub1 = 0, sub2 = 0, p1 = 0, p2 = 0, chain1 = 0, chain2 = 0;
    double exp_systematic = 0, floor_p = 0, soft_rest = 0, G1 = 0, round_rest = 0, G2_v = 0;
    double prefix_v = 0, prefix_dev = 0;  // Σ_{j'<j} α v and α(v − O), signed
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t b = j / block_k;
      if (b > 0 && j % block_k == 0 && can_move[b]) {  // the α̂ of tile b
        const double dev = std::abs(prefix_dev) + 2 * e_bar, acc = std::abs(prefix_v) + e_bar;
        if (move[b] > 0) budget.rounding(dev * move[b], u);
        exp_systematic += E * dev;
        chain1 += acc, chain2 += acc * acc;  // acc ← fl(acc·α̂)
      }
      const double v = row.values[j * du + c];
      const double deviation = std::abs(v - O) + e_bar;
      const double w = alpha[j] * deviation;
      logit1 += w * D1[j], logit2 += w * w * D2[j];
      sub1 += w * x[j], sub2 += w * x[j] * w * x[j];
      const double pv = exact_one[j] ? 0.0 : alpha[j] * std::abs(v) * rho_p[j];  // δ_P,j
      if (!exact_one[j]) exp_systematic += E * w;
      p1 += pv, p2 += pv * pv;
      prefix_v += alpha[j] * v, prefix_dev += alpha[j] * (v - O);
      const double acc = std::abs(prefix_v) + e_bar;  // fmaf(p̃_j, v_j, acc)
      chain1 += acc, chain2 += acc * acc;
      floor_p += std::abs(v) * floor_factor[j];
      soft_rest += alpha[j] * deviation * rc[j];
      G1 += alpha[j] * deviation * Cbar[j];
      round_rest += alpha[j] * (kappa_w[j] * std::abs(v) * Abar[j] +
                                (1 + kappa_w[j]) * std::abs(v) * ra[j]);
      G2_v += alpha[j] * (1 + kappa_w[j]) * std::abs(v) * Abar[j];
    }

    budget.roundings(logit1, logit2, u);
    budget.roundings(sub1, sub2, u);
    budget.roundings(chain1, chain2, u);
    budget.roundings(O_abs * node_sum, O_abs * O_abs * node_square_sum, u);
    budget.rounding(O_abs, u);  // the division
    if (u_p > 0) budget.roundings(p1, p2, u_p);
    const double to_output = std::exp(Dbar) / (W * D_low * (1 - Bbar));
    const double floors = to_output * (eta_p * floor_p +
                                       (tiles + 2.0) * static_cast<double>(n) * 0x1p-124 *
                                           (2 * v_max + 1));
    budget.systematic(exp_systematic + floors);
    // (O' − O): first order above; rest Σ α_j|v_j − O|rc_j + C̄·G1/D_low. |O' − O| ≤ dO.
    const double dO = G1 * (1 + kappa) / D_low;
    const double O_perturbed = O_abs + dO;
    const double softmax_rest = soft_rest * (1 + kappa) + C_abs * dO;
    // (A' − O'B')/(1 + B'): first order above; rest from α' ≠ α, O' ≠ O and the products.
    const double rounding_rest =
        (round_rest + O_abs * kb + O_perturbed * rbk) * (1 + kappa) + dO * Bbar;
    const double G2 = (G2_v + O_perturbed * bk) * (1 + kappa);  // ≥ |A' − O'B'|
    const double quotient = Bbar * G2 / (1 - Bbar);
    budget.remainder(softmax_rest + rounding_rest + quotient +
                     u * (dO + G2 + quotient + floors));
    result.output[c] = budget.guaranteed() * inflation;
    result.output_probabilistic[c] = budget.probabilistic(lambda) * inflation;
  }
  return result;
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

/// Inputs as the kernel reads them (fp16/bf16: double → float → 16 bit, as kernel_value).
struct DeviceInputs {
  std::vector<float> qf, kf, vf;
  std::vector<std::uint16_t> qh, kh, vh;
  const void* q = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
};

DeviceInputs kernel_inputs(const Problem& p, DType t) {
  // The generators stay far inside every dtype's range (N(0,1) and ±2^10); an input that
  // overflowed would reach the kernel as ±inf, so it is refused, not narrowed (issue 18).
  for (const auto* x : {&p.q, &p.k, &p.v})
    for (double value : *x)
      if (gpu::narrowing_overflows(t, value))
        throw std::domain_error(fmt::format("flash attention check: input {} overflows {}", value,
                                            gpu::dtype_name(t)));
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

/// Bottom-right aligned causal masking, as the kernel; `scale` empty = the exact 1/√d.
MidpointRadiusOptions truth_options(const Problem& p, std::optional<double> scale) {
  MidpointRadiusOptions o;
  if (p.causal) o.keys = KeyVisibility::causal_mask(DiagonalAlignment::bottom_right);
  o.fallback_precision_bits = kGroundTruthBits;
  o.scale = scale;
  return o;
}

/// The fast-tier enclosure of a problem (one batch, its heads); `scale` empty = the exact 1/√d.
AttentionEnclosure fast_truth(const Problem& p, std::optional<double> scale) {
  const Tensor4View<const double> Q(p.q.data(), 1, p.batch_heads, p.Lq, p.d);
  const Tensor4View<const double> K(p.k.data(), 1, p.batch_heads, p.Lk, p.d);
  const Tensor4View<const double> V(p.v.data(), 1, p.batch_heads, p.Lk, p.d);
  return midpoint_radius_attention(Q, K, V, truth_options(p, scale));
}

/// The certified truth of what one dtype's kernel read (its rounded inputs and float scale).
/// Ball: every visible row in Arb. Fast: the double enclosure, then the rows whose verdicts its
/// radius leaves undecided recomputed in Arb (the same function and precision as the Ball truth).
AttentionEnclosure certified_truth(const Problem& read, float scale, KernelTruth tier,
                                   const FlashAttentionComparison& compared) {
  AttentionEnclosure truth = fast_truth(read, static_cast<double>(scale));
  std::vector<std::size_t> rows;
  if (tier == KernelTruth::ball) {
    for (std::size_t row = 0; row < truth.row_tier.size(); ++row)
      if (truth.row_tier[row] == RowTier::Double) rows.push_back(row);
  } else {
    rows = flash_attention_rows_to_refine(truth, std::span(&compared, 1));
  }
  if (!rows.empty()) {
    const Tensor4View<const double> Q(read.q.data(), 1, read.batch_heads, read.Lq, read.d);
    const Tensor4View<const double> K(read.k.data(), 1, read.batch_heads, read.Lk, read.d);
    const Tensor4View<const double> V(read.v.data(), 1, read.batch_heads, read.Lk, read.d);
    refine_rows_in_balls(Q, K, V, truth_options(read, static_cast<double>(scale)), rows, truth);
  }
  return truth;
}

/// max_e |O_e(original) − O_e(read)|, enclosed from two enclosures of the same shape.
InputQuantizationEnclosure quantization_effect(const AttentionEnclosure& original,
                                               const AttentionEnclosure& read) {
  InputQuantizationEnclosure q;
  for (std::size_t e = 0; e < original.output_mid.size(); ++e)
    q.add(original.output_mid[e], original.output_rad[e], read.output_mid[e], read.output_rad[e]);
  return q;
}

/// How the truth was obtained, for the row's note.
std::string truth_note(KernelTruth tier, const AttentionEnclosure& truth) {
  const std::size_t out_of_range = truth.count(RowTier::BallOutOfRange);
  const std::string beyond =
      out_of_range > 0 ? fmt::format(", {} beyond double's range in Arb", out_of_range) : "";
  if (tier == KernelTruth::ball) return "truth: Arb balls, of the inputs as read";
  return fmt::format("truth: fast enclosure ({} rows refined in Arb{}), of the inputs as read",
                     truth.count(RowTier::BallRefined), beyond);
}

/// The problem as the dtype's kernel reads it (every number rounded double → float → dtype).
Problem as_read(const Problem& p, DType t) {
  Problem r = p;
  for (auto* x : {&r.q, &r.k, &r.v})
    for (double& value : *x) value = kernel_value(t, value);
  return r;
}

/// Per-element and per-row bounds of one dtype's run, guaranteed and probabilistic.
struct Bounds {
  std::vector<double> output, lse;  // guaranteed: per element, per row; 0 for masked rows
  std::vector<double> output_probabilistic, lse_probabilistic;
  double max_output = 0, max_lse = 0, max_output_probabilistic = 0, max_lse_probabilistic = 0;
  // Elements of visible rows, and those whose bound is no smaller than 2·max_j |v_jc| — the
  // most two convex combinations of the values can differ by, so such a bound says nothing.
  std::size_t visible_elements = 0, vacuous_elements = 0;
  double lambda = 0;
};

/// The bounds of the problem as read (`read`), λ from the false-alarm probability over the
/// values checked in the case: the outputs and lse of every visible row.
Bounds bounds(const Problem& read, DType t, float scale, double false_alarm) {
  Bounds b;
  const auto d = static_cast<std::size_t>(read.d);
  const std::size_t rows = static_cast<std::size_t>(read.batch_heads) * read.Lq;
  b.output.assign(rows * d, 0.0), b.output_probabilistic.assign(rows * d, 0.0);
  b.lse.assign(rows, 0.0), b.lse_probabilistic.assign(rows, 0.0);
  std::size_t visible_rows = 0;
  for (int i = 0; i < read.Lq; ++i)
    visible_rows += gpu::flash_attention_visible_keys(i, read.Lq, read.Lk, read.causal) > 0;
  visible_rows *= static_cast<std::size_t>(read.batch_heads);
  if (visible_rows == 0) return b;
  b.lambda = probabilistic_lambda(false_alarm, static_cast<double>(visible_rows * (d + 1)));
  FlashAttentionRow in;
  in.dtype = t, in.head_dim = read.d, in.scale = scale;
  for (int h = 0; h < read.batch_heads; ++h) {
    for (int i = 0; i < read.Lq; ++i) {
      const std::size_t row = static_cast<std::size_t>(h) * read.Lq + i;
      const auto keys = static_cast<std::size_t>(
          gpu::flash_attention_visible_keys(i, read.Lq, read.Lk, read.causal));
      if (keys == 0) continue;  // exact
      const std::size_t kv = static_cast<std::size_t>(h) * read.Lk * d;
      in.query = std::span(&read.q[row * d], d);
      in.keys = std::span(&read.k[kv], keys * d);
      in.values = std::span(&read.v[kv], keys * d);
      const FlashAttentionRowBound fb = flash_attention_row_bound(in, b.lambda);
      for (std::size_t c = 0; c < d; ++c) {
        double v_max = 0;
        for (std::size_t j = 0; j < keys; ++j) v_max = std::max(v_max, std::abs(in.values[j * d + c]));
        b.output[row * d + c] = fb.output[c];
        b.output_probabilistic[row * d + c] = fb.output_probabilistic[c];
        b.max_output = std::max(b.max_output, fb.output[c]);
        b.max_output_probabilistic = std::max(b.max_output_probabilistic, fb.output_probabilistic[c]);
        ++b.visible_elements;
        if (!(fb.output[c] < 2 * v_max)) ++b.vacuous_elements;
      }
      b.lse[row] = fb.lse, b.lse_probabilistic[row] = fb.lse_probabilistic;
      b.max_lse = std::max(b.max_lse, fb.lse);
      b.max_lse_probabilistic = std::max(b.max_lse_probabilistic, fb.lse_probabilistic);
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

/// "" when two runs' O and lse are equal by value (gpu/output_equality.hpp: all NaNs equal,
/// else the same bits), else where they first differ.
std::string output_difference(const RunOutput& a, const RunOutput& b) {
  if (const auto d = gpu::first_output_difference(a.out, b.out)) return "O " + d->message();
  if (const auto d = gpu::first_output_difference(a.lse, b.lse)) return "lse " + d->message();
  return "";
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
  for (const FlashAttentionComparison& c : comparisons) {
    const bool probabilistic_sizes =
        (c.out_probabilistic_bound.empty() && c.lse_probabilistic_bound.empty()) ||
        (c.out_probabilistic_bound.size() == rows * d && c.lse_probabilistic_bound.size() == rows);
    if (c.out.size() != rows * d || c.naive.size() != rows * d || c.out_bound.size() != rows * d ||
        c.lse.size() != rows || c.lse_bound.size() != rows || !probabilistic_sizes)
      throw std::invalid_argument(fmt::format(
          "flash_attention_rows_to_refine: {} comparison has out {}, naive {}, out_bound {}, lse "
          "{}, lse_bound {}, probabilistic {} / {} values; the truth has {} rows x {} columns",
          gpu::dtype_name(c.dtype), c.out.size(), c.naive.size(), c.out_bound.size(),
          c.lse.size(), c.lse_bound.size(), c.out_probabilistic_bound.size(),
          c.lse_probabilistic_bound.size(), rows, d));
  }

  std::vector<char> refine(rows, 0), in_double(rows, 0);
  for (std::size_t row = 0; row < rows; ++row)
    in_double[row] = truth.row_tier[row] == RowTier::Double;
  // Per element and per lse: error within the bound; the printed ratios (masked rows: no lse
  // term; their outputs are exact, rad 0). For each bound the comparison carries.
  const auto refine_for_bounds = [&](const FlashAttentionComparison& c,
                                     const std::vector<double>& out_bound,
                                     const std::vector<double>& lse_bound) {
    for (std::size_t row = 0; row < rows; ++row) {
      if (!in_double[row]) continue;
      bool open = undecided(std::abs(static_cast<double>(c.lse[row]) - truth.lse_mid[row]),
                            truth.lse_rad[row], lse_bound[row]);
      for (std::size_t e = row * d; e < (row + 1) * d && !open; ++e)
        open = undecided(std::abs(static_cast<double>(c.out[e]) - truth.output_mid[e]),
                         truth.output_rad[e], out_bound[e]);
      refine[row] = refine[row] || open;
    }
    refine_for_ratio(
        rows,
        [&](std::size_t row, const auto& add) {
          for (std::size_t e = row * d; e < (row + 1) * d; ++e)
            add(ratio_term(c.out[e], truth.output_mid[e], truth.output_rad[e], out_bound[e]));
        },
        in_double, refine);
    refine_for_ratio(
        rows,
        [&](std::size_t row, const auto& add) {
          if (truth.lse_mid[row] != -kInf)
            add(ratio_term(c.lse[row], truth.lse_mid[row], truth.lse_rad[row], lse_bound[row]));
        },
        in_double, refine);
  };
  for (const FlashAttentionComparison& c : comparisons) {
    refine_for_bounds(c, c.out_bound, c.lse_bound);
    if (!c.out_probabilistic_bound.empty())
      refine_for_bounds(c, c.out_probabilistic_bound, c.lse_probabilistic_bound);
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
  require_false_alarm(request.false_alarm);
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
  // One task per case; cases are independent. Per dtype: the kernel (twice, and the twin on a
  // device), the bounds and the truth of what it read; the truth of the original inputs once,
  // for the input-quantization effect (fast tier: an enclosure, not refined).
  auto check_case = [&](std::size_t case_index) {
    const Case& c = cases[case_index];
    const Problem p = make_problem(c, root);
    const float scale = gpu::default_attention_scale(p.d);
    int masked_rows = 0;
    for (int i = 0; i < p.Lq; ++i)
      masked_rows += gpu::flash_attention_visible_keys(i, p.Lq, p.Lk, p.causal) == 0;
    masked_rows *= p.batch_heads;
    const AttentionEnclosure original_truth = fast_truth(p, std::nullopt);

    std::vector<KernelCheckRow> rows;
    for (const DType t : dtypes) {
      KernelCheckRow row;
      row.kernel = "flash-attention";
      row.shape = fmt::format("Lq={} Lk={} d={} bh={}", p.Lq, p.Lk, p.d, p.batch_heads);
      row.dtype = std::string(gpu::dtype_name(t));
      row.variant = std::string(c.causal ? "causal" : "non-causal") +
                    (c.negative_logits ? ", logits<=-5e4" : "") +
                    (masked_rows > 0 ? ", masked-rows" : "");
      row.executed_on = on_device ? "device (" + device.name + ")" : "twin";
      row.false_alarm = request.false_alarm;
      const DeviceInputs in = kernel_inputs(p, t);
      RunOutput first = run(p, in, t, scale, on_device);
      if (!first.status.ok()) {
        row.note = "run failed: " + first.status.message;
        row.could_not_run = true;
        rows.push_back(row);
        continue;
      }
      const RunOutput second = run(p, in, t, scale, on_device);
      row.deterministic = second.status.ok() && output_difference(first, second).empty();
      bool twin_match = true;
      std::string twin_difference;
      if (on_device) {
        const RunOutput twin = run(p, in, t, scale, false);
        twin_difference = output_difference(first, twin);
        twin_match = twin_difference.empty();
      }
      const Problem read = as_read(p, t);
      const Bounds b = bounds(read, t, scale, request.false_alarm);
      FlashAttentionComparison x;
      x.dtype = t;
      x.out = std::move(first.out);
      x.lse = std::move(first.lse);
      x.naive = naive_attention(read, t, scale);
      x.out_bound = b.output, x.lse_bound = b.lse;
      x.out_probabilistic_bound = b.output_probabilistic;
      x.lse_probabilistic_bound = b.lse_probabilistic;
      const AttentionEnclosure truth = certified_truth(read, scale, request.truth, x);
      const InputQuantizationEnclosure q = quantization_effect(original_truth, truth);
      row.input_quantization_low = q.low, row.input_quantization_high = q.high;
      for (double r : truth.output_rad) row.ground_truth_radius = std::max(row.ground_truth_radius, r);

      bool finite = true;
      row.max_abs_error = max_error(x.out, truth.output_mid, truth.output_rad, finite);
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

      // Ratio of the per-element error to its own bound, maximised (≤ 1 iff every element is
      // within its bound); max error / max bound alone would hide a violating element.
      struct Ratios {
        double output = 0, lse = 0;
        std::string worst;  // the element or lse of the largest ratio, as head/row/column
      };
      const auto ratios = [&](const std::vector<double>& out_bound,
                              const std::vector<double>& lse_bound) {
        Ratios r;
        double largest = 0;
        const auto d = static_cast<std::size_t>(p.d), Lq = static_cast<std::size_t>(p.Lq);
        for (std::size_t e = 0; e < x.out.size(); ++e) {
          const double err = std::abs(x.out[e] - truth.output_mid[e]) + truth.output_rad[e];
          r.output = std::max(r.output, element_ratio(err, out_bound[e]));
          if (r.output > largest)
            largest = r.output,
            r.worst = fmt::format("O[head {}][row {}][col {}]", e / d / Lq, e / d % Lq, e % d);
        }
        for (std::size_t i = 0; i < x.lse.size(); ++i) {
          if (truth.lse_mid[i] == -kInf) continue;
          const double err = std::abs(x.lse[i] - truth.lse_mid[i]) + truth.lse_rad[i];
          r.lse = std::max(r.lse, element_ratio(err, lse_bound[i]));
          if (r.lse > largest)
            largest = r.lse, r.worst = fmt::format("lse[head {}][row {}]", i / Lq, i % Lq);
        }
        return r;
      };
      const Ratios guaranteed = ratios(x.out_bound, x.lse_bound);
      const Ratios probabilistic = ratios(x.out_probabilistic_bound, x.lse_probabilistic_bound);
      row.bound = b.max_output;
      row.ratio = std::max(guaranteed.output, guaranteed.lse);
      row.probabilistic_bound = b.max_output_probabilistic;
      row.probabilistic_ratio = std::max(probabilistic.output, probabilistic.lse);

      bool naive_finite = true;
      row.naive_error =
          max_error(x.naive, truth.output_mid, truth.output_rad, naive_finite);  // inf if NaN/inf
      double atol = 0;
      for (double ref : truth.output_mid) atol = std::max(atol, fa_absolute_term(t, ref));
      row.fa_rule_threshold = 2.0 * row.naive_error + atol;
      row.fa_rule_pass = row.max_abs_error <= row.fa_rule_threshold;
      const bool sound = finite && masked_ok && row.deterministic && twin_match;
      row.pass = sound && row.ratio <= 1.0;
      row.probabilistic_pass = sound && row.probabilistic_ratio <= 1.0;
      row.vacuous = b.visible_elements > 0 && b.vacuous_elements == b.visible_elements;
      row.note = fmt::format(
          "lse error {:.3g} bound {:.3g} ratio {:.3g} (probabilistic {:.3g}); worst {}, "
          "probabilistic {}; input rounding moves O by [{:.3g}, {:.3g}] (fast-tier enclosures)",
          lse_error, b.max_lse, guaranteed.lse, probabilistic.lse,
          guaranteed.worst.empty() ? "-" : guaranteed.worst,
          probabilistic.worst.empty() ? "-" : probabilistic.worst, row.input_quantization_low,
          row.input_quantization_high);
      row.note += fmt::format(
          "; probabilistic bound: lambda {:.3g} for false-alarm probability {:.3g} per case, "
          "model: independent mean-zero roundings",
          b.lambda, request.false_alarm);
      if (row.probabilistic_ratio > 1.0 && row.ratio <= 1.0)
        row.note += " -- EXCEEDED: a defect unless the roundings are correlated (structured data)";
      if (b.vacuous_elements > 0)
        row.note += fmt::format("; {} of {} elements have a vacuous bound (>= 2 max|v|)",
                                b.vacuous_elements, b.visible_elements);
      if (masked_rows > 0)
        row.note += fmt::format("; fully masked rows: {} ({})", masked_rows,
                                masked_ok ? "output 0, lse -inf" : "NOT 0 / -inf");
      if (!finite) row.note += "; non-finite output in a visible row";
      if (!naive_finite) row.note += "; naive reference non-finite (its scores overflow the dtype)";
      if (on_device)
        row.note += device_twin_note(twin_match, twin_difference);
      row.note += "; " + truth_note(request.truth, truth);
      rows.push_back(std::move(row));
    }
    return rows;
  };
  return run_cases_in_parallel(cases.size(), request, check_case, progress, dtypes.size());
}

}  // namespace attncert
