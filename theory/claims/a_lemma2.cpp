// Paper A, Lemma 2 (printed; formula reconstructed): the Jacobian of the general normaliser
// α_i = F(l_i) / Σ_j F(l_j) is ∂α_i/∂l_k = δ_ik·α_i·g_i − α_i·α_k·g_k with g_j = (log F)'(l_j).
//
// Checked as an identity (Relation::Equal) per entry, for the same four F as Lemma 1 (one claim
// per F, see a_lemma1.cpp for why):
//   left:  the formula, numerics' normaliser_jacobian() with α = normalise(l, F) and g from a
//          closed form written here (1/T; σ(l)/(softplus(l) + c); 1 − σ(l) = σ(−l); p/(l + a + 1));
//   right: an independent exact derivative — forward-mode dual numbers carried through this
//          file's own formula for F and through α_i = F(l_i)/Σ_j F(l_j) (the quotient rule comes
//          from the dual arithmetic, F' from the chain rule through exp/log1p/pow; nothing uses
//          g or the lemma's structure).
// In Ball both sides are enclosures of the exact entry, so disjoint enclosures would refute the
// formula; overlapping ones make an instance "consistent".
//
// Not checked: the paper's remark that ‖J‖ is bounded by terms that grow as min_j F(l_j) → 0 —
// we do not have its precise inequality.
#include <fmt/format.h>

#include <algorithm>

#include "numerics/normaliser.hpp"
#include "numerics/normaliser_jacobian.hpp"
#include "numerics/softmax.hpp"
#include "theory/catalog.hpp"
#include "theory/quantities.hpp"

namespace attncert {
namespace {

const char* kSource = "Mudarisov, Burtsev, Petrova, State, arXiv 2508.17821 (NeurIPS 2025), Lemma 2";

// A dual number v + d·ε (ε² = 0): d carries the exact derivative along one seeded direction.
template <class T>
struct Dual {
  T v, d;
};
template <class T>
Dual<T> operator+(const Dual<T>& x, const Dual<T>& y) { return {T(x.v + y.v), T(x.d + y.d)}; }
template <class T>
Dual<T> operator+(const Dual<T>& x, const T& c) { return {T(x.v + c), x.d}; }
template <class T>
Dual<T> operator-(const Dual<T>& x) { return {T(-x.v), T(-x.d)}; }
template <class T>
Dual<T> operator*(const Dual<T>& x, const Dual<T>& y) {
  return {T(x.v * y.v), T(x.d * y.v + x.v * y.d)};
}
template <class T>
Dual<T> operator/(const Dual<T>& x, const Dual<T>& y) {
  return {T(x.v / y.v), T((x.d * y.v - x.v * y.d) / (y.v * y.v))};
}
template <class T>
Dual<T> operator/(const Dual<T>& x, const T& c) { return {T(x.v / c), T(x.d / c)}; }
template <class T>
Dual<T> dual_exp(const Dual<T>& x) {
  using std::exp;
  const T e = exp(x.v);
  return {e, T(e * x.d)};
}
template <class T>
Dual<T> dual_log1p(const Dual<T>& x) {
  using std::log1p;
  return {T(log1p(x.v)), T(x.d / (T(1) + x.v))};
}
template <class T>
Dual<T> dual_pow(const Dual<T>& x, const T& p) {
  using std::pow;
  return {T(pow(x.v, p)), T(p * pow(x.v, T(p - T(1))) * x.d)};
}

enum class Family { Exp, Softplus, Sigmoid, Power };

SearchSpace family_space(Family f) {
  SearchSpace s;
  s.scalars.push_back({"L", 1, 8, true, false, "number of tokens (the Jacobian has L² entries)"});
  switch (f) {
    case Family::Exp:
      s.scalars.push_back({"T", 0.01, 10, false, true, "temperature of F(l) = exp(l/T)"});
      s.arrays.push_back({"logits", "1", "L", Law::Normal, 0, 3, false, "logits"});
      break;
    case Family::Softplus:
      s.scalars.push_back({"c", 1e-3, 10, false, true, "shift of F(l) = softplus(l) + c"});
      s.arrays.push_back({"logits", "1", "L", Law::Normal, 0, 5, false, "logits"});
      break;
    case Family::Sigmoid:
      s.arrays.push_back({"logits", "1", "L", Law::Normal, 0, 5, false, "logits"});
      break;
    case Family::Power:
      s.scalars.push_back({"a", 0, 10, false, false, "F's domain is l in [-a, a]"});
      s.scalars.push_back({"p", 0.1, 8, false, true, "exponent of F(l) = (l + a + 1)^p"});
      s.arrays.push_back({"u", "1", "L", Law::Uniform, -1, 1, false, "logits / a (l = a·u)"});
      break;
  }
  return s;
}

class Lemma2 : public InequalityClaim<Lemma2> {
 public:
  Lemma2(ClaimInfo info, Family f) : InequalityClaim(std::move(info), family_space(f)), family_(f) {}

  void project(Instance& x) const override {
    if (family_ != Family::Power || !x.has_array("u")) return;
    auto& u = x.arrays["u"];
    for (Eigen::Index i = 0; i < u.size(); ++i) u.data()[i] = std::clamp(u.data()[i], -1.0, 1.0);
  }

  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    std::vector<T> l;
    if (family_ == Family::Power) {
      const T a = ctx.from(x.scalar("a"));
      const auto& u = x.array("u");
      for (Eigen::Index i = 0; i < u.size(); ++i) l.push_back(T(a * ctx.from(u.data()[i])));
    } else {
      l = instance_logits(x, ctx);
    }
    const std::size_t n = l.size();

    // Left: the lemma's formula.
    const RowMatrix<T> J = normaliser_jacobian<T>(l, library_function<T>(x), log_derivative<T>(x, ctx));

    // Right: dual numbers. F(l_k) with derivative seed 1 gives F_k and F'_k at once; column k
    // of the Jacobian is the derivative of α along e_k, where only F(l_k) moves.
    std::vector<Dual<T>> f;
    f.reserve(n);
    for (const T& lk : l) f.push_back(dual_function(Dual<T>{lk, ctx.from(1.0)}, x, ctx));
    T sum = ctx.from(0.0);
    for (const auto& fk : f) sum += fk.v;
    std::vector<Inequality<T>> out;
    out.reserve(n * n);
    const T zero = ctx.from(0.0);
    for (std::size_t k = 0; k < n; ++k) {
      const Dual<T> denominator{sum, f[k].d};
      for (std::size_t i = 0; i < n; ++i) {
        const Dual<T> numerator{f[i].v, i == k ? f[k].d : zero};
        const Dual<T> alpha_i = numerator / denominator;
        out.push_back({fmt::format("dalpha{}/dl{}", i, k), J(static_cast<Eigen::Index>(i),
                                                            static_cast<Eigen::Index>(k)),
                       Relation::Equal, alpha_i.d, "dalpha/dl"});
      }
    }
    return out;
  }

 private:
  template <class T>
  PositiveFunction<T> library_function(const Instance& x) const {
    switch (family_) {
      case Family::Exp: return exp_normaliser<T>(x.scalar("T"));
      case Family::Softplus: return softplus_normaliser<T>(x.scalar("c"));
      case Family::Sigmoid: return sigmoid_normaliser<T>();
      case Family::Power: return power_normaliser<T>(x.scalar("a"), x.scalar("p"));
    }
    throw std::logic_error("Lemma2: unknown family");
  }

  // g = (log F)' in closed form.
  template <class T>
  LogDerivative<T> log_derivative(const Instance& x, const TierContext<T>& ctx) const {
    switch (family_) {
      case Family::Exp: {
        const T g = T(ctx.from(1.0) / ctx.from(x.scalar("T")));
        return [g](const T&) { return g; };
      }
      case Family::Softplus: {
        // F = softplus + c, F' = σ: g = σ(l) / (softplus(l) + c).
        const PositiveFunction<T> sigma = sigmoid_normaliser<T>();
        const PositiveFunction<T> F = softplus_normaliser<T>(x.scalar("c"));
        return [sigma, F](const T& l) { return T(sigma(l) / F(l)); };
      }
      case Family::Sigmoid: {
        // σ' = σ(1 − σ): g = 1 − σ(l) = σ(−l).
        const PositiveFunction<T> sigma = sigmoid_normaliser<T>();
        return [sigma](const T& l) { return sigma(T(-l)); };
      }
      case Family::Power: {
        const T p = ctx.from(x.scalar("p"));
        const T shift = T(ctx.from(x.scalar("a")) + ctx.from(1.0));
        return [p, shift](const T& l) { return T(p / T(l + shift)); };
      }
    }
    throw std::logic_error("Lemma2: unknown family");
  }

  // F on dual numbers, from its defining formula (overflow-safe branches chosen by the sign of
  // the value's midpoint; both branches are identities on all of ℝ, derivatives included).
  template <class T>
  Dual<T> dual_function(const Dual<T>& l, const Instance& x, const TierContext<T>& ctx) const {
    const bool nonneg = ScalarTraits<T>::to_double(l.v) >= 0;
    const T one = ctx.from(1.0);
    switch (family_) {
      case Family::Exp: return dual_exp(l / ctx.from(x.scalar("T")));
      case Family::Softplus: {
        // softplus(l) = l + log1p(e^{−l}) = log1p(e^{l}).
        const Dual<T> tail = dual_log1p(dual_exp(nonneg ? -l : l));
        return (nonneg ? l + tail : tail) + ctx.from(x.scalar("c"));
      }
      case Family::Sigmoid: {
        const Dual<T> one_d{one, ctx.from(0.0)};
        if (nonneg) return one_d / (dual_exp(-l) + one);
        const Dual<T> e = dual_exp(l);
        return e / (e + one);
      }
      case Family::Power:
        return dual_pow(l + T(ctx.from(x.scalar("a")) + one), ctx.from(x.scalar("p")));
    }
    throw std::logic_error("Lemma2: unknown family");
  }

  Family family_;
};

std::unique_ptr<Claim> make_lemma2(Family f, const char* suffix, const char* f_text,
                                   const char* params) {
  ClaimInfo info;
  info.id = fmt::format("A.lemma2-{}", suffix);
  info.source = fmt::format("{} (F = {})", kSource, f_text);
  info.provenance = Provenance::Reconstructed;
  info.statement_latex =
      R"(\frac{\partial\alpha_i}{\partial l_k} = \delta_{ik}\,\alpha_i g_i - \alpha_i\alpha_k g_k,)"
      R"(\quad g_j = \partial_l \log F(l_j),\ \alpha_i = \frac{F(l_i)}{\sum_j F(l_j)})";
  info.statement_text = fmt::format(
      "∂α_i/∂l_k = δ_ik·α_i·g_i − α_i·α_k·g_k, g_j = (log F)'(l_j), α_i = F(l_i)/Σ_j F(l_j), "
      "F(l) = {}",
      f_text);
  info.hypotheses = fmt::format("F smooth and positive; {}", params);
  info.note =
      "identity, checked entry by entry against forward-mode dual numbers through F's formula "
      "(independent of g). The lemma is printed; its formula as written here is our "
      "reconstruction. The paper's norm bound (growing as min_j F(l_j) → 0) is not checked: we "
      "do not have its precise form";
  return std::make_unique<Lemma2>(std::move(info), f);
}

}  // namespace

std::unique_ptr<Claim> make_a_lemma2_exp() {
  return make_lemma2(Family::Exp, "exp", "exp(l/T)", "T ∈ [0.01, 10], L ≤ 8");
}

std::unique_ptr<Claim> make_a_lemma2_softplus() {
  return make_lemma2(Family::Softplus, "softplus", "softplus(l) + c", "c ∈ [1e-3, 10], L ≤ 8");
}

std::unique_ptr<Claim> make_a_lemma2_sigmoid() {
  return make_lemma2(Family::Sigmoid, "sigmoid", "sigmoid(l)", "L ≤ 8");
}

std::unique_ptr<Claim> make_a_lemma2_power() {
  return make_lemma2(Family::Power, "power", "(l + a + 1)^p",
                     "l ∈ [−a, a], a ∈ [0, 10], p ∈ [0.1, 8], L ≤ 8");
}

}  // namespace attncert
