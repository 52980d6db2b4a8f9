// C.injectivity (Han et al. 2024): linear attention with a positively homogeneous feature map
// gives q and c·q (c > 0) the same weights; softmax attention does not, unless the logits tie.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <span>

#include "numerics/feature_maps.hpp"
#include "numerics/linear_attention.hpp"
#include "numerics/softmax.hpp"
#include "theory/catalog.hpp"

namespace attncert {
namespace {

// phi = 0: identity, 1: ReLU (both positively homogeneous of degree 1).
FeatureMap homogeneous_map(const Instance& x) {
  return std::llround(x.scalar("phi")) == 0 ? FeatureMap::identity() : FeatureMap::relu();
}

template <class T>
T dot(const RowMatrix<T>& a, Eigen::Index i, const RowMatrix<T>& b, Eigen::Index j, const T& zero) {
  T s = zero;
  for (Eigen::Index c = 0; c < a.cols(); ++c) s += a(i, c) * b(j, c);
  return s;
}

// Unnormalised linear-attention scores φ(q)ᵀφ(k_j) (computed here rather than through
// linear_attention_matrix, which requires a positive normaliser: with the identity map the
// weights are well defined whenever the normaliser is merely nonzero).
template <class T>
std::vector<T> linear_scores(const RowMatrix<T>& q, const RowMatrix<T>& K, const FeatureMap& phi,
                             const TierContext<T>& ctx) {
  const RowMatrix<T> fq = phi.query_features<T>(q);
  const RowMatrix<T> fk = phi.key_features<T>(K);
  std::vector<T> s;
  for (Eigen::Index j = 0; j < K.rows(); ++j) s.push_back(dot(fq, 0, fk, j, ctx.from(0.0)));
  return s;
}

template <class T>
T sum(const std::vector<T>& v, const T& zero) {
  T s = zero;
  for (const T& a : v) s += a;
  return s;
}

// Sides:
//   "linear weights j":  w_j(c·q) = w_j(q),  w_j(q) = φ(q)ᵀφ(k_j) / Σ_l φ(q)ᵀφ(k_l)   (identity)
//   "softmax differs":   TV(softmax(l), softmax(c·l)) > 0,  l_j = qᵀk_j
class Injectivity : public InequalityClaim<Injectivity> {
 public:
  using InequalityClaim::InequalityClaim;

  // Hypotheses, certified: c ≠ 1 and the logits not all equal (softmax part), and a nonzero
  // linear-attention normaliser Σ_l φ(q)ᵀφ(k_l) (else the weights are undefined for q and c·q
  // alike).
  Tri admissible(const Instance& x, long precision) const override {
    if (x.scalar("c") == 1.0) return Tri::False;  // the double is the exact value of c
    const TierContext<Ball> ctx{precision};
    const RowMatrix<Ball> q = to_tier(x.array("q"), ctx);
    const RowMatrix<Ball> K = to_tier(x.array("K"), ctx);
    const Ball zero = ctx.from(0.0);
    Tri some_differs = Tri::False;
    const Ball l0 = dot(q, 0, K, 0, zero);
    for (Eigen::Index j = 1; j < K.rows(); ++j) some_differs = some_differs || (dot(q, 0, K, j, zero) != l0);
    const Ball normaliser = sum(linear_scores(q, K, homogeneous_map(x), ctx), zero);
    return some_differs && (normaliser != zero);
  }

  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::abs;
    const RowMatrix<T> q = to_tier(x.array("q"), ctx);
    const RowMatrix<T> K = to_tier(x.array("K"), ctx);
    const T c = ctx.from(x.scalar("c"));
    RowMatrix<T> cq = q;
    for (Eigen::Index a = 0; a < cq.cols(); ++a) cq(0, a) = c * q(0, a);
    const T zero = ctx.from(0.0);
    const FeatureMap phi = homogeneous_map(x);
    const std::vector<T> s1 = linear_scores(q, K, phi, ctx);
    const std::vector<T> s2 = linear_scores(cq, K, phi, ctx);
    const T z1 = sum(s1, zero), z2 = sum(s2, zero);
    std::vector<Inequality<T>> out;
    for (std::size_t j = 0; j < s1.size(); ++j) {
      out.push_back({fmt::format("linear weights k{}", j), T(s2[j] / z2), Relation::Equal, T(s1[j] / z1),
                     "linear weights"});
    }
    std::vector<T> l1, l2;
    for (Eigen::Index j = 0; j < K.rows(); ++j) {
      l1.push_back(dot(q, 0, K, j, zero));
      l2.push_back(dot(cq, 0, K, j, zero));
    }
    const T one = ctx.from(1.0);
    const std::vector<T> a1 = softmax<T>(std::span<const T>(l1), one);
    const std::vector<T> a2 = softmax<T>(std::span<const T>(l2), one);
    T tv = zero;
    for (std::size_t j = 0; j < a1.size(); ++j) tv += abs(T(a1[j] - a2[j]));
    out.push_back({"softmax differs", T(tv / ctx.from(2.0)), Relation::Greater, zero});
    return out;
  }
};

}  // namespace

std::unique_ptr<Claim> make_c_injectivity() {
  ClaimInfo info;
  info.id = "C.injectivity";
  info.source =
      "Han, Pu, Xia, Han, Pan, Li, Lu, Song, Huang, \"Bridging the Divide: Reconsidering Softmax and Linear "
      "Attention\", NeurIPS 2024 (arXiv 2412.06590): injectivity of the attention function";
  info.provenance = Provenance::Classical;
  info.statement_latex =
      R"(\frac{\phi(cq)^\top\phi(k_j)}{\sum_l \phi(cq)^\top\phi(k_l)} = \frac{\phi(q)^\top\phi(k_j)}{\sum_l )"
      R"(\phi(q)^\top\phi(k_l)}\ (c>0,\ \phi\in\{\mathrm{id},\mathrm{ReLU}\}),\quad )"
      R"(\mathrm{TV}(\mathrm{softmax}(l), \mathrm{softmax}(cl)) > 0\ (c \ne 1,\ l\ \text{not constant}))";
  info.statement_text =
      "for φ ∈ {identity, ReLU} (positively homogeneous) and c > 0, q and c·q get identical linear-attention "
      "weights; softmax weights of l_j = qᵀk_j and c·l differ (TV > 0) when c ≠ 1 and the logits are not all "
      "equal";
  info.hypotheses =
      "c ∈ [0.01, 100], c ≠ 1; logits qᵀk_j not all equal (certified); linear normaliser Σ_l φ(q)ᵀφ(k_l) ≠ 0 "
      "(certified); phi = 0 identity, 1 ReLU";
  info.note =
      "the softmax side is the 'unless all logits are equal' half: softmax(c·l) = softmax(l) iff (c − 1)·l "
      "is constant. L = 1 is never admissible (a single logit is constant)";
  SearchSpace space{{{"L", 1, 32, true, false, "number of keys"},
                     {"d", 1, 16, true, false, "head dimension"},
                     {"c", 0.01, 100, false, true, "query scale c > 0"},
                     {"phi", 0, 1, true, false, "feature map: 0 identity, 1 ReLU"}},
                    {{"q", "1", "d", Law::Normal, 0, 1, false, "query"},
                     {"K", "L", "d", Law::Normal, 0, 1, false, "keys, one per row"}}};
  return std::make_unique<Injectivity>(std::move(info), std::move(space));
}

}  // namespace attncert
