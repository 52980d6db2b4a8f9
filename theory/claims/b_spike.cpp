// Paper B (Deng, Song, Zhou), the spike lemmas, reconstructed: how much weight one large logit
// gets under softmax (B.spike-softmax) and under linear attention (B.spike-linear).
//
// The spike is token 1 (array index 0): project() writes the scalar B there, so the instance
// says plainly which logit is the spike and the others stay in their range.
//
// Tightness: the probabilities and their bounds saturate (p_1 → 1 as B − R grows, max_j p_j → 1/n
// as R → 0), where a plain ratio is ≈ 1 whatever the slack. Lower bounds on a probability measure
// the slack from the limit the pair is nearer to (theory/nearer_limit.hpp: p ≥ 1 − ε scores
// (1 − p)/ε); upper bounds likewise (D₀'s max_j p_j lies in [1/n, 1]:
// (max_j p_j − 1/n)/(bound − 1/n) near 1/n, (1 − bound)/(1 − max_j p_j) near 1).
#include <algorithm>
#include <cmath>
#include <span>

#include "numerics/softmax.hpp"
#include "theory/catalog.hpp"
#include "theory/nearer_limit.hpp"
#include "theory/quantities.hpp"
#include "theory/spike_bounds.hpp"

namespace attncert {
namespace {

const char* kSource =
    "Deng, Song, Zhou, \"Why Softmax Attention Outperforms Linear Attention\" (v1: \"Superiority of "
    "Softmax: Unveiling the Performance Edge Over Linear Attention\"), arXiv 2310.11685";
const char* kReconstructed =
    "reconstructed: the paper's printed lemma is not available to us; this is our derivation of the "
    "statement its abstract describes (one feature of much larger value, D₁, against bounded "
    "features, D₀), with the structure of the companion arXiv 2310.20051 (substantial text overlap)";

template <class T>
std::vector<T> row_in_tier(const RowMatrix<double>& a, const TierContext<T>& ctx) {
  std::vector<T> v;
  v.reserve(static_cast<std::size_t>(a.size()));
  for (Eigen::Index j = 0; j < a.size(); ++j) v.push_back(ctx.from(a.data()[j]));
  return v;
}

// Softmax weight of the spike (index 0) for logits `s` (temperature 1).
template <class T>
T spike_softmax_weight(const std::vector<T>& s, const TierContext<T>& ctx) {
  return softmax<T>(std::span<const T>(s), ctx.from(1.0))[0];
}

// D₁: s_1 = B, s_j ≤ R (j ≥ 2; −inf = masked). D₀: |s_j| ≤ R. ε for the threshold form.
SearchSpace spike_softmax_space() {
  return SearchSpace{
      {{"n", 2, 64, true, false, "number of tokens (the spike and n − 1 others)"},
       {"R", 0, 10, false, false, "bound on the other logits (D₁: s_j ≤ R; D₀: |s_j| ≤ R)"},
       {"B", -10, 40, false, false, "spike logit s_1 (no B > R assumed: the bound holds for every B)"},
       {"eps", 1e-9, 0.9, false, true, "target error ε of the threshold form"}},
      {{"s", "1", "n", Law::Uniform, -40, 10, true,
        "D₁ logits: s_1 := B, s_j := min(s_j, R) for j ≥ 2 (very negative and masked entries included)"},
       {"s0", "1", "n", Law::Uniform, -10, 10, false, "D₀ logits, clamped to [−R, R]"}}};
}

class SpikeSoftmax : public InequalityClaim<SpikeSoftmax> {
 public:
  using InequalityClaim::InequalityClaim;
  // Only D₀ is stated in named quantities: its max_j p_j is alpha_max at T = 1. The D₁ sides
  // bound the weight of one given index, which the expression language has no name for. R is
  // replaced by M = max_j |s0_j| <= R as in A.cor1-tight.
  std::vector<ProofPlan> proof_plans() const override {
    return {{"D0 max upper",
             "alpha_max <= 1/(1 + (L - 1)*exp(-2*max(abs(logit_max), abs(logit_min))))",
             "L in [2, 3], T = 1, logits in [-10, 10]^L",
             "n = L; s0 in [-R, R]^n gives max_j |s0_j| <= R, and 1/(1 + (n-1)e^{-2x}) increases "
             "with x: proves the D0 side for n in {2, 3} and every R <= 10"}};
  }

  void project(Instance& x) const override {
    const double R = x.scalar("R");
    RowMatrix<double>& s = x.arrays.at("s");
    if (s.size() >= 1) s.data()[0] = x.scalar("B");
    for (Eigen::Index j = 1; j < s.size(); ++j) s.data()[j] = std::min(s.data()[j], R);
    RowMatrix<double>& s0 = x.arrays.at("s0");
    for (Eigen::Index j = 0; j < s0.size(); ++j) s0.data()[j] = std::clamp(s0.data()[j], -R, R);
  }

  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::exp;
    using std::log;
    const T one = ctx.from(1.0);
    const T R = ctx.from(x.scalar("R"));
    const T B = ctx.from(x.scalar("B"));
    const T eps = ctx.from(x.scalar("eps"));
    std::vector<T> s = row_in_tier(x.array("s"), ctx);
    const std::vector<T> s0 = row_in_tier(x.array("s0"), ctx);
    if (s.size() < 2 || s0.size() != s.size()) {
      throw std::invalid_argument("B.spike-softmax: need n >= 2 logits in s and s0 (the same n)");
    }
    const T others = ctx.from(static_cast<double>(s.size()) - 1.0);  // n − 1

    // D₁: p_1 ≥ 1/(1 + (n−1)e^{R−B}).
    const T p_spike = spike_softmax_weight(s, ctx);
    const T d1_bound = spike_softmax_lower_bound(others, R, B, ctx);

    // D₀: max_j p_j ≤ 1/(1 + (n−1)e^{−2R}).
    const std::vector<T> p0 = softmax<T>(std::span<const T>(s0), one);
    T p0_max = p0[0];
    for (const T& p : p0) p0_max = tier_max(p0_max, p);
    const T d0_bound = bounded_softmax_max_upper_bound(others, R, ctx);

    // Threshold form: at a spike B_ε ≥ R + ln(n−1) + ln((1−ε)/ε), p_1 ≥ 1 − ε. The instance's B is
    // raised to the threshold when below it, so that every instance satisfies the premise.
    const T threshold = spike_softmax_threshold(others, R, eps, ctx);
    s[0] = tier_max(B, threshold);
    const T p_spike_eps = spike_softmax_weight(s, ctx);

    const T one_minus_eps = T(one - eps);
    const T uniform = T(one / T(others + one));
    return {{"D1 spike lower", p_spike, Relation::GreaterEqual, d1_bound, "",
             nearer_limit(p_spike, d1_bound, ctx.from(0.0), one)},
            {"D0 max upper", p0_max, Relation::LessEqual, d0_bound, "", nearer_limit(p0_max, d0_bound, uniform, one)},
            {"1-eps at threshold", p_spike_eps, Relation::GreaterEqual, one_minus_eps, "",
             nearer_limit(p_spike_eps, one_minus_eps, ctx.from(0.0), one)}};
  }
};

// s_1 = B > 0 (the spike), s_j ∈ [r, R] for j ≥ 2, 0 < r ≤ R; linear weights p_j = s_j / Σ s_k.
SearchSpace spike_linear_space() {
  return SearchSpace{
      {{"n", 2, 64, true, false, "number of tokens (the spike and n − 1 others)"},
       {"r", 1e-3, 10, false, true, "lower bound of the other scores (r > 0; swapped with R if larger)"},
       {"R", 1e-3, 10, false, true, "upper bound of the other scores"},
       {"B", 1e-3, 1e3, false, true, "spike score s_1 (no B > R assumed: the bounds hold for every B > 0)"}},
      {{"s", "1", "n", Law::Positive, 1e-3, 10, false,
        "scores: s_1 := B, s_j clamped to [r, R] for j ≥ 2"}}};
}

class SpikeLinear : public InequalityClaim<SpikeLinear> {
 public:
  using InequalityClaim::InequalityClaim;

  void project(Instance& x) const override {
    if (x.scalar("r") > x.scalar("R")) std::swap(x.scalars.at("r"), x.scalars.at("R"));
    const double r = x.scalar("r"), R = x.scalar("R");
    RowMatrix<double>& s = x.arrays.at("s");
    if (s.size() >= 1) s.data()[0] = x.scalar("B");
    for (Eigen::Index j = 1; j < s.size(); ++j) s.data()[j] = std::clamp(s.data()[j], r, R);
  }

  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    const std::vector<T> s = row_in_tier(x.array("s"), ctx);
    if (s.size() < 2) throw std::invalid_argument("B.spike-linear: need n >= 2 scores");
    const T r = ctx.from(x.scalar("r"));
    const T R = ctx.from(x.scalar("R"));
    const T B = s[0];
    const T others = ctx.from(static_cast<double>(s.size()) - 1.0);
    T total = s[0];
    for (std::size_t j = 1; j < s.size(); ++j) total += s[j];
    const T p_spike = B / total;
    const T lower = spike_linear_lower_bound(others, R, B);
    const T one = ctx.from(1.0);
    const T upper = spike_linear_upper_bound(others, r, B);
    const T zero = ctx.from(0.0);
    return {{"lower", p_spike, Relation::GreaterEqual, lower, "", nearer_limit(p_spike, lower, zero, one)},
            {"upper", p_spike, Relation::LessEqual, upper, "", nearer_limit(p_spike, upper, zero, one)}};
  }
};

}  // namespace

std::unique_ptr<Claim> make_b_spike_softmax() {
  ClaimInfo info;
  info.id = "B.spike-softmax";
  info.source = std::string(kSource) + " (spike lemma for softmax; numbering unknown to us)";
  info.provenance = Provenance::Reconstructed;
  info.statement_latex =
      R"(s_{i^*}=B,\ s_j\le R\ (j\ne i^*):\ p_{i^*}\ge\frac{1}{1+(n-1)e^{R-B}};\quad )"
      R"(|s_j|\le R\ \forall j:\ \max_j p_j\le\frac{1}{1+(n-1)e^{-2R}};\quad )"
      R"(B\ge R+\ln(n-1)+\ln\tfrac{1-\varepsilon}{\varepsilon}\Rightarrow p_{i^*}\ge 1-\varepsilon,\quad p=\mathrm{softmax}(s))";
  info.statement_text =
      "p = softmax(s). D₁ (s_1 = B, s_j ≤ R for j ≠ 1): p_1 ≥ 1/(1 + (n−1)e^{R−B}); D₀ (|s_j| ≤ R): "
      "max_j p_j ≤ 1/(1 + (n−1)e^{−2R}); and p_1 ≥ 1 − ε once B ≥ R + ln(n−1) + ln((1−ε)/ε)";
  info.hypotheses =
      "n ≥ 2 tokens, spike at token 1, the others ≤ R (masked −inf allowed) for D₁; all in [−R, R] for D₀; "
      "0 < ε < 1; no B > R assumed";
  info.note = std::string(kReconstructed) +
              ". The threshold form is checked at spike value max(B, R + ln(n−1) + ln((1−ε)/ε)) so that every "
              "instance meets its premise; it is tight (equality) when all other logits equal R.";
  return std::make_unique<SpikeSoftmax>(std::move(info), spike_softmax_space());
}

std::unique_ptr<Claim> make_b_spike_linear() {
  ClaimInfo info;
  info.id = "B.spike-linear";
  info.source = std::string(kSource) + " (spike lemma for linear attention; numbering unknown to us)";
  info.provenance = Provenance::Reconstructed;
  info.statement_latex =
      R"(s_{i^*}=B,\ s_j\in[r,R]\ (j\ne i^*),\ 0<r\le R:\ )"
      R"(\frac{B}{B+(n-1)R}\le p_{i^*}\le\frac{B}{B+(n-1)r},\quad p_j=\frac{s_j}{\sum_k s_k})";
  info.statement_text =
      "linear attention p_j = s_j / Σ_k s_k with s_1 = B > 0, s_j ∈ [r, R] (0 < r ≤ R) for j ≠ 1: "
      "B/(B + (n−1)R) ≤ p_1 ≤ B/(B + (n−1)r) — the spike's share shrinks like B/n";
  info.hypotheses = "n ≥ 2 tokens, spike at token 1, positive scores (u_lin = Ax needs a positive normaliser)";
  info.note = kReconstructed;
  return std::make_unique<SpikeLinear>(std::move(info), spike_linear_space());
}

}  // namespace attncert
