// Rank and spectra: C.rank-linear, C.rank-softmax, C.rank-collapse (classical).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <span>

#include "numerics/certified_spectrum.hpp"
#include "numerics/feature_maps.hpp"
#include "numerics/linear_attention.hpp"
#include "numerics/rank_collapse.hpp"
#include "numerics/rank_measures.hpp"
#include "numerics/softmax.hpp"
#include "numerics/spectral.hpp"
#include "theory/catalog.hpp"
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

// Ball: the largest k with σ_k certainly > 0, a certified LOWER bound on the rank. Other tiers
// (search and reference only): the numerical rank at tolerance max(rows, cols)·2^{−p}·σ₁, p the
// tier's precision (the LAPACK convention; a plain "σ > 0" would count rounding noise).
template <class T>
long rank_lower_bound(const RowMatrix<T>& a, const TierContext<T>& ctx) {
  const std::vector<T> sigma = singular_values_of(a, ctx);
  if constexpr (std::is_same_v<T, Ball>) {
    return static_cast<long>(certified_rank_lower_bound(std::span<const Ball>(sigma)));
  } else {
    using std::ldexp;
    if (sigma.empty()) return 0;
    const T tol = ctx.from(static_cast<double>(std::max(a.rows(), a.cols()))) *
                  T(ldexp(sigma.front(), -static_cast<int>(ctx.precision)));
    long k = 0;
    while (k < static_cast<long>(sigma.size()) && sigma[static_cast<std::size_t>(k)] > tol) ++k;
    return k;
  }
}

// ---- C.rank-linear --------------------------------------------------------------------------

// map: 0 identity, 1 ReLU, 2 elu+1, 3 Taylor-2, 4 Performer(m, seed).
FeatureMap linear_map(const Instance& x) {
  switch (std::llround(x.scalar("map"))) {
    case 0: return FeatureMap::identity();
    case 1: return FeatureMap::relu();
    case 2: return FeatureMap::elu_plus_one();
    case 3: return FeatureMap::taylor2();
    default:
      return FeatureMap::performer(static_cast<Eigen::Index>(std::llround(x.scalar("d"))),
                                   static_cast<Eigen::Index>(std::llround(x.scalar("m"))),
                                   static_cast<std::uint64_t>(std::llround(x.scalar("seed"))));
  }
}

// A = φ(Q)φ(K)ᵀ (n×n) and D⁻¹A (D = diag of the row sums): rank ≤ m, the feature dimension.
// lhs: how many leading singular values are certainly > 0 — a certified LOWER bound on the rank.
class RankLinear : public InequalityClaim<RankLinear> {
 public:
  using InequalityClaim::InequalityClaim;

  // Row normalisation needs every row sum certainly ≠ 0.
  Tri admissible(const Instance& x, long precision) const override {
    const TierContext<Ball> ctx{precision};
    const RowMatrix<Ball> A = kernel(x, ctx);
    Tri ok = Tri::True;
    for (Eigen::Index i = 0; i < A.rows(); ++i) ok = ok && (row_sum(A, i, ctx) != Ball(0));
    return ok;
  }

  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    const RowMatrix<T> A = kernel(x, ctx);
    RowMatrix<T> N = A;
    for (Eigen::Index i = 0; i < A.rows(); ++i) {
      const T s = row_sum(A, i, ctx);
      for (Eigen::Index j = 0; j < A.cols(); ++j) N(i, j) = A(i, j) / s;
    }
    const auto d = static_cast<Eigen::Index>(std::llround(x.scalar("d")));
    const T m = ctx.from(static_cast<double>(linear_map(x).feature_dim(d)));
    // Ball: an enclosure of the rank, [certified lower bound, min(rows, cols)] — so the side is
    // refuted when more than m singular values are certainly nonzero, and otherwise stays
    // undecided: interval arithmetic cannot certify that a singular value is exactly 0.
    auto count = [&](const RowMatrix<T>& a) {
      const auto lower = static_cast<double>(rank_lower_bound(a, ctx));
      if constexpr (std::is_same_v<T, Ball>) {
        return Ball::interval(lower, static_cast<double>(std::min(a.rows(), a.cols())), ctx.precision);
      } else {
        return ctx.from(lower);
      }
    };
    return {{"rank phi(Q)phi(K)^T <= m", count(A), Relation::LessEqual, m},
            {"rank row-normalised <= m", count(N), Relation::LessEqual, m}};
  }

 private:
  template <class T>
  static RowMatrix<T> kernel(const Instance& x, const TierContext<T>& ctx) {
    const RowMatrix<T> Q = to_tier(x.array("Q"), ctx);
    const RowMatrix<T> K = to_tier(x.array("K"), ctx);
    return linear_kernel_matrix<T>(Q, K, linear_map(x), ctx.from(1.0));
  }
  template <class T>
  static T row_sum(const RowMatrix<T>& A, Eigen::Index i, const TierContext<T>& ctx) {
    T s = ctx.from(0.0);
    for (Eigen::Index j = 0; j < A.cols(); ++j) s += A(i, j);
    return s;
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
class RankCollapse : public InequalityClaim<RankCollapse> {
 public:
  using InequalityClaim::InequalityClaim;
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
                     T(delta * wv * osc_in)});
      out.push_back({fmt::format("layer {}: dobrushin", l + 1), delta, Relation::LessEqual,
                     T(one - exp(T(-spread * osc_in)))});
      out.push_back({fmt::format("layer {}: quadratic", l + 1), osc_out, Relation::LessEqual,
                     T(spread * wv * osc_in * osc_in)});
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
      "Q, K ∈ ℝ^{n×d}; map 0 identity (m = d), 1 ReLU (d), 2 elu+1 (d), 3 Taylor-2 (1 + d + d(d+1)/2), "
      "4 Performer (m random features); every row sum certainly ≠ 0 (for D⁻¹)";
  info.note =
      "the lhs is the number of leading singular values certified > 0, a certified LOWER bound on the rank: "
      "interval arithmetic can only refute the claim (by certifying m + 1 nonzero singular values); that it "
      "holds is structural (the factorisation), never 'proved' by the enclosures — a survival means no "
      "instance showed more than m certified nonzero singular values";
  SearchSpace space{{{"n", 1, 24, true, false, "number of queries = keys"},
                     {"d", 1, 8, true, false, "head dimension"},
                     {"map", 0, 4, true, false, "feature map (see hypotheses)"},
                     {"m", 1, 16, true, false, "Performer features (map 4)"},
                     {"seed", 0, 1e9, true, false, "Performer directions seed (map 4)"}},
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
      "numerical rank and the spectral gap are reported by `attncert report` (numerics/rank_measures.hpp)";
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
      "a monotone decrease for arbitrary weights, and that is not claimed";
  SearchSpace space{{{"n", 1, 12, true, false, "number of tokens"},
                     {"d", 1, 8, true, false, "token dimension (= d_qk)"},
                     {"layers", 1, 4, true, false, "depth"},
                     {"weight_scale", 0.1, 3, false, true, "weight standard deviation × √d"},
                     {"seed", 0, 1e9, true, false, "seed of the layer weights"}},
                    {{"X", "n", "d", Law::Normal, 0, 1, false, "input tokens, one per row"}}};
  return std::make_unique<RankCollapse>(std::move(info), std::move(space));
}

}  // namespace attncert
