// Paper A, Algorithm 5 (experiment protocol): the finite-difference sensitivity
//     g(T, ε) = ‖softmax((l + εv)/T) − softmax(l/T)‖₂ / ε,   v uniform on the unit sphere,
// on a temperature grid and ε ∈ {1e-3, 1e-1, 10}.
//
// The paper reports that g follows 1/T for T < 0.1 and collapses for T >= 1 (on GPT-2's
// logits). That is a finding about a distribution of logits, not a theorem: for logits without
// near-ties at the top, g → 0 as T → 0 (softmax saturates), so no inequality of the form
// "T·g >= c" holds for every l. What does hold for every l, v and grid point, and is checked here
// on the protocol's grid (a Trend claim: certified values along the (T, ε) grid):
//
//  "lipschitz"   g(T, ε) <= min{1/(2T), √2/ε}.
//      softmax(·/T) is (1/(2T))-Lipschitz in ‖·‖₂ (mean value theorem with
//      ‖J‖₂ = λ_max(diag α − ααᵀ)/T <= 1/(2T)), and ‖α − β‖₂² <= ‖α − β‖₁‖α − β‖_∞ <= 2 for two
//      probability vectors. This is what "collapse" can mean as a theorem: the ceiling falls as
//      1/T, and as 1/ε at ε = 10.
//      The √2/ε half holds for any two probability vectors, so the side checks g <= 1/(2T) with
//      √2/ε as its a-priori bound: vacuous where √2/ε <= 1/(2T), i.e. ε >= 2√2·T.
//  "derivative"  |g(T, ε) − ‖J v‖₂| <= ε/(2T²),  J = ∂α/∂l = (diag α − ααᵀ)/T.
//      With α(t) = softmax((l + tv)/T) and h = v/T: α_i'' = α_i((h_i − μ)² − σ²), μ, σ² the
//      α-mean and α-variance of h, so ‖α''‖₂ <= ‖α''‖₁ <= 2σ² <= (max h − min h)²/2 <= ‖h‖₂² =
//      1/T² (Popoviciu; (a − b)² <= 2(a² + b²)); Taylor's remainder gives
//      ‖α(ε) − α(0) − εJv‖₂ <= ε²/(2T²), then the reverse triangle inequality. So the ε = 1e-3
//      protocol measures the directional derivative ‖Jv‖ to within ε/(2T²).
//      A priori, g and ‖Jv‖₂ both lie in [0, 1/(2T)], so |g − ‖Jv‖₂| <= 1/(2T) anyway: the side is
//      checked in units of that ceiling, 2T·|g − ‖Jv‖₂| <= ε/T with a-priori bound 1, and is
//      vacuous exactly when ε/T >= 1 (T <= ε; at T = ε the quotient is exactly 1 in every tier,
//      so the Ball check certifies that tie too).
// Sides are grouped in the families "lipschitz" and "derivative" (one tightness each over the
// grid). Degenerate: L = 1 (α = 1 whatever the logits, so g = ‖Jv‖₂ = 0).
#include <fmt/format.h>

#include <array>
#include <optional>
#include <string>

#include "numerics/softmax.hpp"
#include "numerics/softmax_jacobian.hpp"
#include "theory/catalog.hpp"
#include "theory/quantities.hpp"

namespace attncert {
namespace {

constexpr std::array<double, 10> kTemperatures = {0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10};
constexpr std::array<double, 3> kEpsilons = {1e-3, 1e-1, 10};

class FiniteDifference : public InequalityClaim<FiniteDifference> {
 public:
  using InequalityClaim::InequalityClaim;

  std::string degenerate_reason(const Instance& x) const override {
    if (x.array("logits").size() <= 1) return "L = 1: the only weight is 1, so g = ‖Jv‖₂ = 0";
    return {};
  }

  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::abs;
    using std::sqrt;
    const std::vector<T> l = instance_logits(x, ctx);
    // v: the sampled direction scaled onto the unit sphere in the tier (Ball: an enclosure of
    // the exact unit vector u/‖u‖ of the stored double vector u).
    const auto& u = x.array("v");
    if (u.size() != static_cast<Eigen::Index>(l.size())) {
      throw std::invalid_argument(fmt::format("A.fd: v has {} entries, logits {}; need equal",
                                              u.size(), l.size()));
    }
    std::vector<T> v;
    T norm2 = ctx.from(0.0);
    for (Eigen::Index i = 0; i < u.size(); ++i) {
      v.push_back(ctx.from(u.data()[i]));
      norm2 += v.back() * v.back();
    }
    const T norm = sqrt(norm2);
    for (T& e : v) e = T(e / norm);

    std::vector<Inequality<T>> out;
    const T one = ctx.from(1.0);
    const T root2 = sqrt(ctx.from(2.0));
    for (double t_value : kTemperatures) {
      const T temp = ctx.from(t_value);
      const T two_t = T(ctx.from(2.0) * temp);
      // ‖Jv‖₂ with (Jv)_i = α_i (v_i − αᵀv) / T.
      const std::vector<T> alpha = softmax<T>(l, temp);
      T mean = ctx.from(0.0);
      for (std::size_t i = 0; i < l.size(); ++i) mean += alpha[i] * v[i];
      T jv2 = ctx.from(0.0);
      for (std::size_t i = 0; i < l.size(); ++i) {
        const T e = T(alpha[i] * T(v[i] - mean));
        jv2 += e * e;
      }
      const T jv = T(sqrt(jv2) / temp);
      for (double eps_value : kEpsilons) {
        const T eps = ctx.from(eps_value);
        const T g = finite_difference_sensitivity<T>(l, temp, eps, v);
        out.push_back({fmt::format("lipschitz T={} eps={}", t_value, eps_value), g,
                       Relation::LessEqual, T(one / two_t), "lipschitz", std::nullopt,
                       T(root2 / eps)});
        out.push_back({fmt::format("derivative T={} eps={}", t_value, eps_value),
                       T(two_t * T(abs(T(g - jv)))), Relation::LessEqual, T(eps / temp),
                       "derivative", std::nullopt, one});
      }
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Claim> make_a_fd() {
  ClaimInfo info;
  info.id = "A.fd";
  info.source =
      "Mudarisov, Burtsev, Petrova, State, arXiv 2508.17821 (NeurIPS 2025), Algorithm 5 "
      "(finite-difference sensitivity protocol)";
  info.provenance = Provenance::Experiment;
  info.kind = ClaimKind::Trend;
  info.statement_latex =
      R"(g(T,\varepsilon) = \frac{\|\mathrm{softmax}((l+\varepsilon v)/T) - \mathrm{softmax}(l/T)\|_2}{\varepsilon}:\ )"
      R"(g \le \min\{\tfrac{1}{2T}, \tfrac{\sqrt2}{\varepsilon}\},\ )"
      R"(|g - \|Jv\|_2| \le \tfrac{\varepsilon}{2T^2}\ \text{on } T \in \{0.01,\dots,10\},\ \varepsilon \in \{10^{-3}, 10^{-1}, 10\})";
  info.statement_text =
      "g(T, ε) = ‖softmax((l+εv)/T) − softmax(l/T)‖₂/ε, ‖v‖₂ = 1: g ≤ min{1/(2T), √2/ε} and "
      "|g − ‖Jv‖₂| ≤ ε/(2T²) for T ∈ {0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10}, "
      "ε ∈ {1e-3, 0.1, 10}";
  info.hypotheses = "any logits l, any unit direction v (the protocol draws it uniform on the sphere)";
  info.note =
      "g ≤ √2/ε holds for any two probability vectors and |g − ‖Jv‖₂| ≤ 1/(2T) for any l, v: these "
      "are the sides' a-priori bounds, so the Lipschitz side tests nothing where ε ≥ 2√2·T and the "
      "derivative side nothing where T ≤ ε (vacuous there). The Lipschitz side is checked as "
      "g ≤ 1/(2T) (its √2/ε half being the a-priori bound), the derivative side as "
      "2T·|g − ‖Jv‖₂| ≤ ε/T (the same inequality in units of 1/(2T)). "
      "The protocol's reported finding — g follows 1/T for T < 0.1 and collapses for T ≥ 1 — "
      "depends on the logit distribution (for logits without near-ties, g → 0 as T → 0), so it "
      "is not stated as an inequality: it is a reported finding, measured by `attncert sweep` "
      "later. Checked here are the theorems that bound every run of the protocol: the 1/(2T) "
      "Lipschitz ceiling (with √2/ε for large ε) and the accuracy ε/(2T²) of g as an estimate "
      "of the directional derivative ‖Jv‖₂";
  SearchSpace space{{{"L", 1, 64, true, false, "number of logits"}},
                    {{"logits", "1", "L", Law::Normal, 0, 3, false, "logits"},
                     {"v", "1", "L", Law::Sphere, 1, 1, false, "direction (scaled to norm 1)"}}};
  return std::make_unique<FiniteDifference>(std::move(info), std::move(space));
}

}  // namespace attncert
