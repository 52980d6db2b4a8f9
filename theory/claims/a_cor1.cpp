// Paper A, Corollary 1 (printed) and its tight form (classical algebra).
#include "theory/catalog.hpp"
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

class Cor1 : public InequalityClaim<Cor1> {
 public:
  using InequalityClaim::InequalityClaim;
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::exp;
    const std::vector<T> l = instance_logits(x, ctx);
    const T temp = instance_temperature(x, ctx);
    const T L = ctx.from(static_cast<double>(l.size()));
    const T two_delta_over_t = T(2) * instance_delta(x, ctx) / temp;
    return {{"upper", quantity("alpha_max", x, ctx), Relation::LessEqual, T(exp(two_delta_over_t) / L)},
            {"lower", quantity("alpha_min", x, ctx), Relation::GreaterEqual, T(exp(-two_delta_over_t) / L)}};
  }
};

class Cor1Tight : public InequalityClaim<Cor1Tight> {
 public:
  using InequalityClaim::InequalityClaim;
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::exp;
    const std::vector<T> l = instance_logits(x, ctx);
    const T temp = instance_temperature(x, ctx);
    const T Lm1 = ctx.from(static_cast<double>(l.size()) - 1.0);
    const T two_delta_over_t = T(2) * instance_delta(x, ctx) / temp;
    const T one = ctx.from(1.0);
    return {{"upper", quantity("alpha_max", x, ctx), Relation::LessEqual,
             T(one / (one + Lm1 * exp(-two_delta_over_t)))},
            {"lower", quantity("alpha_min", x, ctx), Relation::GreaterEqual,
             T(one / (one + Lm1 * exp(two_delta_over_t)))}};
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
