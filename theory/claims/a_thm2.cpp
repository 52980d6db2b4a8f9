// Paper A, Theorem 2 (reconstructed): geometric separability of the selected tokens.
//
// Setting (paper): tokens x_j on a sphere of radius M, weights α = softmax(l), I_N the N largest
// weights, context s = Σ_{j∈I_N} α_j x_j, selective ball B_r(s). A selected token i ∈ I_N is
// distinguishable if α_i x_i lies in B_r(s); N_s counts them. Since
//     α_i x_i − s = −R_i,   R_i = Σ_{j∈I_N∖{i}} α_j x_j,
// Markov's inequality and Cauchy–Schwarz give, for a FIXED radius r > 0 and weights α fixed while
// the tokens are random,
//     P(‖R_i‖ > r) <= E‖R_i‖ / r <= ξ_i / r,  ξ_i² = E‖R_i‖²,
//     E[N_s]/N >= 1 − (1/(N·r))·Σ_{i∈I_N} ξ_i.
//
// What is random (our reading, documented in the note): the tokens, with α, I_N and r fixed. The
// printed form sums ξ_i over i ∈ I_N with the normaliser 1/N, which fits a fixed I_N (a random
// I_N as in A.thm1-random would give Σ over all L tokens with 1/L), and Markov needs r fixed.
// Token law checked here: x_j = σ_j·M·w_j with i.i.d. Rademacher signs σ_j and given unit
// directions w_j (so every x_j lies on the sphere of radius M·‖w_j‖ ≈ M, and E x_j = 0). Then
//     ξ_i² = Σ_{j∈I_N∖{i}} α_j² M² ‖w_j‖²     (E σ_jσ_k = δ_jk), exactly,
// and E[N_s] = Σ_{i∈I_N} P(‖R_i‖ <= r) is an exact finite average over the 2^{N−1} sign patterns
// of I_N∖{i} (2^{N−2} up to the global sign flip, which leaves ‖R_i‖ unchanged), enumerated here
// with a Gray code (one O(N) update of ‖R_i‖² = σᵀGσ per pattern). Every event ‖R_i‖² <= r² is
// decided in Ball; an undecided one (a tie) widens the enclosure of E[N_s] to cover both outcomes.
//
// The distinguishability condition on non-selected tokens (‖α_j x_j − s‖ > r for j ∉ I_N) is not
// part of the bound: the Markov argument says nothing about it, and with the experiments' radius
// r = min_{j∉I_N}‖s − α_j x_j‖ it holds by construction (up to the minimiser itself).
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>

#include "numerics/softmax.hpp"
#include "theory/catalog.hpp"
#include "theory/quantities.hpp"

namespace attncert {
namespace {

// Tri of a <= b in every tier (plain comparison outside Ball).
template <class T>
Tri tier_le(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, Ball>) {
    return a <= b;
  } else {
    return Tri::from_bool(a <= b);
  }
}

// Indices of the N largest logits (= the N largest α, softmax being increasing), ties to the
// lower index. Decided on the instance's exact doubles, so every tier selects the same set.
std::vector<std::size_t> top_n(const RowMatrix<double>& logits, std::size_t n) {
  std::vector<std::size_t> idx(static_cast<std::size_t>(logits.size()));
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
    return logits.data()[a] > logits.data()[b];
  });
  idx.resize(n);
  return idx;
}

class Separability : public InequalityClaim<Separability> {
 public:
  using InequalityClaim::InequalityClaim;

  // N <= L: a shrink that drops tokens, or a sample with N > L, selects every token instead.
  void project(Instance& x) const override {
    if (x.has_scalar("N") && x.has_scalar("L")) x.scalars["N"] = std::min(x.scalar("N"), x.scalar("L"));
  }

  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::sqrt;
    const auto& logits = x.array("logits");
    const auto& w = x.array("W");
    const auto n = static_cast<std::size_t>(std::llround(x.scalar("N")));
    if (n < 1 || n > static_cast<std::size_t>(logits.size()) || w.rows() != logits.size()) {
      throw std::invalid_argument(fmt::format(
          "A.thm2: need 1 <= N <= L and one direction per token; got N = {}, L = {}, W rows = {}",
          n, logits.size(), w.rows()));
    }
    const std::vector<T> alpha = softmax<T>(instance_logits(x, ctx), ctx.from(1.0));
    const std::vector<std::size_t> sel = top_n(logits, n);
    const T M = ctx.from(x.scalar("M"));
    const T r = T(ctx.from(x.scalar("rho")) * M);
    const T r2 = T(r * r);

    // G_ab = α_a α_b M² ⟨w_a, w_b⟩ over the selected tokens a, b.
    RowMatrix<T> G(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
    for (std::size_t a = 0; a < n; ++a) {
      for (std::size_t b = 0; b <= a; ++b) {
        T dot = ctx.from(0.0);
        for (Eigen::Index c = 0; c < w.cols(); ++c) {
          dot += ctx.from(w(static_cast<Eigen::Index>(sel[a]), c)) *
                 ctx.from(w(static_cast<Eigen::Index>(sel[b]), c));
        }
        const T g = T(alpha[sel[a]] * alpha[sel[b]] * M * M * dot);
        G(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(b)) = g;
        G(static_cast<Eigen::Index>(b), static_cast<Eigen::Index>(a)) = g;
      }
    }

    RowMatrix<T> two_g(G.rows(), G.cols());
    for (Eigen::Index i = 0; i < G.size(); ++i) two_g.data()[i] = T(T(2) * G.data()[i]);

    T xi_sum = ctx.from(0.0);
    std::uint64_t inside = 0;     // patterns certainly with ‖R_i‖ <= r, summed over i
    std::uint64_t undecided = 0;  // patterns whose event the tier could not decide
    std::uint64_t patterns = 1;   // per i
    for (std::size_t i = 0; i < n; ++i) {
      std::vector<std::size_t> rest;  // positions in G of I_N∖{i}
      for (std::size_t a = 0; a < n; ++a) {
        if (a != i) rest.push_back(a);
      }
      const std::size_t m = rest.size();
      T xi2 = ctx.from(0.0);
      for (std::size_t a : rest) xi2 += G(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(a));
      xi_sum += sqrt(xi2);
      if (m == 0) {  // R_i = 0: always inside (r > 0)
        ++inside;
        continue;
      }
      // σ_0 = +1 fixed (global flip symmetry); Gray code over σ_1..σ_{m−1}.
      patterns = std::uint64_t{1} << (m - 1);
      std::vector<int> sigma(m, 1);
      std::vector<T> h(m, ctx.from(0.0));  // h = G σ
      T q = ctx.from(0.0);                 // q = σᵀ G σ = ‖R_i‖²
      for (std::size_t a = 0; a < m; ++a) {
        for (std::size_t b = 0; b < m; ++b) {
          h[a] += G(static_cast<Eigen::Index>(rest[a]), static_cast<Eigen::Index>(rest[b]));
        }
        q += h[a];
      }
      for (std::uint64_t k = 0; k < patterns; ++k) {
        if (k > 0) {
          // Gray code k ^ (k >> 1) flips bit t = ctz(k), i.e. σ_{t+1}.
          const std::size_t t = static_cast<std::size_t>(std::countr_zero(k)) + 1;
          const Eigen::Index gt = static_cast<Eigen::Index>(rest[t]);
          // σ' = σ − 2s e_t (s = σ_t): q' = q − 4s h_t + 4 G_tt, h' = h − 2s G e_t. Scaling by
          // 2 and 4 is exact in every tier, so the update only rounds in the additions.
          T step = T(T(2) * h[t]);  // 2h_t ∓ 2G_tt, then q ∓= 2·step
          if (sigma[t] > 0) {
            step -= two_g(gt, gt);
            q -= T(T(2) * step);
            for (std::size_t a = 0; a < m; ++a) h[a] -= two_g(static_cast<Eigen::Index>(rest[a]), gt);
          } else {
            step += two_g(gt, gt);
            q += T(T(2) * step);
            for (std::size_t a = 0; a < m; ++a) h[a] += two_g(static_cast<Eigen::Index>(rest[a]), gt);
          }
          sigma[t] = -sigma[t];
        }
        const Tri in = tier_le(q, r2);
        if (in == Tri::True) {
          ++inside;
        } else if (in == Tri::Unknown) {
          ++undecided;
        }
      }
    }
    // Every i has the same number of patterns: 2^{N−2} for N >= 2, 1 for N = 1.
    const T denominator = ctx.from(static_cast<double>(n) * static_cast<double>(patterns));
    T fraction = T(ctx.from(static_cast<double>(inside)) / denominator);
    if (undecided > 0) {
      const T upper = T(ctx.from(static_cast<double>(inside + undecided)) / denominator);
      if constexpr (std::is_same_v<T, Ball>) {
        fraction = hull(fraction, upper);
      } else {
        fraction = upper;  // double/Mp decide every event; unreachable, kept for symmetry
      }
    }
    const T bound = T(ctx.from(1.0) - xi_sum / T(ctx.from(static_cast<double>(n)) * r));
    return {{"markov", fraction, Relation::GreaterEqual, bound}};
  }
};

}  // namespace

std::unique_ptr<Claim> make_a_thm2() {
  ClaimInfo info;
  info.id = "A.thm2";
  info.source = "Mudarisov, Burtsev, Petrova, State, arXiv 2508.17821 (NeurIPS 2025), Theorem 2";
  info.provenance = Provenance::Reconstructed;
  info.statement_latex =
      R"(\frac{\mathbb{E}[N_s]}{N} \ge 1 - \frac{1}{N r}\sum_{i\in I_N}\xi_i,\quad )"
      R"(\xi_i^2 = \mathbb{E}\big\|\textstyle\sum_{j\in I_N\setminus\{i\}}\alpha_j x_j\big\|^2,\ )"
      R"(N_s = \#\{i\in I_N : \|\alpha_i x_i - s\| \le r\},\ s = \textstyle\sum_{j\in I_N}\alpha_j x_j)";
  info.statement_text =
      "E[N_s]/N ≥ 1 − (1/(N·r))·Σ_{i∈I_N} ξ_i, ξ_i² = E‖Σ_{j∈I_N∖{i}} α_j x_j‖², "
      "N_s = #{i ∈ I_N : ‖α_i x_i − s‖ ≤ r}, s = Σ_{I_N} α_j x_j, I_N = top-N of α = softmax(l)";
  info.hypotheses =
      "α, I_N and the radius r = ρ·M > 0 fixed; tokens x_j = σ_j·M·w_j random with i.i.d. "
      "Rademacher signs σ_j (on the sphere of radius M); expectation exact by enumeration, N ≤ 10";
  info.note =
      "reconstructed: the expectation is over random tokens (α, I_N, r fixed) — the printed "
      "Σ_{i∈I_N}/N fits a fixed I_N and Markov needs a fixed r; the bound holds for any token law, "
      "checked for random-sign tokens x_j = ±M·w_j, for which ξ_i and E[N_s] are exact. Only the "
      "selected-token condition ‖α_i x_i − s‖ ≤ r enters N_s (the Markov argument bounds nothing "
      "else). Not checked: the exponential (Hoeffding-type) upper bound (constants unknown) and "
      "the multi-head coverage 1 − (1 − p)^H (an identity under independence). Reported finding "
      "(experiment, not a theorem): on GPT-2, N_s/N declines up to N ≈ 16 and saturates at "
      "0.70–0.85, with r = min_{j∉I_N}‖s − α_j x_j‖; measured by `attncert sweep` later";
  SearchSpace space{
      {{"L", 1, 12, true, false, "number of tokens"},
       {"N", 1, 10, true, false, "size of the selected set I_N (clamped to <= L)"},
       {"d", 1, 8, true, false, "embedding dimension"},
       {"M", 0.1, 10, false, true, "radius of the token sphere"},
       {"rho", 0.01, 2, false, true, "selective radius r = rho·M"}},
      {{"logits", "1", "L", Law::Normal, 0, 3, false, "logits; α = softmax(logits)"},
       {"W", "L", "d", Law::Sphere, 1, 1, false, "token directions w_j (unit rows)"}}};
  return std::make_unique<Separability>(std::move(info), std::move(space));
}

}  // namespace attncert
