// Paper B (Deng, Song, Zhou), reconstructed from the companion arXiv 2310.20051: a power
// kernel s^β concentrates on a spike B > R once its degree β is large enough (B.degree).
#include <algorithm>
#include <cmath>

#include "theory/catalog.hpp"
#include "theory/nearer_limit.hpp"
#include "theory/quantities.hpp"
#include "theory/spike_bounds.hpp"

namespace attncert {
namespace {

// s_1 = B (the spike, token 1), s_j ∈ [r, R] for j ≥ 2, 0 < r ≤ R < B.
//
// B > R is a hypothesis of the threshold form (ln(B/R) > 0). It is enforced by disjoint ranges,
// R ≤ 10 < B: the weights s_j^β / Σ_k s_k^β are scale invariant, so this covers every ratio
// R/B ∈ [1e-6, 1 − 1e-3] — only ratios closer to 1 or 0 are left out.
SearchSpace degree_space() {
  return SearchSpace{
      {{"n", 2, 64, true, false, "number of tokens (the spike and n − 1 others)"},
       {"r", 1e-3, 10, false, true, "lower bound of the other scores (r > 0; swapped with R if larger)"},
       {"R", 1e-3, 10, false, true, "upper bound of the other scores"},
       {"B", 10.01, 1e3, false, true, "spike score s_1 > R"},
       {"beta", 0.1, 32, false, true, "degree β of the power kernel s ↦ s^β"},
       {"eps", 1e-9, 0.9, false, true, "target error ε of the threshold form"}},
      {{"s", "1", "n", Law::Positive, 1e-3, 10, false,
        "scores: s_1 := B, s_j clamped to [r, R] for j ≥ 2"}}};
}

class Degree : public InequalityClaim<Degree> {
 public:
  using InequalityClaim::InequalityClaim;

  void project(Instance& x) const override {
    if (x.scalar("r") > x.scalar("R")) std::swap(x.scalars.at("r"), x.scalars.at("R"));
    const double r = x.scalar("r"), R = x.scalar("R");
    RowMatrix<double>& s = x.arrays.at("s");
    if (s.size() >= 1) s.data()[0] = x.scalar("B");
    for (Eigen::Index j = 1; j < s.size(); ++j) s.data()[j] = std::clamp(s.data()[j], r, R);
  }

  Tri admissible(const Instance& x, long) const override {
    // Exact doubles: the comparison is the exact one.
    return Tri::from_bool(x.scalar("r") > 0 && x.scalar("r") <= x.scalar("R") && x.scalar("R") < x.scalar("B"));
  }

  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::log;
    using std::pow;
    const RowMatrix<double>& raw = x.array("s");
    if (raw.size() < 2) throw std::invalid_argument("B.degree: need n >= 2 scores");
    std::vector<T> s;
    for (Eigen::Index j = 0; j < raw.size(); ++j) s.push_back(ctx.from(raw.data()[j]));
    const T one = ctx.from(1.0);
    const T R = ctx.from(x.scalar("R"));
    const T B = s[0];
    const T beta = ctx.from(x.scalar("beta"));
    const T eps = ctx.from(x.scalar("eps"));
    const T others = ctx.from(static_cast<double>(s.size()) - 1.0);

    // p_1 ≥ 1/(1 + (n−1)(R/B)^β).
    const T p = spike_power_weight(s, beta, ctx);
    const T bound = spike_power_lower_bound(others, R, B, beta, ctx);

    // β ≥ ln((n−1)(1−ε)/ε) / ln(B/R) ⇒ p_1 ≥ 1 − ε; checked at β_ε = max(β, threshold) so that
    // every instance meets the premise (tight when all other scores equal R).
    const T beta_threshold = spike_power_degree_threshold(others, R, B, eps, ctx);
    const T p_eps = spike_power_weight(s, tier_max(beta, beta_threshold), ctx);

    // Both sides saturate toward 1 as β grows: slack measured from the nearer limit.
    const T one_minus_eps = T(one - eps);
    return {{"lower", p, Relation::GreaterEqual, bound, "", nearer_limit(p, bound, ctx.from(0.0), one)},
            {"1-eps at threshold", p_eps, Relation::GreaterEqual, one_minus_eps, "",
             nearer_limit(p_eps, one_minus_eps, ctx.from(0.0), one)}};
  }
};

}  // namespace

std::unique_ptr<Claim> make_b_degree() {
  ClaimInfo info;
  info.id = "B.degree";
  info.source =
      "Deng, Song, Zhou, arXiv 2310.11685, via the companion arXiv 2310.20051 (polynomial-degree "
      "separation; numbering unknown to us)";
  info.provenance = Provenance::Reconstructed;
  info.statement_latex =
      R"(p_j=\frac{s_j^\beta}{\sum_k s_k^\beta},\ s_{i^*}=B>R,\ s_j\in[r,R]:\ )"
      R"(p_{i^*}\ge\frac{1}{1+(n-1)(R/B)^\beta};\quad )"
      R"(\beta\ge\frac{\ln((n-1)(1-\varepsilon)/\varepsilon)}{\ln(B/R)}\Rightarrow p_{i^*}\ge1-\varepsilon)";
  info.statement_text =
      "power kernel p_j = s_j^β / Σ_k s_k^β, s_1 = B > R, s_j ∈ [r, R] (j ≠ 1): p_1 ≥ 1/(1 + (n−1)(R/B)^β); "
      "and p_1 ≥ 1 − ε once β ≥ ln((n−1)(1−ε)/ε) / ln(B/R)";
  info.hypotheses = "n ≥ 2 tokens, spike at token 1, 0 < r ≤ R < B, β > 0, 0 < ε < 1";
  info.note =
      "reconstructed: neither paper's printed statement is available to us; this is our derivation of "
      "the degree-versus-separation statement the companion arXiv 2310.20051 describes (softmax as the "
      "β → ∞ limit of polynomial kernels). B > R is enforced by disjoint ranges R ≤ 10 < B (the weights "
      "are scale invariant). The threshold form is checked at degree max(β, threshold).";
  return std::make_unique<Degree>(std::move(info), degree_space());
}

}  // namespace attncert
