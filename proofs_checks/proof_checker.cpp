// The independent checker: MPFI intervals only (no Arb, no numerics/ball.hpp), so that a bug in
// the prover's interval code cannot vouch for itself.
#include "proofs_checks/proof_checker.hpp"

#include <fmt/format.h>
#include <mpfi.h>
#include <mpfr.h>

#include <algorithm>
#include <map>
#include <memory>
#include <cmath>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "proofs_checks/byte_codec.hpp"
#include "proofs_checks/distributed_map.hpp"

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

// Evaluates f := lhs − rhs − slack (or rhs − lhs − slack) and its derivatives over boxes, in a
// workspace allocated once per goal, precision and order: a certificate has up to millions of
// leaves, and allocating every interval anew per leaf tripled the time to check one.
class Evaluator {
 public:
  Evaluator(const ProofGoal& goal, long prec, int order)
      : goal_(goal), n_(goal.program.variables().size()), prec_(prec), order_(order), f_(make_jet()),
        reciprocal_(make_jet()), slack_(prec), t_(prec), u_(prec), q_(prec), d1_(prec), d2_(prec), w_(prec) {
    mpfr_inits2(prec_, lo_, hi_, m_, static_cast<mpfr_ptr>(nullptr));
    const auto& code = goal_.program.code();
    jets_.reserve(code.size());
    for (std::size_t k = 0; k < code.size(); ++k) jets_.push_back(make_jet());
    // Constants parsed once, outward rounded: "0.51" is enclosed, a dyadic decimal is exact.
    for (std::size_t k = 0; k < code.size(); ++k) {
      if (code[k].op != ElementaryOp::Constant) continue;
      constants_.emplace_back(prec_);
      parse_constant(constants_.back(), code[k].constant);
    }
    parse_constant(slack_, goal_.slack);
  }
  ~Evaluator() { mpfr_clears(lo_, hi_, m_, static_cast<mpfr_ptr>(nullptr)); }
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  /// The jet of f over the box [lower, upper], derivatives with respect to the variables marked
  /// in `free` (the box's non-degenerate ones): a fixed variable contributes nothing to any form
  /// the checker uses, and leaving it out keeps an unbounded derivative in it (sqrt at 0) from
  /// failing the leaf. Valid until the next call.
  const Jet& f(const std::vector<double>& lower, const std::vector<double>& upper, const std::vector<bool>& free) {
    const auto& code = goal_.program.code();
    std::size_t next_constant = 0;
    for (std::size_t k = 0; k < code.size(); ++k) instruction(k, code[k], lower, upper, free, next_constant);
    const bool upper_side = goal_.relation == Relation::LessEqual || goal_.relation == Relation::Less;
    // f := lhs − rhs − slack (<=, <) or rhs − lhs − slack (>=, >); f <= 0 (< 0) is the goal.
    linear(f_, jets_[upper_side ? goal_.lhs : goal_.rhs], jets_[upper_side ? goal_.rhs : goal_.lhs], -1);
    mpfi_sub(f_.v.get(), f_.v.get(), slack_.get());
    return f_;
  }

 private:
  bool grad() const { return order_ >= 1; }
  bool hess() const { return order_ >= 2; }

  Jet make_jet() const {
    Jet j(prec_);
    if (grad()) j.g.assign(n_, Interval(prec_));
    if (hess()) j.h.assign(n_ * n_, Interval(prec_));
    return j;
  }

  static void parse_constant(Interval& out, const std::string& decimal) {
    if (mpfi_set_str(out.get(), decimal.c_str(), 10) != 0) {
      throw LeafFailure{fmt::format("constant '{}' is not a decimal number", decimal.substr(0, 40))};
    }
  }

  static bool constant(const Jet& a) {
    return std::all_of(a.g.begin(), a.g.end(), [](const Interval& x) { return x.is_zero(); }) &&
           std::all_of(a.h.begin(), a.h.end(), [](const Interval& x) { return x.is_zero(); });
  }

  static void zero_derivatives(Jet& r) {
    for (Interval& x : r.g) mpfi_set_ui(x.get(), 0);
    for (Interval& x : r.h) mpfi_set_ui(x.get(), 0);
  }

  static void copy(Jet& r, const Jet& a) {
    mpfi_set(r.v.get(), a.v.get());
    for (std::size_t i = 0; i < r.g.size(); ++i) mpfi_set(r.g[i].get(), a.g[i].get());
    for (std::size_t i = 0; i < r.h.size(); ++i) mpfi_set(r.h[i].get(), a.h[i].get());
  }

  // r = a + sign·b (r may be a).
  static void linear(Jet& r, const Jet& a, const Jet& b, int sign) {
    const auto op = [&](mpfi_ptr out, mpfi_srcptr x, mpfi_srcptr y) {
      sign > 0 ? mpfi_add(out, x, y) : mpfi_sub(out, x, y);
    };
    op(r.v.get(), a.v.get(), b.v.get());
    for (std::size_t i = 0; i < r.g.size(); ++i) op(r.g[i].get(), a.g[i].get(), b.g[i].get());
    for (std::size_t i = 0; i < r.h.size(); ++i) op(r.h[i].get(), a.h[i].get(), b.h[i].get());
  }

  // r = a·b (r distinct from a and b).
  void multiply(Jet& r, const Jet& a, const Jet& b) {
    mpfi_mul(r.v.get(), a.v.get(), b.v.get());
    for (std::size_t i = 0; i < r.g.size(); ++i) {  // a·gb + b·ga
      mpfi_mul(t_.get(), a.v.get(), b.g[i].get());
      mpfi_mul(u_.get(), b.v.get(), a.g[i].get());
      mpfi_add(r.g[i].get(), t_.get(), u_.get());
    }
    if (!hess()) return;
    for (std::size_t i = 0; i < n_; ++i) {  // a·Hb + b·Ha + ga gbᵀ + gb gaᵀ
      for (std::size_t k = 0; k < n_; ++k) {
        mpfi_ptr out = r.h[i * n_ + k].get();
        mpfi_mul(t_.get(), a.v.get(), b.h[i * n_ + k].get());
        mpfi_mul(u_.get(), b.v.get(), a.h[i * n_ + k].get());
        mpfi_add(out, t_.get(), u_.get());
        mpfi_mul(t_.get(), a.g[i].get(), b.g[k].get());
        mpfi_add(out, out, t_.get());
        mpfi_mul(t_.get(), b.g[i].get(), a.g[k].get());
        mpfi_add(out, out, t_.get());
      }
    }
  }

  // r = φ(a) given φ(a) in r.v already and φ', φ'' enclosed over a's range in d1_, d2_:
  // g = φ'·ga, H = φ'·Ha + φ''·ga gaᵀ. Call need_derivatives() first to fill d1_, d2_ only then.
  void chain(Jet& r, const Jet& a) {
    if (!grad()) return;
    if (constant(a)) return zero_derivatives(r);  // no dependence on a free variable
    if (!d1_.finite()) throw LeafFailure{"a derivative is unbounded on the box"};
    if (hess() && !d2_.finite()) throw LeafFailure{"a second derivative is unbounded on the box"};
    for (std::size_t i = 0; i < r.g.size(); ++i) mpfi_mul(r.g[i].get(), d1_.get(), a.g[i].get());
    if (!hess()) return;
    for (std::size_t i = 0; i < n_; ++i) {
      for (std::size_t k = 0; k < n_; ++k) {
        mpfi_ptr out = r.h[i * n_ + k].get();
        mpfi_mul(out, d1_.get(), a.h[i * n_ + k].get());
        mpfi_mul(t_.get(), a.g[i].get(), a.g[k].get());
        mpfi_mul(t_.get(), t_.get(), d2_.get());
        mpfi_add(out, out, t_.get());
      }
    }
  }
  bool need_derivatives(const Jet& a) const { return grad() && !constant(a); }

  // out = coefficient · x^e for an integer e, tight for even powers of intervals containing 0
  // (x·x would give [−1, 1] on [−1, 1]); directed-rounded endpoint powers. out may not be x.
  void power_value(Interval& out, const Interval& x, long e, long coefficient = 1) {
    if (coefficient == 0 || e == 0) {
      mpfi_set_si(out.get(), coefficient);
      return;
    }
    if (e < 0) {
      if (!x.certainly_positive() && !x.certainly_negative()) {
        throw LeafFailure{fmt::format("x^{} with x in {}, which contains 0", e, x.text())};
      }
      power_value(out, x, -e);
      mpfi_si_div(out.get(), coefficient, out.get());
      return;
    }
    if (e % 2 == 1 || mpfr_sgn(x.lo()) >= 0) {  // increasing in x
      mpfr_pow_si(lo_, x.lo(), e, MPFR_RNDD);
      mpfr_pow_si(hi_, x.hi(), e, MPFR_RNDU);
    } else if (mpfr_sgn(x.hi()) <= 0) {  // even power of a non-positive range: decreasing
      mpfr_pow_si(lo_, x.hi(), e, MPFR_RNDD);
      mpfr_pow_si(hi_, x.lo(), e, MPFR_RNDU);
    } else {  // even power across 0: [0, max(|lo|, |hi|)^e]
      mpfr_set_ui(lo_, 0, MPFR_RNDD);
      mpfr_neg(m_, x.lo(), MPFR_RNDU);
      if (mpfr_cmp(m_, x.hi()) < 0) mpfr_set(m_, x.hi(), MPFR_RNDU);
      mpfr_pow_si(hi_, m_, e, MPFR_RNDU);
    }
    mpfi_interv_fr(out.get(), lo_, hi_);
    if (coefficient != 1) mpfi_mul_si(out.get(), out.get(), coefficient);
  }

  void instruction(std::size_t k, const ElementaryInstruction& ins, const std::vector<double>& lower,
                   const std::vector<double>& upper, const std::vector<bool>& free, std::size_t& next_constant) {
    const auto operand = [&](std::uint32_t i) -> const Jet& {
      // from_json checks operands, an in-memory certificate may not have gone through it.
      if (i >= k) throw LeafFailure{fmt::format("instruction {}: operand {} is not an earlier instruction", k, i)};
      return jets_[i];
    };
    // The instruction's text, rendered only for a failure message.
    const auto name = [&] { return goal_.program.render(static_cast<std::uint32_t>(k)); };
    Jet& r = jets_[k];
    switch (ins.op) {
      case ElementaryOp::Variable: {
        if (ins.variable >= n_) throw LeafFailure{fmt::format("variable {} out of range", ins.variable)};
        mpfi_interv_d(r.v.get(), lower[ins.variable], upper[ins.variable]);  // exact: prec >= 53
        zero_derivatives(r);
        if (grad() && free[ins.variable]) mpfi_set_ui(r.g[ins.variable].get(), 1);
        return;
      }
      case ElementaryOp::Constant:
        mpfi_set(r.v.get(), constants_[next_constant++].get());
        return zero_derivatives(r);
      case ElementaryOp::Pi:
        mpfi_const_pi(r.v.get());
        return zero_derivatives(r);
      case ElementaryOp::Negate: {
        const Jet& a = operand(ins.a);
        mpfi_neg(r.v.get(), a.v.get());
        for (std::size_t i = 0; i < r.g.size(); ++i) mpfi_neg(r.g[i].get(), a.g[i].get());
        for (std::size_t i = 0; i < r.h.size(); ++i) mpfi_neg(r.h[i].get(), a.h[i].get());
        return;
      }
      case ElementaryOp::Add:
        return linear(r, operand(ins.a), operand(ins.b), +1);
      case ElementaryOp::Subtract:
        return linear(r, operand(ins.a), operand(ins.b), -1);
      case ElementaryOp::Multiply:
        return multiply(r, operand(ins.a), operand(ins.b));
      case ElementaryOp::Divide: {
        const Jet& a = operand(ins.a);
        const Jet& b = operand(ins.b);
        if (!b.v.certainly_positive() && !b.v.certainly_negative()) {
          throw LeafFailure{fmt::format("{} divides by {}, which contains 0", name(), b.v.text())};
        }
        // a / b = a · (1/b): (1/b)' = −1/b², (1/b)'' = 2/b³ — the Hessian's rule.
        mpfi_inv(reciprocal_.v.get(), b.v.get());
        if (need_derivatives(b)) {
          power_value(d1_, b.v, -2, -1);
          if (hess()) power_value(d2_, b.v, -3, 2);
        }
        chain(reciprocal_, b);
        multiply(r, a, reciprocal_);
        // The value and gradient by the quotient rule as well, d(a/b) = (da − (a/b)·db)/b (at each
        // point a/b lies in the quotient's enclosure): with one occurrence of b fewer it is
        // usually tighter; both enclose the truth, so their intersection does.
        mpfi_div(q_.get(), a.v.get(), b.v.get());
        for (std::size_t i = 0; i < r.g.size(); ++i) {
          mpfi_mul(t_.get(), q_.get(), b.g[i].get());
          mpfi_sub(t_.get(), a.g[i].get(), t_.get());
          mpfi_div(t_.get(), t_.get(), b.v.get());
          mpfi_intersect(r.g[i].get(), r.g[i].get(), t_.get());
          if (mpfi_is_empty(r.g[i].get())) throw LeafFailure{fmt::format("{}: empty gradient intersection (a checker bug)", name())};
        }
        mpfi_intersect(r.v.get(), r.v.get(), q_.get());
        if (mpfi_is_empty(r.v.get())) throw LeafFailure{fmt::format("{}: empty value intersection (a checker bug)", name())};
        return;
      }
      case ElementaryOp::Power: {
        const Jet& a = operand(ins.a);
        const long e = ins.exponent;
        power_value(w_, a.v, e);
        if (need_derivatives(a)) {
          power_value(d1_, a.v, e - 1, e);
          if (hess()) power_value(d2_, a.v, e - 2, e * (e - 1));
        }
        mpfi_set(r.v.get(), w_.get());
        return chain(r, a);
      }
      case ElementaryOp::Exp: {
        const Jet& a = operand(ins.a);
        mpfi_exp(r.v.get(), a.v.get());
        if (!r.v.finite()) throw LeafFailure{fmt::format("{} overflows", name())};
        mpfi_set(d1_.get(), r.v.get());
        mpfi_set(d2_.get(), r.v.get());
        return chain(r, a);
      }
      case ElementaryOp::Log: {
        const Jet& a = operand(ins.a);
        if (!a.v.certainly_positive()) {
          throw LeafFailure{fmt::format("{} is undefined: its argument lies in {}, which is not > 0", name(), a.v.text())};
        }
        mpfi_log(r.v.get(), a.v.get());
        if (need_derivatives(a)) {
          mpfi_inv(d1_.get(), a.v.get());  // 1/a
          mpfi_sqr(d2_.get(), d1_.get());
          mpfi_neg(d2_.get(), d2_.get());  // −1/a²
        }
        return chain(r, a);
      }
      case ElementaryOp::Sqrt: {
        const Jet& a = operand(ins.a);
        if (!a.v.certainly_nonnegative()) {
          throw LeafFailure{fmt::format("{} is undefined: its argument lies in {}, which has a negative part", name(),
                                        a.v.text())};
        }
        mpfi_sqrt(r.v.get(), a.v.get());
        if (need_derivatives(a)) {
          if (!a.v.certainly_positive()) throw LeafFailure{fmt::format("{} has an unbounded derivative at 0", name())};
          mpfi_mul_ui(d1_.get(), r.v.get(), 2);
          mpfi_inv(d1_.get(), d1_.get());  // 1/(2√a)
          mpfi_div(d2_.get(), d1_.get(), a.v.get());
          mpfi_div_si(d2_.get(), d2_.get(), -2);  // −1/(4 a^{3/2})
        }
        return chain(r, a);
      }
      case ElementaryOp::Abs: {
        const Jet& a = operand(ins.a);
        mpfi_abs(r.v.get(), a.v.get());
        if (a.v.certainly_nonnegative()) {
          mpfi_set_si(d1_.get(), 1);
        } else if (a.v.certainly_nonpositive()) {
          mpfi_set_si(d1_.get(), -1);
        } else {
          if (hess() && !constant(a)) throw LeafFailure{fmt::format("{} is not twice differentiable on the box", name())};
          mpfi_interv_si(d1_.get(), -1, 1);  // Clarke: the hull of the one-sided derivatives
        }
        mpfi_set_ui(d2_.get(), 0);
        return chain(r, a);
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
        if (a_above) return copy(r, is_max ? a : b);
        if (b_above) return copy(r, is_max ? b : a);
        if (hess()) throw LeafFailure{fmt::format("{} is not twice differentiable on the box", name())};
        // mpfr_max/min return the other operand for a NaN one: an undefined operand must fail.
        if (mpfr_nan_p(a.v.lo()) || mpfr_nan_p(a.v.hi()) || mpfr_nan_p(b.v.lo()) || mpfr_nan_p(b.v.hi())) {
          throw LeafFailure{fmt::format("{} has an undefined operand on the box", name())};
        }
        if (is_max) {
          mpfr_max(lo_, a.v.lo(), b.v.lo(), MPFR_RNDD);
          mpfr_max(hi_, a.v.hi(), b.v.hi(), MPFR_RNDU);
        } else {
          mpfr_min(lo_, a.v.lo(), b.v.lo(), MPFR_RNDD);
          mpfr_min(hi_, a.v.hi(), b.v.hi(), MPFR_RNDU);
        }
        mpfi_interv_fr(r.v.get(), lo_, hi_);
        for (std::size_t i = 0; i < r.g.size(); ++i) mpfi_union(r.g[i].get(), a.g[i].get(), b.g[i].get());
        return;
      }
    }
    throw LeafFailure{"unknown instruction"};
  }

  const ProofGoal& goal_;
  std::size_t n_;
  long prec_;
  int order_;
  std::vector<Jet> jets_;
  std::vector<Interval> constants_;
  Jet f_, reciprocal_;
  Interval slack_, t_, u_, q_, d1_, d2_, w_;
  mpfr_t lo_, hi_, m_;
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

// The largest subtrees with at most this many leaves are checked as units of their own: units
// of similar size (a few hundredths of a second), whatever the shape of the tree.
constexpr long kUnitLeaves = 5000;

class TreeChecker {
 public:
  explicit TreeChecker(const ProofGoal& goal) : goal_(goal), strict_(goal.relation == Relation::Less || goal.relation == Relation::Greater) {}

  long leaves = 0;
  std::string failure;  // empty while valid

  // A subtree left for later (check_proof_certificate checks these as units, in order).
  struct Subtree {
    const ProofNode* node;
    std::vector<double> lower, upper;
    std::string path;
  };
  /// When set, a split node whose subtree has at most kUnitLeaves leaves (`leaves_below` counts
  /// them) is listed in `subtrees` instead of checked.
  const std::unordered_map<const ProofNode*, long>* leaves_below = nullptr;
  std::vector<Subtree> subtrees;

  void check(const ProofNode& node, std::vector<double>& lower, std::vector<double>& upper, const std::string& path) {
    if (!failure.empty()) return;
    const std::size_t n = goal_.program.variables().size();
    if (node.is_split && leaves_below && leaves_below->at(&node) <= kUnitLeaves) {
      subtrees.push_back({&node, lower, upper, path});
      return;
    }
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
        const Jet& f = evaluator(prec, 0).f(lower, upper, free);
        if (!shows_goal(f.v, strict_)) throw LeafFailure{not_shown(f.v)};
        return;
      }
      case LeafMethod::MeanValue: {
        ++leaves;
        require_center(node, lower, upper);
        const Jet& at_center = evaluator(prec, 0).f(node.center, node.center, free);
        const Jet& over_box = evaluator(prec, 1).f(lower, upper, free);
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
        const Jet& over_box = evaluator(prec, 1).f(lower, upper, free);
        const Interval& d = over_box.g[v];  // used before the face's check reuses the evaluator
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
        const Jet& at_center = evaluator(prec, 1).f(node.center, node.center, free);
        const Jet& over_box = evaluator(prec, 2).f(lower, upper, free);
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

  // One evaluator per precision and derivative order, reused by every leaf.
  Evaluator& evaluator(long prec, int order) {
    std::unique_ptr<Evaluator>& e = evaluators_[{prec, order}];
    if (!e) e = std::make_unique<Evaluator>(goal_, prec, order);
    return *e;
  }

  const ProofGoal& goal_;
  bool strict_;
  std::map<std::pair<long, int>, std::unique_ptr<Evaluator>> evaluators_;
};


// What checking one subtree found, as it travels between ranks.
struct SubtreeCheck {
  long leaves = 0;
  std::string failure;
};

std::string encode_subtree_check(const SubtreeCheck& c) {
  ByteWriter w;
  w.i64(c.leaves);
  w.text(c.failure);
  return std::move(w).bytes();
}

SubtreeCheck decode_subtree_check(std::string_view bytes) {
  ByteReader r(bytes);
  SubtreeCheck c;
  c.leaves = r.i64("subtree leaves");
  c.failure = r.text("subtree failure");
  r.finish("subtree check");
  return c;
}

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

ProofCheckReport check_proof_certificate(const ProofCertificate& certificate, int jobs) {
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
    // The tree above the units here, the units (subtrees of at most kUnitLeaves leaves) spread
    // over threads and MPI ranks (distributed_map); a failure above them is reported first,
    // then the first failing unit in depth-first order.
    const std::unordered_map<const ProofNode*, long> leaves_below = leaf_counts(proved.tree);
    TreeChecker checker(proved.goal);
    checker.leaves_below = &leaves_below;
    std::vector<double> lower = proved.goal.box.lower, upper = proved.goal.box.upper;
    checker.check(proved.tree, lower, upper, "tree");
    report.leaves_checked += checker.leaves;
    if (!checker.failure.empty()) {
      report.failure = checker.failure;
      return report;
    }
    const std::vector<SubtreeCheck> parts = distributed_map<SubtreeCheck>(
        checker.subtrees.size(), jobs,
        [&](std::size_t i) {
          const TreeChecker::Subtree& t = checker.subtrees[i];
          TreeChecker sub(proved.goal);
          std::vector<double> lo = t.lower, hi = t.upper;
          sub.check(*t.node, lo, hi, t.path);
          return SubtreeCheck{sub.leaves, sub.failure};
        },
        encode_subtree_check, decode_subtree_check, {}, UnitKeeping::Recomputed);
    for (const SubtreeCheck& part : parts) {
      report.leaves_checked += part.leaves;
      if (!part.failure.empty()) {
        report.failure = part.failure;
        return report;
      }
    }
  }
  report.valid = true;
  return report;
}

}  // namespace attncert
