// Rank and spectra: C.rank-linear, C.rank-softmax, C.rank-collapse (classical).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <span>
#include <string>

#include "numerics/certified_spectrum.hpp"
#include "numerics/feature_maps.hpp"
#include "numerics/linear_attention.hpp"
#include "numerics/rank_collapse.hpp"
#include "numerics/rational_matrix.hpp"
#include "numerics/softmax.hpp"
#include "numerics/spectral.hpp"
#include "theory/catalog.hpp"
#include "theory/nearer_limit.hpp"
#include "theory/quantities.hpp"

namespace attncert {
namespace {

template <class T>
RowMatrix<T> matmul(const RowMatrix<T>& a, const RowMatrix<T>& b, const T& zero) {
  RowMatrix<T> c(a.rows(), b.cols());
  for (Eigen::Index i = 0; i < a.rows(); ++i) {
    for (Eigen::Index j = 0; j < b.cols(); ++j) {
      T s = zero;
      for (Eigen::Index k = 0; k < a.cols(); ++k) s += a(i, k) * b(k, j);
      c(i, j) = s;
    }
  }
  return c;
}

template <class T>
RowMatrix<T> transpose(const RowMatrix<T>& a) {
  RowMatrix<T> t(a.cols(), a.rows());
  for (Eigen::Index i = 0; i < a.rows(); ++i) {
    for (Eigen::Index j = 0; j < a.cols(); ++j) t(j, i) = a(i, j);
  }
  return t;
}

// Singular values, descending: certified enclosures in Ball, Mp SVD as the reference, double SVD
// in the search.
template <class T>
std::vector<T> singular_values_of(const RowMatrix<T>& a, const TierContext<T>& ctx) {
  if constexpr (std::is_same_v<T, Ball>) {
    return certified_singular_values(a, ctx.precision).singular_values;
  } else if constexpr (std::is_same_v<T, Mp>) {
    return mp_singular_values(a, ctx.precision);
  } else {
    return singular_values(a);
  }
}

// ---- C.rank-linear --------------------------------------------------------------------------

// map: 0 identity, 1 ReLU, 2 Taylor-2 — the maps whose features of rational inputs are rational.
FeatureMap rational_map(const Instance& x) {
  switch (std::llround(x.scalar("map"))) {
    case 0: return FeatureMap::identity();
    case 1: return FeatureMap::relu();
    default: return FeatureMap::taylor2();
  }
}

// A = φ_q(Q)φ_k(K)ᵀ exactly: the instance's doubles are exact balls, and the rational maps and
// linear_kernel_matrix's sums of products keep them exact (RationalMatrix refuses any that are
// not).
RationalMatrix exact_kernel(const Instance& x) {
  const TierContext<Ball> exact{Ball::kExact};
  return RationalMatrix::from_exact_balls(linear_kernel_matrix<Ball>(
      to_tier(x.array("Q"), exact), to_tier(x.array("K"), exact), rational_map(x), Ball(1)));
}

// rank A ≤ m and rank D⁻¹A ≤ m (D = diag of the row sums), both ranks exact (RationalMatrix):
// every tier gets the same integers, the Ball tier as exact balls, so each instance is decided.
// An n×n matrix has rank ≤ n whatever φ is: a_priori = n makes the sides vacuous when m ≥ n.
class RankLinear : public InequalityClaim<RankLinear> {
 public:
  using InequalityClaim::InequalityClaim;

  // D⁻¹ needs every row sum ≠ 0, decided exactly.
  Tri admissible(const Instance& x, long) const override {
    const RationalMatrix A = exact_kernel(x);
    for (Eigen::Index i = 0; i < A.rows(); ++i) {
      if (A.row_sum_is_zero(i)) return Tri::False;
    }
    return Tri::True;
  }

  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    const RationalMatrix A = exact_kernel(x);
    const auto d = static_cast<Eigen::Index>(std::llround(x.scalar("d")));
    const T m = ctx.from(static_cast<double>(rational_map(x).feature_dim(d)));
    const T shape_bound = ctx.from(static_cast<double>(std::min(A.rows(), A.cols())));
    return {{"rank phi(Q)phi(K)^T <= m", ctx.from(static_cast<double>(A.rank())), Relation::LessEqual,
             m, "", std::nullopt, shape_bound},
            {"rank row-normalised <= m", ctx.from(static_cast<double>(A.row_normalised().rank())),
             Relation::LessEqual, m, "", std::nullopt, shape_bound}};
  }
};

// ---- C.rank-softmax -------------------------------------------------------------------------

bool rows_pairwise_distinct(const RowMatrix<double>& a) {
  for (Eigen::Index i = 0; i < a.rows(); ++i) {
    for (Eigen::Index j = i + 1; j < a.rows(); ++j) {
      if (a.row(i) == a.row(j)) return false;
    }
  }
  return true;
}

// σ_min(exp(QKᵀ/√d)) > 0 for an instance with pairwise distinct rows of Q and of K.
class RankSoftmax : public InequalityClaim<RankSoftmax> {
 public:
  using InequalityClaim::InequalityClaim;
  // The doubles are the exact entries, so comparing them decides distinctness exactly.
  Tri admissible(const Instance& x, long) const override {
    return Tri::from_bool(rows_pairwise_distinct(x.array("Q")) && rows_pairwise_distinct(x.array("K")));
  }
  std::string degenerate_reason(const Instance& x) const override {
    return x.array("Q").rows() == 1 ? "n = 1: the 1×1 matrix exp(qᵀk/√d) > 0 is full rank" : "";
  }
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::exp;
    using std::sqrt;
    const RowMatrix<T> Q = to_tier(x.array("Q"), ctx);
    const RowMatrix<T> K = to_tier(x.array("K"), ctx);
    const T zero = ctx.from(0.0);
    const T root_d = sqrt(ctx.from(static_cast<double>(Q.cols())));
    RowMatrix<T> A = matmul(Q, transpose(K), zero);
    for (Eigen::Index i = 0; i < A.size(); ++i) A.data()[i] = exp(T(A.data()[i] / root_d));
    const std::vector<T> sigma = singular_values_of(A, ctx);
    return {{"sigma_min > 0", sigma.back(), Relation::Greater, zero}};
  }
};

// ---- C.rank-collapse ------------------------------------------------------------------------

// osc(X) = max_{i,j} ‖x_i − x_j‖₂ (0 iff every token is the same, i.e. res(X) = 0).
template <class T>
T oscillation(const RowMatrix<T>& X, const TierContext<T>& ctx) {
  using std::sqrt;
  T best = ctx.from(0.0);
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    for (Eigen::Index j = i + 1; j < X.rows(); ++j) {
      T s = ctx.from(0.0);
      for (Eigen::Index c = 0; c < X.cols(); ++c) s += (X(i, c) - X(j, c)) * (X(i, c) - X(j, c));
      best = tier_max(best, T(sqrt(s)));
    }
  }
  return best;
}

// Per layer l of a pure attention stack X_{l+1} = P_l X_l W_V, P_l = softmax_rows(X_l W_Q W_Kᵀ X_lᵀ/√d_qk):
//   "contraction": osc(X_{l+1}) ≤ δ(P_l)·‖W_V‖_F·osc(X_l),   δ(P) = ½ max_{i,j} Σ_k |P_ik − P_jk|
//   "dobrushin":   δ(P_l) ≤ 1 − e^{−Δ_l},   Δ_l = max_i ‖x_i W_Q W_Kᵀ‖₂ · osc(X_l) / √d_qk
//   "quadratic":   osc(X_{l+1}) ≤ (max_i ‖x_i W_Q W_Kᵀ‖₂/√d_qk)·‖W_V‖_F·osc(X_l)²
// Sides of layer l are named "layer l: …" and grouped in the families "contraction", "dobrushin"
// and "quadratic". The quadratic side is vacuous where spread·osc(X_l) ≥ 1: osc(X_{l+1}) ≤
// ‖W_V‖_F·osc(X_l) holds anyway (the contraction bound with δ ≤ 1).
class RankCollapse : public InequalityClaim<RankCollapse> {
 public:
  using InequalityClaim::InequalityClaim;
  // Every token equal (n = 1 included): P X_l has equal rows too, every side reads 0 ≤ 0.
  std::string degenerate_reason(const Instance& x) const override {
    const RowMatrix<double>& X = x.array("X");
    for (Eigen::Index i = 1; i < X.rows(); ++i) {
      if (X.row(i) != X.row(0)) return "";
    }
    return "every token equal (osc(X_0) = 0): every side reads 0 ≤ 0";
  }
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& inst, const TierContext<T>& ctx) const {
    using std::exp;
    using std::abs;
    using std::sqrt;
    const RowMatrix<double>& X0 = inst.array("X");
    const auto d = X0.cols();
    const auto layers = static_cast<Eigen::Index>(std::llround(inst.scalar("layers")));
    const std::vector<AttentionLayerWeights> weights = random_attention_layers(
        layers, d, d, inst.scalar("weight_scale"),
        static_cast<std::uint64_t>(std::llround(inst.scalar("seed"))));
    const T zero = ctx.from(0.0), one = ctx.from(1.0), half = ctx.from(0.5);
    const T root_d = sqrt(ctx.from(static_cast<double>(d)));
    RowMatrix<T> X = to_tier(X0, ctx);
    std::vector<Inequality<T>> out;
    for (Eigen::Index l = 0; l < layers; ++l) {
      const auto& w = weights[static_cast<std::size_t>(l)];
      const RowMatrix<T> WQ = to_tier(w.query, ctx), WK = to_tier(w.key, ctx), WV = to_tier(w.value, ctx);
      const RowMatrix<T> XQ = matmul(X, WQ, zero);
      const RowMatrix<T> S = matmul(XQ, transpose(matmul(X, WK, zero)), zero);
      const RowMatrix<T> Arows = matmul(XQ, transpose(WK), zero);  // a_i = x_i W_Q W_Kᵀ
      const Eigen::Index n = X.rows();
      RowMatrix<T> P(n, n);
      T max_a = zero;
      for (Eigen::Index i = 0; i < n; ++i) {
        std::vector<T> row;
        for (Eigen::Index j = 0; j < n; ++j) row.push_back(S(i, j) / root_d);
        const std::vector<T> p = softmax<T>(std::span<const T>(row), one);
        for (Eigen::Index j = 0; j < n; ++j) P(i, j) = p[static_cast<std::size_t>(j)];
        T a2 = zero;
        for (Eigen::Index c = 0; c < d; ++c) a2 += Arows(i, c) * Arows(i, c);
        max_a = tier_max(max_a, T(sqrt(a2)));
      }
      T delta = zero;  // Dobrushin's coefficient of P
      for (Eigen::Index i = 0; i < n; ++i) {
        for (Eigen::Index j = i + 1; j < n; ++j) {
          T s = zero;
          for (Eigen::Index k = 0; k < n; ++k) s += abs(T(P(i, k) - P(j, k)));
          delta = tier_max(delta, T(half * s));
        }
      }
      T wv2 = zero;
      for (Eigen::Index i = 0; i < WV.size(); ++i) wv2 += WV.data()[i] * WV.data()[i];
      const T wv = sqrt(wv2);
      const T osc_in = oscillation(X, ctx);
      const RowMatrix<T> Y = matmul(matmul(P, X, zero), WV, zero);
      const T osc_out = oscillation(Y, ctx);
      const T spread = max_a / root_d;
      out.push_back({fmt::format("layer {}: contraction", l + 1), osc_out, Relation::LessEqual,
                     T(delta * wv * osc_in), "contraction"});
      // δ and its bound both lie in [0, 1] and saturate at 1 for a large spread: slack measured
      // from the nearer end.
      const T dobrushin_bound = T(one - exp(T(-spread * osc_in)));
      out.push_back({fmt::format("layer {}: dobrushin", l + 1), delta, Relation::LessEqual, dobrushin_bound,
                     "dobrushin", nearer_limit(delta, dobrushin_bound, ctx.from(0.0), one)});
      out.push_back({fmt::format("layer {}: quadratic", l + 1), osc_out, Relation::LessEqual,
                     T(spread * wv * osc_in * osc_in), "quadratic", std::nullopt, T(wv * osc_in)});
      X = Y;
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Claim> make_c_rank_linear() {
  ClaimInfo info;
  info.id = "C.rank-linear";
  info.source = "classical (factorisation: φ(Q)φ(K)ᵀ is a product through ℝ^m)";
  info.provenance = Provenance::Classical;
  info.statement_latex =
      R"(\mathrm{rank}\,\phi(Q)\phi(K)^\top \le m,\quad \mathrm{rank}\,D^{-1}\phi(Q)\phi(K)^\top \le m)";
  info.statement_text =
      "rank(φ(Q)φ(K)ᵀ) ≤ m (feature dimension) and rank(D⁻¹φ(Q)φ(K)ᵀ) ≤ m after row normalisation; identity "
      "map: m = d";
  info.hypotheses =
      "Q, K ∈ ℝ^{n×d}; map 0 identity (m = d), 1 ReLU (m = d), 2 Taylor-2 (m = 1 + d + d(d+1)/2) — the "
      "feature maps that keep rational inputs rational; every row sum ≠ 0 (for D⁻¹, decided exactly)";
  info.note =
      "both ranks are exact: the inputs are doubles, hence rationals, the three maps keep them rational, and "
      "A and D⁻¹A are computed and ranked in exact rational arithmetic (FLINT; numerics/rational_matrix.hpp), "
      "so every instance is certified or refuted. Restricted to these maps on purpose: elu+1 (on negative "
      "entries) and Performer features are exponentials, transcendental at nonzero rationals, and whether "
      "rank ≤ m there is not decidable by interval arithmetic — an enclosure can certify singular values "
      "nonzero (a lower bound on the rank) but never one exactly zero, so those instances could only stay "
      "undecided. An n×n matrix has rank ≤ n whatever φ is: instances with m ≥ n are vacuous (a_priori n), "
      "and n = m = 1 is one of them; the informative instances are n > m";
  SearchSpace space{{{"n", 1, 24, true, false, "number of queries = keys"},
                     {"d", 1, 8, true, false, "head dimension"},
                     {"map", 0, 2, true, false, "feature map (see hypotheses)"}},
                    {{"Q", "n", "d", Law::Normal, 0, 1, false, "queries"},
                     {"K", "n", "d", Law::Normal, 0, 1, false, "keys"}}};
  return std::make_unique<RankLinear>(std::move(info), std::move(space));
}

std::unique_ptr<Claim> make_c_rank_softmax() {
  ClaimInfo info;
  info.id = "C.rank-softmax";
  info.source = "classical (e.g. Bhojanapalli et al. 2020, \"Low-rank bottleneck in multi-head attention "
                "models\", ICML; the exponential kernel is strictly positive definite)";
  info.provenance = Provenance::Classical;
  info.statement_latex = R"(\sigma_{\min}\big(\exp(QK^\top/\sqrt d)\big) > 0\ \text{generically, even for } d < n)";
  info.statement_text = "exp(QKᵀ/√d) (entrywise) is generically full rank, even when d < n: σ_min > 0";
  info.hypotheses =
      "Q, K ∈ ℝ^{n×d}; 'generic' is checked as: rows of Q pairwise distinct and rows of K pairwise distinct "
      "(exact); d < n allowed";
  info.note =
      "pairwise distinct rows are necessary, not sufficient (e.g. q_1 − q_2 ⊥ every k_j makes two rows of the "
      "matrix equal): a refutation on such an instance shows the non-generic set, not a false theorem. Very "
      "ill-conditioned instances (n ≫ d) may stay inconclusive at the precision cap. Effective/stable/"
      "numerical rank and the spectral gap are reported by `attncert report` (numerics/rank_measures.hpp). "
      "Degenerate: n = 1 (one positive entry). The side compares with 0, so it has no tightness ratio";
  SearchSpace space{{{"n", 1, 16, true, false, "number of queries = keys"},
                     {"d", 1, 8, true, false, "head dimension"}},
                    {{"Q", "n", "d", Law::Normal, 0, 1, false, "queries"},
                     {"K", "n", "d", Law::Normal, 0, 1, false, "keys"}}};
  return std::make_unique<RankSoftmax>(std::move(info), std::move(space));
}

std::unique_ptr<Claim> make_c_rank_collapse() {
  ClaimInfo info;
  info.id = "C.rank-collapse";
  info.source =
      "Dong, Cordonnier, Loukas, \"Attention is not all you need: pure attention loses rank doubly "
      "exponentially with depth\", ICML 2021 (arXiv 2103.03404) — checked through Dobrushin's ergodicity "
      "coefficient (Dobrushin 1956; Seneta, Non-negative Matrices and Markov Chains, 2006, §3.1)";
  info.provenance = Provenance::Classical;
  info.kind = ClaimKind::Trend;
  info.statement_latex =
      R"(\mathrm{osc}(X_{l+1}) \le \delta(P_l)\|W_V\|_F\,\mathrm{osc}(X_l),\ \delta(P_l) \le 1 - e^{-\Delta_l},\ )"
      R"(\mathrm{osc}(X_{l+1}) \le \tfrac{\max_i\|x_iW_QW_K^\top\|}{\sqrt{d}}\|W_V\|_F\,\mathrm{osc}(X_l)^2)";
  info.statement_text =
      "pure attention X_{l+1} = softmax(X_l W_Q W_Kᵀ X_lᵀ/√d) X_l W_V, osc(X) = max_{i,j}‖x_i − x_j‖ "
      "(= 0 iff res(X) = X − 1xᵀ = 0): per layer osc(X_{l+1}) ≤ δ(P_l)·‖W_V‖_F·osc(X_l), δ(P) = ½max_{i,j}"
      "Σ_k|P_ik − P_jk| ≤ 1 − e^{−Δ_l}, Δ_l = max_i‖x_i W_Q W_Kᵀ‖·osc(X_l)/√d, hence osc(X_{l+1}) ≤ "
      "(max_i‖x_i W_Q W_Kᵀ‖/√d)·‖W_V‖_F·osc(X_l)² (quadratic: doubly exponential once small)";
  info.hypotheses =
      "single head, no skip connections, no MLP, d_qk = d; weights N(0, weight_scale²/d) drawn from `seed` "
      "(numerics/rank_collapse.hpp random_attention_layers)";
  info.note =
      "a weaker, rigorous substitute for the paper's Lemma 2.1 (‖res(SA(X))‖_{1,∞} ≤ (4γβ/√d_qk)·"
      "‖res(X)‖³_{1,∞}), whose γ depends on the attention entries without a closed form we can certify, and "
      "whose res is minimised over x in a composite norm. Ours is quadratic in osc rather than cubic in "
      "‖res‖_{1,∞}, but gives the same doubly exponential collapse when the weights' norms (the factor "
      "max_i‖x_iW_QW_Kᵀ‖·‖W_V‖_F/√d) stay bounded — which is the paper's condition as well; it is not "
      "a monotone decrease for arbitrary weights, and that is not claimed. Tightness per family "
      "(contraction, dobrushin, quadratic) over all layers; the quadratic side is vacuous where "
      "spread·osc(X_l) ≥ 1, since osc(X_{l+1}) ≤ ‖W_V‖_F·osc(X_l) anyway; degenerate: every token equal "
      "(n = 1 included), where every side is 0 ≤ 0";
  SearchSpace space{{{"n", 1, 12, true, false, "number of tokens"},
                     {"d", 1, 8, true, false, "token dimension (= d_qk)"},
                     {"layers", 1, 4, true, false, "depth"},
                     {"weight_scale", 0.1, 3, false, true, "weight standard deviation × √d"},
                     {"seed", 0, 1e9, true, false, "seed of the layer weights"}},
                    {{"X", "n", "d", Law::Normal, 0, 1, false, "input tokens, one per row"}}};
  return std::make_unique<RankCollapse>(std::move(info), std::move(space));
}

}  // namespace attncert
