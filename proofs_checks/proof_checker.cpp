// The independent checker: MPFI intervals only (no Arb, no numerics/ball.hpp), so that a bug in
// the prover's interval code cannot vouch for itself.
#include "proofs_checks/proof_checker.hpp"

#include <fmt/format.h>
#include <mpfi.h>
#include <mpfr.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace attncert {
namespace {

// Bits added to a leaf's recorded precision: the prover decided the leaf in Arb's midpoint–radius
// arithmetic, whose rounding differs from MPFI's endpoint rounding; a few extra bits keep a leaf
// that was decided with little room from failing on that difference alone. 53 + 11 = 64 bits is
// still one limb (MPFR's fast path; 85 bits took ~1.7× as long on the entropy certificates).
// More precision never weakens the check: every MPFI operation still encloses the exact result.
constexpr long kGuardBits = 11;

// One MPFI interval with value semantics.
class Interval {
 public:
  explicit Interval(long prec) { mpfi_init2(x_, prec); }
  Interval(const Interval& o) {
    mpfi_init2(x_, mpfi_get_prec(o.x_));
    mpfi_set(x_, o.x_);
  }
  Interval& operator=(const Interval& o) {
    if (this != &o) {
      mpfi_set_prec(x_, mpfi_get_prec(o.x_));
      mpfi_set(x_, o.x_);
    }
    return *this;
  }
  ~Interval() { mpfi_clear(x_); }
  mpfi_ptr get() { return x_; }
  mpfi_srcptr get() const { return x_; }
  long prec() const { return static_cast<long>(mpfi_get_prec(x_)); }
  mpfr_srcptr lo() const { return &x_->left; }
  mpfr_srcptr hi() const { return &x_->right; }
  bool finite() const { return mpfr_number_p(lo()) && mpfr_number_p(hi()); }
  bool is_zero() const { return mpfr_zero_p(lo()) && mpfr_zero_p(hi()); }
  bool certainly_positive() const { return finite() && mpfr_sgn(lo()) > 0; }
  bool certainly_nonnegative() const { return finite() && mpfr_sgn(lo()) >= 0; }
  bool certainly_nonpositive() const { return finite() && mpfr_sgn(hi()) <= 0; }
  bool certainly_negative() const { return finite() && mpfr_sgn(hi()) < 0; }
  std::string text() const {
    if (mpfr_nan_p(lo()) || mpfr_nan_p(hi())) return "undefined";
    return fmt::format("[{:.6g}, {:.6g}]", mpfr_get_d(lo(), MPFR_RNDD), mpfr_get_d(hi(), MPFR_RNDU));
  }

 private:
  mpfi_t x_;
};

// A leaf's method fails on its box: the message says why (the checker reports it with the path).
struct LeafFailure {
  std::string message;
};

Interval zero(long prec) {
  Interval z(prec);
  mpfi_set_ui(z.get(), 0);
  return z;
}

// Value, gradient (order >= 1) and Hessian (order 2, row-major n×n) of one instruction over a box,
// by forward mode. Abs/min/max carry Clarke enclosures at order 1 where the piece is not decided.
struct Jet {
  Interval v;
  std::vector<Interval> g;
  std::vector<Interval> h;
  explicit Jet(long prec) : v(prec) {}
};

class Evaluator {
 public:
  // Derivatives are taken with respect to the variables marked in `free` (the box's
  // non-degenerate ones): a fixed variable contributes nothing to any form below, and leaving
  // it out keeps an unbounded derivative in it (sqrt at 0) from failing the leaf.
  Evaluator(const ProofGoal& goal, long prec, int order, std::vector<bool> free = {})
      : goal_(goal), n_(goal.program.variables().size()), prec_(prec), order_(order), free_(std::move(free)) {
    free_.resize(n_, true);
  }

  // The jet of f over the box [lower, upper] (per variable).
  Jet f(const std::vector<double>& lower, const std::vector<double>& upper) const {
    std::vector<Jet> jets;
    jets.reserve(goal_.program.size());
    const auto& code = goal_.program.code();
    for (std::size_t k = 0; k < code.size(); ++k) jets.push_back(instruction(code[k], jets, lower, upper));
    Jet slack = constant_jet(goal_.slack);
    const bool upper_side = goal_.relation == Relation::LessEqual || goal_.relation == Relation::Less;
    // f := lhs − rhs − slack (<=, <) or rhs − lhs − slack (>=, >); f <= 0 (< 0) is the goal.
    const Jet& a = jets[upper_side ? goal_.lhs : goal_.rhs];
    const Jet& b = jets[upper_side ? goal_.rhs : goal_.lhs];
    return linear(linear(a, b, -1), slack, -1);
  }

  std::size_t dimension() const { return n_; }
  long prec() const { return prec_; }

 private:
  bool grad() const { return order_ >= 1; }
  static bool constant(const Jet& a) {
    return std::all_of(a.g.begin(), a.g.end(), [](const Interval& x) { return x.is_zero(); }) &&
           std::all_of(a.h.begin(), a.h.end(), [](const Interval& x) { return x.is_zero(); });
  }
  bool hess() const { return order_ >= 2; }

  Jet blank() const {
    Jet j(prec_);
    if (grad()) j.g.assign(n_, zero(prec_));
    if (hess()) j.h.assign(n_ * n_, zero(prec_));
    return j;
  }

  Jet constant_jet(const std::string& decimal) const {
    Jet j = blank();
    // Outward rounded: "0.51" is enclosed, a dyadic decimal is exact at enough bits.
    if (mpfi_set_str(j.v.get(), decimal.c_str(), 10) != 0) {
      throw LeafFailure{fmt::format("constant '{}' is not a decimal number", decimal.substr(0, 40))};
    }
    return j;
  }

  // a + sign·b
  Jet linear(const Jet& a, const Jet& b, int sign) const {
    Jet r = blank();
    auto op = [&](mpfi_ptr out, mpfi_srcptr x, mpfi_srcptr y) {
      sign > 0 ? mpfi_add(out, x, y) : mpfi_sub(out, x, y);
    };
    op(r.v.get(), a.v.get(), b.v.get());
    for (std::size_t i = 0; i < r.g.size(); ++i) op(r.g[i].get(), a.g[i].get(), b.g[i].get());
    for (std::size_t i = 0; i < r.h.size(); ++i) op(r.h[i].get(), a.h[i].get(), b.h[i].get());
    return r;
  }

  Jet multiply(const Jet& a, const Jet& b) const {
    Jet r = blank();
    Interval t(prec_), u(prec_);
    mpfi_mul(r.v.get(), a.v.get(), b.v.get());
    for (std::size_t i = 0; i < r.g.size(); ++i) {  // a·gb + b·ga
      mpfi_mul(t.get(), a.v.get(), b.g[i].get());
      mpfi_mul(u.get(), b.v.get(), a.g[i].get());
      mpfi_add(r.g[i].get(), t.get(), u.get());
    }
    if (hess()) {  // a·Hb + b·Ha + ga gbᵀ + gb gaᵀ
      for (std::size_t i = 0; i < n_; ++i) {
        for (std::size_t k = 0; k < n_; ++k) {
          Interval& out = r.h[i * n_ + k];
          mpfi_mul(t.get(), a.v.get(), b.h[i * n_ + k].get());
          mpfi_mul(u.get(), b.v.get(), a.h[i * n_ + k].get());
          mpfi_add(out.get(), t.get(), u.get());
          mpfi_mul(t.get(), a.g[i].get(), b.g[k].get());
          mpfi_add(out.get(), out.get(), t.get());
          mpfi_mul(t.get(), b.g[i].get(), a.g[k].get());
          mpfi_add(out.get(), out.get(), t.get());
        }
      }
    }
    return r;
  }

  // φ(a) with φ's value, φ'(a), φ''(a) enclosed over a's range: g = φ'·ga,
  // H = φ'·Ha + φ''·ga gaᵀ.
  Jet chain(const Jet& a, const Interval& value, const Interval& d1, const Interval& d2) const {
    Jet r = blank();
    mpfi_set(r.v.get(), value.get());
    if (constant(a)) return r;  // no dependence on a free variable: derivatives 0
    if (grad() && !d1.finite()) throw LeafFailure{"a derivative is unbounded on the box"};
    if (hess() && !d2.finite()) throw LeafFailure{"a second derivative is unbounded on the box"};
    Interval t(prec_);
    for (std::size_t i = 0; i < r.g.size(); ++i) mpfi_mul(r.g[i].get(), d1.get(), a.g[i].get());
    if (hess()) {
      for (std::size_t i = 0; i < n_; ++i) {
        for (std::size_t k = 0; k < n_; ++k) {
          Interval& out = r.h[i * n_ + k];
          mpfi_mul(out.get(), d1.get(), a.h[i * n_ + k].get());
          mpfi_mul(t.get(), a.g[i].get(), a.g[k].get());
          mpfi_mul(t.get(), t.get(), d2.get());
          mpfi_add(out.get(), out.get(), t.get());
        }
      }
    }
    return r;
  }

  // x^e for an integer e, tight for even powers of intervals containing 0 (x·x would give
  // [−1, 1] on [−1, 1]); directed-rounded endpoint powers.
  Interval power_value(const Interval& x, long e) const {
    Interval r(prec_);
    if (e == 0) {
      mpfi_set_ui(r.get(), 1);
      return r;
    }
    if (e < 0) {
      if (!x.certainly_positive() && !x.certainly_negative()) {
        throw LeafFailure{fmt::format("x^{} with x in {}, which contains 0", e, x.text())};
      }
      Interval p = power_value(x, -e);
      mpfi_ui_div(r.get(), 1, p.get());
      return r;
    }
    mpfr_t lo, hi;
    mpfr_init2(lo, prec_);
    mpfr_init2(hi, prec_);
    if (e % 2 == 1 || mpfr_sgn(x.lo()) >= 0) {  // increasing in x
      mpfr_pow_si(lo, x.lo(), e, MPFR_RNDD);
      mpfr_pow_si(hi, x.hi(), e, MPFR_RNDU);
    } else if (mpfr_sgn(x.hi()) <= 0) {  // even power of a non-positive range: decreasing
      mpfr_pow_si(lo, x.hi(), e, MPFR_RNDD);
      mpfr_pow_si(hi, x.lo(), e, MPFR_RNDU);
    } else {  // even power across 0: [0, max(|lo|, |hi|)^e]
      mpfr_set_ui(lo, 0, MPFR_RNDD);
      mpfr_t m;
      mpfr_init2(m, prec_);
      mpfr_neg(m, x.lo(), MPFR_RNDU);
      if (mpfr_cmp(m, x.hi()) < 0) mpfr_set(m, x.hi(), MPFR_RNDU);
      mpfr_pow_si(hi, m, e, MPFR_RNDU);
      mpfr_clear(m);
    }
    mpfi_interv_fr(r.get(), lo, hi);
    mpfr_clear(lo);
    mpfr_clear(hi);
    return r;
  }

  Interval scaled_power(const Interval& x, long coefficient, long e) const {
    Interval r = power_value(x, e);
    mpfi_mul_si(r.get(), r.get(), coefficient);
    return r;
  }

  Jet instruction(const ElementaryInstruction& ins, const std::vector<Jet>& jets, const std::vector<double>& lower,
                  const std::vector<double>& upper) const {
    const auto operand = [&](std::uint32_t i) -> const Jet& {
      // from_json checks operands, an in-memory certificate may not have gone through it.
      if (i >= jets.size()) throw LeafFailure{fmt::format("operand {} is not an earlier instruction", i)};
      return jets[i];
    };
    // The instruction's text, rendered only for a failure message.
    const auto name = [&] { return goal_.program.render(static_cast<std::uint32_t>(jets.size())); };
    switch (ins.op) {
      case ElementaryOp::Variable: {
        if (ins.variable >= n_) throw LeafFailure{fmt::format("variable {} out of range", ins.variable)};
        Jet j = blank();
        mpfi_interv_d(j.v.get(), lower[ins.variable], upper[ins.variable]);  // exact: prec >= 53
        if (grad() && free_[ins.variable]) mpfi_set_ui(j.g[ins.variable].get(), 1);
        return j;
      }
      case ElementaryOp::Constant:
        return constant_jet(ins.constant);
      case ElementaryOp::Pi: {
        Jet j = blank();
        mpfi_const_pi(j.v.get());
        return j;
      }
      case ElementaryOp::Negate: {
        const Jet z = blank();
        return linear(z, operand(ins.a), -1);
      }
      case ElementaryOp::Add:
        return linear(operand(ins.a), operand(ins.b), +1);
      case ElementaryOp::Subtract:
        return linear(operand(ins.a), operand(ins.b), -1);
      case ElementaryOp::Multiply:
        return multiply(operand(ins.a), operand(ins.b));
      case ElementaryOp::Divide: {
        const Jet& b = operand(ins.b);
        if (!b.v.certainly_positive() && !b.v.certainly_negative()) {
          throw LeafFailure{fmt::format("{} divides by {}, which contains 0", name(), b.v.text())};
        }
        // a / b = a · (1/b): (1/b)' = −1/b², (1/b)'' = 2/b³ — the Hessian's rule.
        const Jet& a = operand(ins.a);
        const Jet reciprocal = chain(b, power_value(b.v, -1), scaled_power(b.v, -1, -2), scaled_power(b.v, 2, -3));
        Jet r = multiply(a, reciprocal);
        // The value and gradient by the quotient rule as well, d(a/b) = (da − (a/b)·db)/b (at each
        // point a/b lies in the quotient's enclosure): with one occurrence of b fewer it is
        // usually tighter; both enclose the truth, so their intersection does.
        Interval q(prec_), t(prec_);
        mpfi_div(q.get(), a.v.get(), b.v.get());
        for (std::size_t i = 0; i < r.g.size(); ++i) {
          mpfi_mul(t.get(), q.get(), b.g[i].get());
          mpfi_sub(t.get(), a.g[i].get(), t.get());
          mpfi_div(t.get(), t.get(), b.v.get());
          mpfi_intersect(r.g[i].get(), r.g[i].get(), t.get());
        }
        mpfi_intersect(r.v.get(), r.v.get(), q.get());
        for (const Interval& x : r.g) {
          if (mpfi_is_empty(x.get())) throw LeafFailure{fmt::format("{}: empty gradient intersection (a checker bug)", name())};
        }
        if (mpfi_is_empty(r.v.get())) throw LeafFailure{fmt::format("{}: empty value intersection (a checker bug)", name())};
        return r;
      }
      case ElementaryOp::Power: {
        const Jet& a = operand(ins.a);
        const long e = ins.exponent;
        if (e == 0) return constant_jet("1");
        const Interval d1 = e == 1 ? constant_jet("1").v : scaled_power(a.v, e, e - 1);
        const Interval d2 = (e == 1 || (e == 2 && !hess())) ? zero(prec_) : scaled_power(a.v, e * (e - 1), e - 2);
        return chain(a, power_value(a.v, e), d1, d2);
      }
      case ElementaryOp::Exp: {
        const Jet& a = operand(ins.a);
        Interval e(prec_);
        mpfi_exp(e.get(), a.v.get());
        if (!e.finite()) throw LeafFailure{fmt::format("{} overflows", name())};
        return chain(a, e, e, e);
      }
      case ElementaryOp::Log: {
        const Jet& a = operand(ins.a);
        if (!a.v.certainly_positive()) {
          throw LeafFailure{fmt::format("{} is undefined: its argument lies in {}, which is not > 0", name(), a.v.text())};
        }
        Interval l(prec_), d1(prec_), d2(prec_);
        mpfi_log(l.get(), a.v.get());
        mpfi_inv(d1.get(), a.v.get());
        mpfi_sqr(d2.get(), d1.get());
        mpfi_neg(d2.get(), d2.get());
        return chain(a, l, d1, d2);
      }
      case ElementaryOp::Sqrt: {
        const Jet& a = operand(ins.a);
        if (!a.v.certainly_nonnegative()) {
          throw LeafFailure{fmt::format("{} is undefined: its argument lies in {}, which has a negative part", name(),
                                        a.v.text())};
        }
        Interval s(prec_), d1(prec_), d2(prec_);
        mpfi_sqrt(s.get(), a.v.get());
        if (grad() && !constant(a)) {
          if (!a.v.certainly_positive()) throw LeafFailure{fmt::format("{} has an unbounded derivative at 0", name())};
          mpfi_mul_ui(d1.get(), s.get(), 2);
          mpfi_inv(d1.get(), d1.get());  // 1/(2√a)
          mpfi_div(d2.get(), d1.get(), a.v.get());
          mpfi_div_si(d2.get(), d2.get(), -2);  // −1/(4 a^{3/2})
        }
        return chain(a, s, d1, d2);
      }
      case ElementaryOp::Abs: {
        const Jet& a = operand(ins.a);
        Interval v(prec_), d1(prec_);
        mpfi_abs(v.get(), a.v.get());
        if (a.v.certainly_nonnegative()) {
          mpfi_set_si(d1.get(), 1);
        } else if (a.v.certainly_nonpositive()) {
          mpfi_set_si(d1.get(), -1);
        } else {
          if (hess()) throw LeafFailure{fmt::format("{} is not twice differentiable on the box", name())};
          mpfi_interv_si(d1.get(), -1, 1);  // Clarke: the hull of the one-sided derivatives
        }
        return chain(a, v, d1, zero(prec_));
      }
      case ElementaryOp::Min:
      case ElementaryOp::Max: {
        const bool is_max = ins.op == ElementaryOp::Max;
        const Jet& a = operand(ins.a);
        const Jet& b = operand(ins.b);
        // The piece that is certainly the larger (max) / smaller (min) on the whole box is the
        // function there; otherwise the Clarke gradient lies in the hull of both gradients.
        const bool a_above = a.v.finite() && b.v.finite() && mpfr_cmp(a.v.lo(), b.v.hi()) >= 0;
        const bool b_above = a.v.finite() && b.v.finite() && mpfr_cmp(b.v.lo(), a.v.hi()) >= 0;
        if (a_above) return is_max ? a : b;
        if (b_above) return is_max ? b : a;
        if (hess()) throw LeafFailure{fmt::format("{} is not twice differentiable on the box", name())};
        Jet r = blank();
        mpfr_t lo, hi;
        mpfr_init2(lo, prec_);
        mpfr_init2(hi, prec_);
        if (is_max) {
          mpfr_max(lo, a.v.lo(), b.v.lo(), MPFR_RNDD);
          mpfr_max(hi, a.v.hi(), b.v.hi(), MPFR_RNDU);
        } else {
          mpfr_min(lo, a.v.lo(), b.v.lo(), MPFR_RNDD);
          mpfr_min(hi, a.v.hi(), b.v.hi(), MPFR_RNDU);
        }
        mpfi_interv_fr(r.v.get(), lo, hi);
        mpfr_clear(lo);
        mpfr_clear(hi);
        for (std::size_t i = 0; i < r.g.size(); ++i) mpfi_union(r.g[i].get(), a.g[i].get(), b.g[i].get());
        return r;
      }
    }
    throw LeafFailure{"unknown instruction"};
  }

  const ProofGoal& goal_;
  std::size_t n_;
  long prec_;
  int order_;
  std::vector<bool> free_;
};

std::string relation_goal(const ProofGoal& goal) {
  const bool strict = goal.relation == Relation::Less || goal.relation == Relation::Greater;
  return strict ? "f < 0" : "f <= 0";
}

// sup(x) <= 0, or < 0 for a strict relation.
bool shows_goal(const Interval& x, bool strict) {
  return x.finite() && (strict ? mpfr_sgn(x.hi()) < 0 : mpfr_sgn(x.hi()) <= 0);
}

// Σ_i G_i · ([lower_i, upper_i] − c_i): the first-order term of the mean-value form.
Interval first_order_term(const std::vector<Interval>& gradient, const std::vector<double>& lower,
                          const std::vector<double>& upper, const std::vector<double>& center, long prec) {
  Interval sum = zero(prec), d(prec), c(prec);
  for (std::size_t i = 0; i < gradient.size(); ++i) {
    // A fixed variable (the center is its value) adds nothing, even where its partial
    // derivative is unbounded.
    if (lower[i] == upper[i]) continue;
    mpfi_interv_d(d.get(), lower[i], upper[i]);
    mpfi_set_d(c.get(), center[i]);
    mpfi_sub(d.get(), d.get(), c.get());  // exact enough: outward rounded
    mpfi_mul(d.get(), d.get(), gradient[i].get());
    mpfi_add(sum.get(), sum.get(), d.get());
  }
  return sum;
}

// Every symmetric matrix with entries in H's intervals (restricted to the box's non-degenerate
// variables) is negative semidefinite: for one variable H ≤ 0; for two, Sylvester's criterion on
// −H (H11 ≤ 0, H22 ≤ 0, det ≥ 0); beyond, Gershgorin's discs (H_ii + Σ_j≠i |H_ij| ≤ 0 per row).
bool negative_semidefinite(const std::vector<Interval>& h, std::size_t n, const std::vector<std::size_t>& free,
                           long prec) {
  const auto at = [&](std::size_t i, std::size_t k) -> const Interval& { return h[free[i] * n + free[k]]; };
  const std::size_t m = free.size();
  for (std::size_t i = 0; i < m; ++i) {
    if (!at(i, i).certainly_nonpositive()) return false;
  }
  if (m <= 1) return true;
  if (m == 2) {
    Interval det(prec), t(prec), off(prec);
    mpfi_mul(det.get(), at(0, 0).get(), at(1, 1).get());
    mpfi_union(off.get(), at(0, 1).get(), at(1, 0).get());  // symmetric in truth: one interval for both
    mpfi_sqr(t.get(), off.get());
    mpfi_sub(det.get(), det.get(), t.get());
    if (det.certainly_nonnegative()) return true;
  }
  for (std::size_t i = 0; i < m; ++i) {
    Interval row(prec), a(prec);
    mpfi_set(row.get(), at(i, i).get());
    for (std::size_t k = 0; k < m; ++k) {
      if (k == i) continue;
      mpfi_union(a.get(), at(i, k).get(), at(k, i).get());
      mpfi_abs(a.get(), a.get());
      mpfi_add(row.get(), row.get(), a.get());
    }
    if (!row.certainly_nonpositive()) return false;
  }
  return true;
}

class TreeChecker {
 public:
  explicit TreeChecker(const ProofGoal& goal) : goal_(goal), strict_(goal.relation == Relation::Less || goal.relation == Relation::Greater) {}

  long leaves = 0;
  std::string failure;  // empty while valid

  void check(const ProofNode& node, std::vector<double>& lower, std::vector<double>& upper, const std::string& path) {
    if (!failure.empty()) return;
    const std::size_t n = goal_.program.variables().size();
    if (node.is_split) {
      if (node.variable >= n) return fail_at(path, fmt::format("split variable {} out of range", node.variable));
      if (!node.below || !node.above) return fail_at(path, "a split without both children: the tree is not a cover");
      const std::size_t v = node.variable;
      // Strictly inside: the children [lower, at] and [at, upper] then cover the parent exactly.
      if (!(lower[v] < node.at && node.at < upper[v])) {
        return fail_at(path, fmt::format("split point {} = {} is not strictly inside [{}, {}]", var_name(v), node.at,
                                         lower[v], upper[v]));
      }
      const double saved_upper = upper[v];
      upper[v] = node.at;
      check(*node.below, lower, upper, path + ".split.below");
      upper[v] = saved_upper;
      const double saved_lower = lower[v];
      lower[v] = node.at;
      check(*node.above, lower, upper, path + ".split.above");
      lower[v] = saved_lower;
      return;
    }
    try {
      check_leaf(node, lower, upper, path);
    } catch (const LeafFailure& e) {
      fail_leaf(node, lower, upper, path, e.message);
    }
  }

 private:
  std::string var_name(std::size_t i) const { return goal_.program.variables()[i]; }

  void fail_at(const std::string& path, const std::string& why) {
    if (failure.empty()) failure = fmt::format("goal '{}': node at {}: {}", goal_.name, path, why);
  }

  std::string box_text(const std::vector<double>& lower, const std::vector<double>& upper) const {
    std::string out;
    for (std::size_t i = 0; i < lower.size(); ++i) {
      if (i) out += ", ";
      out += lower[i] == upper[i] ? fmt::format("{} = {}", var_name(i), lower[i])
                                  : fmt::format("{} in [{}, {}]", var_name(i), lower[i], upper[i]);
    }
    return out;
  }

  void fail_leaf(const ProofNode& node, const std::vector<double>& lower, const std::vector<double>& upper,
                 const std::string& path, const std::string& why) {
    if (!failure.empty()) return;
    failure = fmt::format("goal '{}': leaf at {} ({}, {} bits) on box {}: {}", goal_.name, path, to_string(node.method),
                          node.precision, box_text(lower, upper), why);
  }

  long working_precision(const ProofNode& node) const { return std::max(53L, node.precision) + kGuardBits; }

  void require_center(const ProofNode& node, const std::vector<double>& lower, const std::vector<double>& upper) const {
    if (node.center.size() != lower.size()) {
      throw LeafFailure{fmt::format("center has {} coordinates for {} variables", node.center.size(), lower.size())};
    }
    for (std::size_t i = 0; i < lower.size(); ++i) {
      if (!(lower[i] <= node.center[i] && node.center[i] <= upper[i])) {
        throw LeafFailure{fmt::format("center {} = {} is outside [{}, {}]", var_name(i), node.center[i], lower[i], upper[i])};
      }
    }
  }

  std::string not_shown(const Interval& f) const {
    return fmt::format("{} not shown (f in {})", relation_goal(goal_), f.text());
  }

  void check_leaf(const ProofNode& node, std::vector<double>& lower, std::vector<double>& upper,
                  const std::string& path) {
    const long prec = working_precision(node);
    std::vector<bool> free(lower.size());
    for (std::size_t i = 0; i < lower.size(); ++i) free[i] = lower[i] < upper[i];
    switch (node.method) {
      case LeafMethod::Naive: {
        ++leaves;
        const Jet f = Evaluator(goal_, prec, 0).f(lower, upper);
        if (!shows_goal(f.v, strict_)) throw LeafFailure{not_shown(f.v)};
        return;
      }
      case LeafMethod::MeanValue: {
        ++leaves;
        require_center(node, lower, upper);
        const Jet at_center = Evaluator(goal_, prec, 0).f(node.center, node.center);
        const Jet over_box = Evaluator(goal_, prec, 1, free).f(lower, upper);
        for (std::size_t i = 0; i < over_box.g.size(); ++i) {
          if (lower[i] < upper[i] && !over_box.g[i].finite()) {
            throw LeafFailure{fmt::format("the enclosure of df/d{} is unbounded", var_name(i))};
          }
        }
        Interval form = first_order_term(over_box.g, lower, upper, node.center, prec);
        mpfi_add(form.get(), form.get(), at_center.v.get());
        if (!shows_goal(form, strict_)) throw LeafFailure{not_shown(form) + " by the mean-value form"};
        return;
      }
      case LeafMethod::Monotone: {
        const std::size_t v = node.variable;
        if (v >= lower.size()) throw LeafFailure{fmt::format("monotone variable {} out of range", v)};
        if (!node.face) throw LeafFailure{"a monotone leaf without its face subtree"};
        const Jet over_box = Evaluator(goal_, prec, 1, free).f(lower, upper);
        const Interval& d = over_box.g[v];
        const bool sign_shown = node.increasing ? d.certainly_nonnegative() : d.certainly_nonpositive();
        if (!sign_shown) {
          throw LeafFailure{fmt::format("df/d{} {} 0 not shown (df/d{} in {})", var_name(v), node.increasing ? ">=" : "<=",
                                        var_name(v), d.text())};
        }
        // f is largest on the face where x_v is at the end the sign points to.
        const double saved_lower = lower[v], saved_upper = upper[v];
        if (node.increasing) lower[v] = upper[v]; else upper[v] = lower[v];
        check(*node.face, lower, upper, path + ".monotone.face");
        lower[v] = saved_lower;
        upper[v] = saved_upper;
        return;
      }
      case LeafMethod::SecondOrder: {
        ++leaves;
        require_center(node, lower, upper);
        // f(x) = f(c) + ∇f(c)·(x − c) + ½ (x − c)ᵀ ∇²f(ξ) (x − c) for ξ in the (convex) box: with the
        // Hessian certainly negative semidefinite, f <= f(c) + ∇f(c)·(x − c) <= 0 when shown.
        const Jet at_center = Evaluator(goal_, prec, 1, free).f(node.center, node.center);
        const Jet over_box = Evaluator(goal_, prec, 2, free).f(lower, upper);
        std::vector<std::size_t> free_indices;
        for (std::size_t i = 0; i < lower.size(); ++i) {
          if (free[i]) free_indices.push_back(i);
        }
        if (!negative_semidefinite(over_box.h, lower.size(), free_indices, prec)) {
          throw LeafFailure{"the Hessian of f over the box is not shown negative semidefinite"};
        }
        Interval form = first_order_term(at_center.g, lower, upper, node.center, prec);
        mpfi_add(form.get(), form.get(), at_center.v.get());
        if (!shows_goal(form, strict_)) {
          throw LeafFailure{fmt::format("{} not shown by the second-order form (f(c) in {}, f(c) + ∇f(c)·(x − c) in {})",
                                        relation_goal(goal_), at_center.v.text(), form.text())};
        }
        return;
      }
    }
  }

  const ProofGoal& goal_;
  bool strict_;
};

// Structural checks on an in-memory certificate (from_json already makes them for files).
std::string goal_shape_problem(const ProofGoal& goal) {
  const std::size_t n = goal.program.variables().size();
  if (goal.lhs >= goal.program.size() || goal.rhs >= goal.program.size()) return "lhs or rhs is not an instruction";
  if (goal.relation == Relation::Equal) return "relation == is not a goal the checker proves";
  if (goal.box.lower.size() != n || goal.box.upper.size() != n) {
    return fmt::format("box has {} ranges for {} variables", goal.box.lower.size(), n);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(goal.box.lower[i]) || !std::isfinite(goal.box.upper[i]) || goal.box.lower[i] > goal.box.upper[i]) {
      return fmt::format("box range {} is not a finite, non-empty interval", i);
    }
  }
  if (goal.slack.empty() || goal.slack[0] == '-') return fmt::format("slack '{}' is not a decimal >= 0", goal.slack);
  return "";
}

}  // namespace

ProofCheckReport check_proof_certificate(const ProofCertificate& certificate) {
  ProofCheckReport report;
  if (certificate.goals.empty()) {
    report.failure = "the certificate has no goals";
    return report;
  }
  for (const ProvedGoal& proved : certificate.goals) {
    ++report.goals;
    if (const std::string problem = goal_shape_problem(proved.goal); !problem.empty()) {
      report.failure = fmt::format("goal '{}': {}", proved.goal.name, problem);
      return report;
    }
    TreeChecker checker(proved.goal);
    std::vector<double> lower = proved.goal.box.lower, upper = proved.goal.box.upper;
    checker.check(proved.tree, lower, upper, "tree");
    report.leaves_checked += checker.leaves;
    if (!checker.failure.empty()) {
      report.failure = checker.failure;
      return report;
    }
  }
  report.valid = true;
  return report;
}

}  // namespace attncert
