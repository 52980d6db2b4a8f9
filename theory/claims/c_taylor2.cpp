// C.taylor2 (classical, Based): the second-order Taylor feature map reproduces 1 + s + s²/2
// exactly, and the Lagrange remainder bounds its distance to e^s.
#include <fmt/format.h>

#include <string>

#include "numerics/feature_maps.hpp"
#include "theory/approximation_bounds.hpp"
#include "theory/catalog.hpp"

namespace attncert {
namespace {

// For every key j, with s_j = qᵀk_j:
//   "identity j":  φ_q(q)ᵀφ_k(k_j) = 1 + s_j + s_j²/2   (the FeatureMap::taylor2 features)
//   "remainder j": |e^{s_j} − (1 + s_j + s_j²/2)| ≤ |s_j|³·e^{max(s_j, 0)}/6
// Families "identity" (no tightness: an identity) and "remainder". The remainder is e^ξ s³/6 with
// ξ between 0 and s, so its tightness is e^{ξ − max(s, 0)} < 1, tending to 1 as s → 0 (the
// Lagrange bound is asymptotically exact) and falling as |s| grows.
// Degenerate: q = 0 (every s_j = 0: both sides of every remainder are 0).
class Taylor2 : public InequalityClaim<Taylor2> {
 public:
  using InequalityClaim::InequalityClaim;
  // Every remainder side is one function of s = qᵀk_j: the single logit of an L = 1 instance
  // (logit_max = s) stands for it, one proof variable. The bound touches at s = 0 (both sides
  // 0, ratio → 1), so the prover needs its attained-bound handling or a slack there.
  std::vector<ProofPlan> proof_plans() const override {
    return {{"remainder",
             "abs(exp(logit_max) - (1 + logit_max + logit_max^2/2)) <= "
             "abs(logit_max)^3*exp(max(logit_max, 0))/6",
             "L = 1, logits in [-10, 10]^L",
             "each remainder side depends on q, K only through s = q^T k_j, the single logit here: "
             "proves every remainder side for every q, K with |q^T k_j| <= 10 (the identity sides "
             "are equalities: not proved)"}};
  }
  std::string degenerate_reason(const Instance& x) const override {
    if ((x.array("q").array() == 0).all()) return "q = 0: every s_j = 0, remainder and bound are both 0";
    return {};
  }
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::abs;
    using std::exp;
    const RowMatrix<T> q = to_tier(x.array("q"), ctx);
    const RowMatrix<T> K = to_tier(x.array("K"), ctx);
    const FeatureMap phi = FeatureMap::taylor2();
    const RowMatrix<T> fq = phi.query_features<T>(q);
    const RowMatrix<T> fk = phi.key_features<T>(K);
    const T zero = ctx.from(0.0);
    std::vector<Inequality<T>> out;
    for (Eigen::Index j = 0; j < K.rows(); ++j) {
      T s = zero;
      for (Eigen::Index a = 0; a < q.cols(); ++a) s += q(0, a) * K(j, a);
      T features = zero;
      for (Eigen::Index f = 0; f < fq.cols(); ++f) features += fq(0, f) * fk(j, f);
      const T taylor = ctx.from(1.0) + s + s * s / ctx.from(2.0);
      out.push_back({fmt::format("identity k{}", j), features, Relation::Equal, taylor, "identity"});
      out.push_back({fmt::format("remainder k{}", j), T(abs(T(exp(s) - taylor))),
                     Relation::LessEqual, taylor2_remainder_bound(s, ctx), "remainder"});
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Claim> make_c_taylor2() {
  ClaimInfo info;
  info.id = "C.taylor2";
  info.source =
      "classical (Taylor's theorem, Lagrange remainder); feature map of Based: Arora et al. 2024, "
      "\"Simple linear attention language models balance the recall-throughput tradeoff\", arXiv 2402.18668";
  info.provenance = Provenance::Classical;
  info.statement_latex =
      R"(\phi_q(q)^\top\phi_k(k) = 1 + s + \tfrac{s^2}{2},\quad )"
      R"(\big|e^{s} - (1 + s + \tfrac{s^2}{2})\big| \le \tfrac{|s|^3 e^{\max(s,0)}}{6},\quad s = q^\top k)";
  info.statement_text =
      "φ_q(q)ᵀφ_k(k) = 1 + s + s²/2 (Taylor-2 features) and |e^s − (1 + s + s²/2)| ≤ |s|³·e^{max(s,0)}/6, "
      "s = qᵀk, for each key k_j";
  info.hypotheses = "any q ∈ ℝ^d, keys k_j ∈ ℝ^d";
  info.note =
      "the identity is checked on FeatureMap::taylor2 (asymmetric split φ_q = (1, q, q_a²/2, q_a q_b), "
      "φ_k = (1, k, k_a², k_a k_b)); the remainder is e^ξ s³/6 with ξ between 0 and s";
  SearchSpace space{{{"L", 1, 8, true, false, "number of keys"},
                     {"d", 1, 16, true, false, "head dimension"}},
                    {{"q", "1", "d", Law::Normal, 0, 1, false, "query"},
                     {"K", "L", "d", Law::Normal, 0, 1, false, "keys, one per row"}}};
  return std::make_unique<Taylor2>(std::move(info), std::move(space));
}

}  // namespace attncert
