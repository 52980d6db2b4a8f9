// Paper A, Corollary 1 (printed, Δ adapted: see make_a_cor1) and its tight form (classical
// algebra).
//
// Both bound every weight around the uniform 1/L, and as Δ/T → 0 weights and bounds all tend to
// 1/L: the upper side's tightness is measured from 1/L (its gap origin), the share of the allowed
// deviation from uniform that the instance uses. The lower side's α_min and bound lie in
// [0, 1/L] and also saturate at 0 as Δ/T grows, so it is measured from the end the pair is nearer
// to (theory/nearer_limit.hpp).
#include <fmt/format.h>

#include <string>

#include "theory/catalog.hpp"
#include "theory/nearer_limit.hpp"
#include "theory/quantities.hpp"

namespace attncert {
namespace {

const char* kSource = "Mudarisov, Burtsev, Petrova, State, arXiv 2508.17821 (NeurIPS 2025)";

// Logits l_j = qᵀk_j with q ∈ ℝ^d, K ∈ ℝ^{L×d}; Δ = ‖q‖·max‖k_j‖ bounds |l_j|.
SearchSpace qk_space() {
  return SearchSpace{
      {{"L", 1, 64, true, false, "number of tokens"},
       {"d", 1, 16, true, false, "head dimension"},
       {"T", 0.01, 10, false, true, "temperature"}},
      {{"q", "1", "d", Law::Normal, 0, 1, false, "query"},
       {"K", "L", "d", Law::Normal, 0, 1, false, "keys, one per row"}}};
}

// Degenerate for both forms: L = 1 (the one weight is 1, and both forms' bounds contain 1), or
// every logit equal because q = 0 or all keys are the same row (decided on the exact doubles):
// every weight is then exactly 1/L.
std::string uniform_weights_reason(const Instance& x) {
  const auto& q = x.array("q");
  const auto& K = x.array("K");
  if (K.rows() <= 1) return "L = 1: the only weight is 1";
  if ((q.array() == 0).all()) return "q = 0: every logit is 0, so every weight is 1/L";
  for (Eigen::Index j = 1; j < K.rows(); ++j) {
    if (K.row(j) != K.row(0)) return {};
  }
  return "all keys equal: every logit is equal, so every weight is 1/L";
}

// Proof plans (theory/proof_plan.hpp) over logits instead of q and K: a bound that increases
// with Δ, stated with M = max_j |l_j| in place of Δ, proves the claim for every q, K whose
// logits lie in the box, because M <= Δ (|qᵀk_j| <= ‖q‖‖k_j‖, Cauchy–Schwarz). And both sides
// depend on (l, T) only through l/T, so T = 1 covers every T: L proof variables instead of
// d + L·d + 1. (Measured with the prover of wip/prover: T in [0.05, 5] as a variable left the
// goals undecided after 60 s; at T = 1 Cor 1 is proved with slack 1e-6 in < 0.3 s.)
constexpr const char* kMaxAbsLogit = "max(abs(logit_max), abs(logit_min))";
constexpr const char* kPlanDomain = "L in [2, 3], T = 1, logits in [-20, 20]^L";
constexpr const char* kPlanScope =
    " proves the side for L in {2, 3} and every q, K, T with max_j |q^T k_j|/T <= 20 (in "
    "particular every q, K, T with Delta/T <= 20), since both sides depend on l/T only";

class Cor1 : public InequalityClaim<Cor1> {
 public:
  using InequalityClaim::InequalityClaim;
  std::string degenerate_reason(const Instance& x) const override { return uniform_weights_reason(x); }
  std::vector<ProofPlan> proof_plans() const override {
    return {{"upper", fmt::format("alpha_max <= exp(2*{}/T)/L", kMaxAbsLogit), kPlanDomain,
             std::string("max_j |l_j| <= Delta (Cauchy-Schwarz) and e^{2x/T}/L increases with x:") + kPlanScope},
            {"lower", fmt::format("alpha_min >= exp(-2*{}/T)/L", kMaxAbsLogit), kPlanDomain,
             std::string("max_j |l_j| <= Delta (Cauchy-Schwarz) and e^{-2x/T}/L decreases with x:") + kPlanScope}};
  }
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::exp;
    const std::vector<T> l = instance_logits(x, ctx);
    const T temp = instance_temperature(x, ctx);
    const T L = ctx.from(static_cast<double>(l.size()));
    const T two_delta_over_t = T(2) * instance_delta(x, ctx) / temp;
    const T uniform = T(ctx.from(1.0) / L);
    const T alpha_min = quantity("alpha_min", x, ctx);
    const T lower = T(exp(-two_delta_over_t) / L);
    // A weight is at most 1: where e^{2Δ/T}/L ≥ 1 the upper side is vacuous (a_priori).
    return {{"upper", quantity("alpha_max", x, ctx), Relation::LessEqual, T(exp(two_delta_over_t) / L),
             "", uniform, ctx.from(1.0)},
            {"lower", alpha_min, Relation::GreaterEqual, lower, "", nearer_limit(alpha_min, lower, ctx.from(0.0), uniform)}};
  }
};

class Cor1Tight : public InequalityClaim<Cor1Tight> {
 public:
  using InequalityClaim::InequalityClaim;
  std::string degenerate_reason(const Instance& x) const override { return uniform_weights_reason(x); }
  std::vector<ProofPlan> proof_plans() const override {
    return {{"upper", fmt::format("alpha_max <= 1/(1 + (L - 1)*exp(-2*{}/T))", kMaxAbsLogit), kPlanDomain,
             std::string("max_j |l_j| <= Delta (Cauchy-Schwarz) and 1/(1 + (L-1)e^{-2x/T}) increases "
                         "with x:") + kPlanScope},
            {"lower", fmt::format("alpha_min >= 1/(1 + (L - 1)*exp(2*{}/T))", kMaxAbsLogit), kPlanDomain,
             std::string("max_j |l_j| <= Delta (Cauchy-Schwarz) and 1/(1 + (L-1)e^{2x/T}) decreases "
                         "with x:") + kPlanScope}};
  }
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::exp;
    const std::vector<T> l = instance_logits(x, ctx);
    const T temp = instance_temperature(x, ctx);
    const T Lm1 = ctx.from(static_cast<double>(l.size()) - 1.0);
    const T two_delta_over_t = T(2) * instance_delta(x, ctx) / temp;
    const T one = ctx.from(1.0);
    const T uniform = T(one / T(Lm1 + one));
    const T alpha_min = quantity("alpha_min", x, ctx);
    const T lower = T(one / (one + Lm1 * exp(two_delta_over_t)));
    // The tight upper bound saturates at 1 too (one dominant logit): measured from the nearer end.
    const T alpha_max = quantity("alpha_max", x, ctx);
    const T upper = T(one / (one + Lm1 * exp(-two_delta_over_t)));
    return {{"upper", alpha_max, Relation::LessEqual, upper, "", nearer_limit(alpha_max, upper, uniform, one)},
            {"lower", alpha_min, Relation::GreaterEqual, lower, "", nearer_limit(alpha_min, lower, ctx.from(0.0), uniform)}};
  }
};

}  // namespace

std::unique_ptr<Claim> make_a_cor1() {
  ClaimInfo info;
  info.id = "A.cor1";
  info.source = std::string(kSource) + ", Corollary 1";
  info.provenance = Provenance::Printed;
  info.statement_latex =
      R"(\frac{1}{L}e^{-2\Delta/T} \le \alpha_i \le \frac{1}{L}e^{2\Delta/T},\quad \Delta = \|q\|_2\max_j\|k_j\|_2)";
  info.statement_text = "(1/L)·e^{−2Δ/T} ≤ α_i ≤ (1/L)·e^{2Δ/T}, Δ = ‖q‖·max_j‖k_j‖, α = softmax(qᵀK/T)";
  info.hypotheses = "softmax attention, logits l_j = qᵀk_j, any q, K, T > 0";
  info.adapted =
      "Δ is taken as ‖q‖₂·max_j‖k_j‖₂ (THEORY.md's notation), which bounds every |l_j| by "
      "Cauchy–Schwarz. The paper's own definition of Δ is not available to us verbatim (an "
      "AI-written summary, themoonlight.io, writes Δ = ‖q‖₂‖k‖₂ for a single key k); the bounds "
      "(1/L)·e^{∓2Δ/T} are as THEORY.md records the print";
  return std::make_unique<Cor1>(std::move(info), qk_space());
}

std::unique_ptr<Claim> make_a_cor1_tight() {
  ClaimInfo info;
  info.id = "A.cor1-tight";
  info.source = std::string(kSource) + ", Corollary 1 (tight form by classical algebra)";
  info.provenance = Provenance::Classical;
  info.statement_latex =
      R"(\frac{1}{1+(L-1)e^{2\Delta/T}} \le \alpha_i \le \frac{1}{1+(L-1)e^{-2\Delta/T}})";
  info.statement_text = "1/(1+(L−1)e^{2Δ/T}) ≤ α_i ≤ 1/(1+(L−1)e^{−2Δ/T})";
  info.hypotheses = "as A.cor1";
  info.note = "|l_i − l_j| ≤ 2Δ bounds each ratio α_j/α_i by e^{2Δ/T}; not printed in the paper";
  return std::make_unique<Cor1Tight>(std::move(info), qk_space());
}

}  // namespace attncert
