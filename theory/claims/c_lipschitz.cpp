// C.lipschitz (classical): softmax is 1/2-Lipschitz in ℓ2.
#include <span>
#include <string>

#include "numerics/softmax.hpp"
#include "theory/catalog.hpp"

namespace attncert {
namespace {

// ‖softmax(x) − softmax(y)‖₂ ≤ ½‖x − y‖₂ (T = 1): the mean-value theorem along the segment
// with ‖J‖₂ = λ_max(diag α − ααᵀ) ≤ ½ at every point.
// Degenerate: L = 1 or x = y (exact doubles), where both softmaxes are equal and both sides 0.
class SoftmaxLipschitz : public InequalityClaim<SoftmaxLipschitz> {
 public:
  using InequalityClaim::InequalityClaim;
  std::string degenerate_reason(const Instance& inst) const override {
    if (inst.array("x").size() <= 1) return "L = 1: the only weight is 1 for x and y alike";
    const auto& x = inst.array("x");
    const auto& y = inst.array("y");
    if (x.size() == y.size() && x == y) return "x = y: both sides are 0";
    return {};
  }
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& inst, const TierContext<T>& ctx) const {
    using std::sqrt;
    const auto& xd = inst.array("x");
    const auto& yd = inst.array("y");
    std::vector<T> x, y;
    for (Eigen::Index i = 0; i < xd.size(); ++i) x.push_back(ctx.from(xd.data()[i]));
    for (Eigen::Index i = 0; i < yd.size(); ++i) y.push_back(ctx.from(yd.data()[i]));
    const T one = ctx.from(1.0);
    const std::vector<T> a = softmax<T>(std::span<const T>(x), one);
    const std::vector<T> b = softmax<T>(std::span<const T>(y), one);
    T out_sq = ctx.from(0.0), in_sq = ctx.from(0.0);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const T da = a[i] - b[i];
      const T dx = x[i] - y[i];
      out_sq += da * da;
      in_sq += dx * dx;
    }
    return {{"lipschitz 1/2", T(sqrt(out_sq)), Relation::LessEqual, T(sqrt(in_sq) / ctx.from(2.0))}};
  }
};

}  // namespace

std::unique_ptr<Claim> make_c_lipschitz() {
  ClaimInfo info;
  info.id = "C.lipschitz";
  info.source =
      "classical: ‖diag α − ααᵀ‖₂ ≤ 1/2 (C.jacobian-softmax) and the mean-value inequality along [x, y]";
  info.provenance = Provenance::Classical;
  info.statement_latex =
      R"(\|\mathrm{softmax}(x) - \mathrm{softmax}(y)\|_2 \le \tfrac12\|x - y\|_2)";
  info.statement_text = "‖softmax(x) − softmax(y)‖₂ ≤ ½‖x − y‖₂ (temperature 1)";
  info.hypotheses = "any x, y ∈ ℝ^L (no masking), T = 1";
  info.note =
      "the constant 1/2 is the supremum of ‖J‖₂ (C.jacobian-softmax), approached for two tied largest "
      "logits and y → x. Dot-product self-attention X ↦ softmax(XW_QW_KᵀXᵀ/√d)XW_V is not globally "
      "Lipschitz (Kim, Papamakarios, Mnih 2021, \"The Lipschitz constant of self-attention\", ICML, "
      "Thm 3.1): not a catalog claim, since a finite check cannot certify an unbounded supremum; "
      "local estimates come from numerics/attention_jvp.hpp (double/Mp, not certified)";
  SearchSpace space{{{"L", 1, 64, true, false, "number of logits"}},
                    {{"x", "1", "L", Law::Normal, 0, 3, false, "first logit vector"},
                     {"y", "1", "L", Law::Normal, 0, 3, false, "second logit vector"}}};
  return std::make_unique<SoftmaxLipschitz>(std::move(info), std::move(space));
}

}  // namespace attncert
