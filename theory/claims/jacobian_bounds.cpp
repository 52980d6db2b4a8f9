// Gradient sensitivity of softmax: paper A's Corollary 3 as printed, and the classical bound.
#include <cmath>
#include <string>

#include "theory/catalog.hpp"
#include "theory/quantities.hpp"

namespace attncert {
namespace {

// Degenerate for both claims: at most one unmasked logit makes α a point mass, so J = 0.
std::string point_mass_reason(const Instance& x) {
  const auto& l = x.array("logits");
  long unmasked = 0;
  for (Eigen::Index i = 0; i < l.size(); ++i) unmasked += std::isfinite(l.data()[i]) ? 1 : 0;
  if (unmasked <= 1) return "at most one unmasked logit: α is a point mass and J = 0";
  return {};
}

SearchSpace logit_space() {
  return SearchSpace{{{"L", 1, 64, true, false, "number of logits"},
                      {"T", 0.01, 10, false, true, "temperature"}},
                     {{"logits", "1", "L", Law::Normal, 0, 3, true, "logits (−inf = masked)"}}};
}

// ‖∇_l α‖₂ ≤ min{1/(4T), √2}, with α = softmax(l/T) and the Jacobian taken w.r.t. l.
class Cor3 : public InequalityClaim<Cor3> {
 public:
  using InequalityClaim::InequalityClaim;
  std::string degenerate_reason(const Instance& x) const override { return point_mass_reason(x); }
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::sqrt;
    const T temp = instance_temperature(x, ctx);
    const T quarter_over_t = ctx.from(0.25) / temp;
    const T root2 = T(sqrt(ctx.from(2.0)));
    return {{"norm", quantity("jacobian_norm", x, ctx), Relation::LessEqual,
             tier_min(quarter_over_t, root2)}};
  }
};

// ‖J‖₂ ≤ 1/(2T).
class JacobianSoftmax : public InequalityClaim<JacobianSoftmax> {
 public:
  using InequalityClaim::InequalityClaim;
  std::string degenerate_reason(const Instance& x) const override { return point_mass_reason(x); }
  // The statement for L = 2. T·‖J(l, T)‖ = ‖J(l/T, 1)‖, and J does not change when every logit
  // moves by the same amount, so T = 1 and a box of half-width 20 cover every T and every logit
  // vector of range <= 40·T. Attained on every tie l₁ = l₂ (α = (½, ½)), so the prover needs
  // its attained-bound handling or a slack.
  // L = 3 has a closed form too (theory/elementary_forms.cpp) and belongs here once the prover
  // covers it: today its sqrt(max(D, 0)) is a non-finite ball wherever D = 0 (every tie
  // l₁ = l₂ = l₃), and even with that fixed 2·10⁶ boxes per attempt do not reach slack 1e-3;
  // a plan with an undecided goal would leave the whole claim unproved. L >= 4: the nonzero
  // eigenvalues of diag α − ααᵀ are the roots of a cubic, with no form in + − × ÷ exp log sqrt.
  std::vector<ProofPlan> proof_plans() const override {
    return {{"norm", "jacobian_norm <= 0.5/T", "L = 2, T = 1, logits in [-20, 20]^L",
             "T*||J(l, T)|| = ||J(l/T, 1)|| and J is unchanged by a common shift of the logits: "
             "proves the claim for L = 2, every T > 0 and all unmasked logits with |l_1 - l_2|/T <= 40 "
             "(L = 3: closed form, not yet covered by the prover; L >= 4: no closed form)"}};
  }
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    const T temp = instance_temperature(x, ctx);
    return {{"norm", quantity("jacobian_norm", x, ctx), Relation::LessEqual,
             T(ctx.from(0.5) / temp)}};
  }
};

}  // namespace

std::unique_ptr<Claim> make_a_cor3() {
  ClaimInfo info;
  info.id = "A.cor3";
  info.source = "Mudarisov, Burtsev, Petrova, State, arXiv 2508.17821, Corollary 3";
  info.provenance = Provenance::Printed;
  info.statement_latex = R"(\|\nabla_l \alpha\|_2 \le \min\{\tfrac{1}{4T}, \sqrt{2}\},\quad \alpha = \mathrm{softmax}(l/T))";
  info.statement_text = "‖∇_l α‖₂ ≤ min{1/(4T), √2}, α = softmax(l/T), spectral norm";
  info.hypotheses = "softmax with temperature T > 0, any logits";
  info.note =
      "checked as printed (the formula as THEORY.md records it, nothing adapted): ‖∇_l α‖₂ read as "
      "the spectral norm of the Jacobian ∂α/∂l, the usual meaning of ‖·‖₂ for a matrix. The "
      "Frobenius norm is never smaller, so an instance refuting this reading refutes that one too";
  return std::make_unique<Cor3>(std::move(info), logit_space());
}

std::unique_ptr<Claim> make_c_jacobian_softmax() {
  ClaimInfo info;
  info.id = "C.jacobian-softmax";
  info.source = "classical: J = (1/T)(diag α − ααᵀ) is PSD with λ_max ≤ 1/(2T)";
  info.provenance = Provenance::Classical;
  info.statement_latex = R"(\|J\|_2 \le \frac{1}{2T},\quad J = \tfrac{1}{T}(\mathrm{diag}\,\alpha - \alpha\alpha^\top))";
  info.statement_text = "‖J‖₂ ≤ 1/(2T), J = (1/T)(diag α − ααᵀ)";
  info.hypotheses = "softmax with temperature T > 0, any logits";
  return std::make_unique<JacobianSoftmax>(std::move(info), logit_space());
}

}  // namespace attncert
