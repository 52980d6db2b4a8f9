// Paper A, Lemma 1 (printed; explicit constants reconstructed): a general normaliser
// α_i = F(l_i) / Σ_j F(l_j) with F independent of L and l_i ∈ [−a, a] gives C₁/L ≤ α_i ≤ C₂/L.
//
// One claim per F (A.lemma1-exp, -softplus, -sigmoid, -power) rather than one claim with a
// `family` switch: each F has its own parameters (T, c, p), so each domain holds exactly the
// parameters that matter, and a verdict, a tightness and a counterexample name the F they are
// about (a pooled claim would report one tightness over four different constants).
//
// Constants: every F here is increasing on [−a, a] on the whole allowed parameter range
// (exp(l/T) with T > 0; softplus(l) + c; sigmoid(l); (l + a + 1)^p with p > 0 and
// l + a + 1 >= 1 > 0), so min F = F(−a) and max F = F(a), and since every F(l_j) lies in
// [F(−a), F(a)]: F(−a)/(L·F(a)) <= α_i <= F(a)/(L·F(−a)), i.e. C₁ = F(−a)/F(a), C₂ = F(a)/F(−a).
//
// Logits: l = a·u with u ∈ [−1, 1]^L, so l ∈ [−a, a]^L exactly and every such l is reached.
//
// Tightness: as a → 0 weights and bounds all tend to 1/L, and the plain ratio α_max/(C₂/L) would
// tend to 1 whatever the logits. The upper side is measured from the uniform weight 1/L (its gap
// origin): (Lα_max − 1)/(C₂ − 1), the share of the deviation from uniform that the bound allows
// and the instance uses. The lower side's α_min and C₁/L lie in [0, 1/L] and saturate at either
// end (at 0 when a/T is large), so it is measured from the end the pair is nearer to
// (theory/nearer_limit.hpp): (1 − Lα_min)/(1 − C₁) near 1/L, C₁/(Lα_min) near 0.
//
// Degenerate (Claim::degenerate_reason): L = 1 (the one weight is 1, and C₁ ≤ 1 ≤ C₂), or all
// logits equal — a = 0 or all u_j equal, decided on the exact doubles since l_j = a·u_j — where
// every weight is exactly 1/L.
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "numerics/normaliser.hpp"
#include "numerics/softmax.hpp"
#include "theory/catalog.hpp"
#include "theory/nearer_limit.hpp"
#include "theory/quantities.hpp"

namespace attncert {
namespace {

const char* kSource = "Mudarisov, Burtsev, Petrova, State, arXiv 2508.17821 (NeurIPS 2025), Lemma 1";

enum class Family { Exp, Softplus, Sigmoid, Power };

SearchSpace family_space(Family f) {
  SearchSpace s;
  s.scalars.push_back({"L", 1, 64, true, false, "number of tokens"});
  switch (f) {
    case Family::Exp:
      s.scalars.push_back({"a", 0, 10, false, false, "logit half-width: l_i in [-a, a]"});
      s.scalars.push_back({"T", 0.01, 10, false, true, "temperature of F(l) = exp(l/T)"});
      break;
    case Family::Softplus:
      s.scalars.push_back({"a", 0, 20, false, false, "logit half-width: l_i in [-a, a]"});
      s.scalars.push_back({"c", 1e-3, 10, false, true, "shift of F(l) = softplus(l) + c"});
      break;
    case Family::Sigmoid:
      s.scalars.push_back({"a", 0, 20, false, false, "logit half-width: l_i in [-a, a]"});
      break;
    case Family::Power:
      s.scalars.push_back({"a", 0, 10, false, false, "logit half-width: l_i in [-a, a]"});
      s.scalars.push_back({"p", 0.1, 8, false, true, "exponent of F(l) = (l + a + 1)^p"});
      break;
  }
  s.arrays.push_back({"u", "1", "L", Law::Uniform, -1, 1, false, "logits / a (l = a·u)"});
  return s;
}

class Lemma1 : public InequalityClaim<Lemma1> {
 public:
  Lemma1(ClaimInfo info, Family f) : InequalityClaim(std::move(info), family_space(f)), family_(f) {}

  // The sampler and perturbations already keep u in [−1, 1]; clamping makes a hand-edited or
  // replayed instance lie in the domain too.
  void project(Instance& x) const override {
    if (!x.has_array("u")) return;
    auto& u = x.arrays["u"];
    for (Eigen::Index i = 0; i < u.size(); ++i) u.data()[i] = std::clamp(u.data()[i], -1.0, 1.0);
  }

  // Only F = exp(l/T) has a plan: its weights are softmax(l/T), which the expression language
  // names (alpha_max, alpha_min); the other normalisers' weights have no name there. The
  // constants are stated with M = max_j |l_j| <= a in place of a, so one statement over a box
  // of logits covers every a up to the box's half-width, and both sides depend on (l, T), (a, T)
  // only through l/T, a/T, so T = 1 covers every T. L proof variables.
  std::vector<ProofPlan> proof_plans() const override {
    if (family_ != Family::Exp) return {};
    const char* domain = "L in [2, 3], T = 1, logits in [-20, 20]^L";
    const char* scope =
        " proves the side for L in {2, 3} and every a, T with a/T <= 20 (F = exp(l/T): the weights "
        "are softmax(l/T), and both sides depend on l/T and a/T only)";
    return {{"upper", "alpha_max <= exp(2*max(abs(logit_max), abs(logit_min))/T)/L", domain,
             std::string("l in [-a, a]^L gives max_j |l_j| <= a, and e^{2x/T}/L increases with x:") + scope},
            {"lower", "alpha_min >= exp(-2*max(abs(logit_max), abs(logit_min))/T)/L", domain,
             std::string("l in [-a, a]^L gives max_j |l_j| <= a, and e^{-2x/T}/L decreases with x:") + scope}};
  }

  std::string degenerate_reason(const Instance& x) const override {
    const auto& u = x.array("u");
    if (u.size() <= 1) return "L = 1: the only weight is 1, and C₁ ≤ 1 ≤ C₂";
    if (x.scalar("a") == 0) return "a = 0: every logit is 0, so every weight is 1/L and C₁ = C₂ = 1";
    if ((u.array() == u.data()[0]).all()) return "all u_j equal: every logit is equal, so every weight is 1/L";
    return {};
  }

  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::exp;
    const double a_value = x.scalar("a");
    const T a = ctx.from(a_value);
    const auto& u = x.array("u");
    std::vector<T> l;
    l.reserve(static_cast<std::size_t>(u.size()));
    for (Eigen::Index i = 0; i < u.size(); ++i) l.push_back(T(a * ctx.from(u.data()[i])));
    const T L = ctx.from(static_cast<double>(l.size()));

    std::vector<T> alpha;
    T c2;  // max F / min F over [−a, a]
    T c1;  // min F / max F
    if (family_ == Family::Exp) {
      // softmax(l/T) is the exp normaliser exactly; softmax shifts by the largest logit, so the
      // double search does not overflow where exp(l/T) alone would (a/T up to 1000).
      const T temp = ctx.from(x.scalar("T"));
      alpha = softmax<T>(l, temp);
      c2 = exp(T(T(2) * a / temp));
      c1 = exp(T(T(-2) * a / temp));
    } else {
      const PositiveFunction<T> F = function<T>(x, a_value);
      alpha = normalise<T>(l, F);
      const T f_hi = F(a);
      const T f_lo = F(T(-a));
      c2 = f_hi / f_lo;
      c1 = f_lo / f_hi;
    }
    T amax = alpha.front(), amin = alpha.front();
    for (const T& v : alpha) {
      amax = tier_max(amax, v);
      amin = tier_min(amin, v);
    }
    const T uniform = T(ctx.from(1.0) / L);
    const T lower = T(c1 / L);
    // A weight is at most 1: where C₂/L ≥ 1 the upper side is vacuous (a_priori).
    return {{"upper", amax, Relation::LessEqual, T(c2 / L), "", uniform, ctx.from(1.0)},
            {"lower", amin, Relation::GreaterEqual, lower, "", nearer_limit(amin, lower, ctx.from(0.0), uniform)}};
  }

 private:
  template <class T>
  PositiveFunction<T> function(const Instance& x, double a) const {
    switch (family_) {
      case Family::Softplus: return softplus_normaliser<T>(x.scalar("c"));
      case Family::Sigmoid: return sigmoid_normaliser<T>();
      case Family::Power: return power_normaliser<T>(a, x.scalar("p"));
      case Family::Exp: break;
    }
    throw std::logic_error("Lemma1::function: the exp family is evaluated by softmax");
  }

  Family family_;
};

std::unique_ptr<Claim> make_lemma1(Family f, const char* suffix, const char* f_latex,
                                   const char* f_text, const char* params) {
  ClaimInfo info;
  info.id = fmt::format("A.lemma1-{}", suffix);
  info.source = fmt::format("{} (F = {})", kSource, f_text);
  info.provenance = Provenance::Reconstructed;
  info.statement_latex = fmt::format(
      R"(l \in [-a,a]^L,\ \alpha_i = \frac{{F(l_i)}}{{\sum_j F(l_j)}},\ F(l) = {}:\quad )"
      R"(\frac{{F(-a)}}{{F(a)}}\cdot\frac{{1}}{{L}} \le \alpha_i \le \frac{{F(a)}}{{F(-a)}}\cdot\frac{{1}}{{L}})",
      f_latex);
  info.statement_text = fmt::format(
      "l ∈ [−a, a]^L, α_i = F(l_i)/Σ_j F(l_j), F(l) = {}: (F(−a)/F(a))/L ≤ α_i ≤ (F(a)/F(−a))/L",
      f_text);
  info.hypotheses = fmt::format("F independent of L; every l_i ∈ [−a, a]; {}", params);
  info.note =
      "printed: C₁/L ≤ α_i ≤ C₂/L with C₁, C₂ independent of L. Reconstructed: the explicit "
      "constants C₁ = min F / max F, C₂ = max F / min F over [−a, a]; F is increasing on the "
      "allowed parameters, so min F = F(−a), max F = F(a). Tagged reconstructed although the "
      "lemma is printed: the print only says such constants exist, and what is checked is our "
      "explicit form, so a refutation would refute our constants, not the paper";
  return std::make_unique<Lemma1>(std::move(info), f);
}

}  // namespace

std::unique_ptr<Claim> make_a_lemma1_exp() {
  return make_lemma1(Family::Exp, "exp", R"(e^{l/T})", "exp(l/T)", "T ∈ [0.01, 10], a ∈ [0, 10]");
}

std::unique_ptr<Claim> make_a_lemma1_softplus() {
  return make_lemma1(Family::Softplus, "softplus", R"(\log(1+e^{l}) + c)", "softplus(l) + c",
                     "c ∈ [1e-3, 10], a ∈ [0, 20]");
}

std::unique_ptr<Claim> make_a_lemma1_sigmoid() {
  return make_lemma1(Family::Sigmoid, "sigmoid", R"(1/(1+e^{-l}))", "sigmoid(l)", "a ∈ [0, 20]");
}

std::unique_ptr<Claim> make_a_lemma1_power() {
  return make_lemma1(Family::Power, "power", R"((l+a+1)^p)", "(l + a + 1)^p",
                     "p ∈ [0.1, 8], a ∈ [0, 10] (so l + a + 1 >= 1 > 0)");
}

}  // namespace attncert
