// The prover (box_prover.hpp). Depth-first: each box is decided or split before its sibling is
// looked at, so memory is the tree plus one path, and a search circling an attained bound
// reaches the stall width (kStallRelativeWidth) after a few dozen boxes instead of after the
// whole budget.
//
// Not implemented: SecondOrder leaves; an attained bound goes straight to the slack ladder.
#include "proofs_checks/box_prover.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>

#include "numerics/arb_handles.hpp"
#include "proofs_checks/byte_codec.hpp"
#include "proofs_checks/distributed_map.hpp"
#include "numerics/ball.hpp"

namespace attncert {

std::string_view to_string(ProofOutcome o) noexcept {
  switch (o) {
    case ProofOutcome::Proved: return "proved";
    case ProofOutcome::ProvedWithSlack: return "proved_with_slack";
    case ProofOutcome::Candidate: return "candidate";
    case ProofOutcome::Undecided: return "undecided";
  }
  return "unknown";
}

namespace {

using arb_handles::ArbHandle;
using arb_handles::ArbVecHandle;
using arb_handles::ArfHandle;

// Relative width (to the root box) below which an undecided box is a stall: the enclosures are
// tight there, so the search is circling a point or set where f touches 0 (an attained bound)
// or where the program is undefined; more bisection would not end.
constexpr double kStallRelativeWidth = 0x1p-24;
// Escalate precision when f(center)'s rounding radius exceeds this fraction of its distance
// from 0: the mean-value bound then loses to rounding rather than to the box's width.
constexpr double kRoundingDominated = 0.125;


// ---- endpoint-tight interval operations on Arb balls ----------------------------------------
// Arb's midpoint-radius products and functions of a wide ball overestimate the exact range
// (a product of two wide balls by up to ~50%, exp/log on one side); near an attained or nearly
// attained bound that factor is paid in every dimension of the box count. These compute the
// range from the endpoints (rounded outward) whenever an operand is a wide ball, which is what
// an endpoint interval library such as MPFI computes too. Narrow balls take Arb's own path.

struct Scratch {
  ArfHandle al, ah, bl, bh, lo, hi, t;
  ArbHandle x, y;
};
Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// The ball [lo, hi] (lo <= hi, finite). Arb's radius has a 30-bit mantissa, so a ball cannot
// always be the interval exactly; arb_set_interval_arf centers it and lets it stick out on
// both sides — [0, 1] becomes [−9.3e-10, 1 + 9.3e-10], whose sqrt or log is undefined. When
// the interval does not straddle 0 the ball here is anchored at the end nearer 0 (mid = lo + r
// with r >= (hi − lo)/2 rounded up), so that end stays exact and only the far end sticks out.
void set_interval(arb_t r, const arf_t lo, const arf_t hi, long prec) {
  const bool nonneg = arf_sgn(lo) >= 0, nonpos = arf_sgn(hi) <= 0;
  if ((!nonneg && !nonpos) || !arf_is_finite(lo) || !arf_is_finite(hi)) {
    arb_set_interval_arf(r, lo, hi, prec);
    return;
  }
  arf_t half_width;
  arf_init(half_width);
  arf_sub(half_width, hi, lo, ARF_PREC_EXACT, ARF_RND_DOWN);
  arf_mul_2exp_si(half_width, half_width, -1);
  arf_get_mag(arb_radref(r), half_width);  // rounded up
  arf_set_mag(half_width, arb_radref(r));
  if (nonneg) {
    arf_add(arb_midref(r), lo, half_width, ARF_PREC_EXACT, ARF_RND_DOWN);
  } else {
    arf_sub(arb_midref(r), hi, half_width, ARF_PREC_EXACT, ARF_RND_DOWN);
  }
  arf_clear(half_width);
}

// Wide: radius above 2^-30 of the midpoint's magnitude (then Arb's propagated radius would
// itself carry the overestimate that matters).
bool wide(arb_srcptr a) {
  if (mag_is_zero(arb_radref(a))) return false;
  if (arf_is_zero(arb_midref(a))) return true;
  return mag_cmp_2exp_si(arb_radref(a), arf_abs_bound_lt_2exp_si(arb_midref(a)) - 30) > 0;
}

void endpoints(arb_srcptr a, arf_t lo, arf_t hi, long prec) {
  arb_get_lbound_arf(lo, a, prec);
  arb_get_ubound_arf(hi, a, prec);
}

// A product or quotient with an exact (point) operand is already tight in Arb: only two balls
// with radii combine into an overestimate.
void imul(arb_t r, arb_srcptr a, arb_srcptr b, long prec) {
  if (!(wide(a) || wide(b)) || arb_is_exact(a) || arb_is_exact(b) || !arb_is_finite(a) || !arb_is_finite(b)) {
    arb_mul(r, a, b, prec);
    return;
  }
  Scratch& s = scratch();
  endpoints(a, s.al, s.ah, prec);
  endpoints(b, s.bl, s.bh, prec);
  // Sign cases (P: >= 0, N: <= 0, M: both signs): which endpoint pair gives each bound.
  const int ca = arf_sgn(s.al) >= 0 ? 0 : arf_sgn(s.ah) <= 0 ? 1 : 2;
  const int cb = arf_sgn(s.bl) >= 0 ? 0 : arf_sgn(s.bh) <= 0 ? 1 : 2;
  arf_srcptr al = s.al, ah = s.ah, bl = s.bl, bh = s.bh;
  struct Pick { arf_srcptr x1, y1, x2, y2; };  // lower = x1·y1, upper = x2·y2
  Pick pick{};
  bool general = false;
  switch (ca * 3 + cb) {
    case 0: pick = {al, bl, ah, bh}; break;  // P P
    case 1: pick = {ah, bl, al, bh}; break;  // P N
    case 2: pick = {ah, bl, ah, bh}; break;  // P M
    case 3: pick = {al, bh, ah, bl}; break;  // N P
    case 4: pick = {ah, bh, al, bl}; break;  // N N
    case 5: pick = {al, bh, al, bl}; break;  // N M
    case 6: pick = {al, bh, ah, bh}; break;  // M P
    case 7: pick = {ah, bl, al, bl}; break;  // M N
    default: general = true; break;          // M M
  }
  if (!general) {
    arf_mul(s.lo, pick.x1, pick.y1, prec, ARF_RND_FLOOR);
    arf_mul(s.hi, pick.x2, pick.y2, prec, ARF_RND_CEIL);
    set_interval(r, s.lo, s.hi, prec);
    return;
  }
  arf_srcptr as[2] = {s.al, s.ah};
  arf_srcptr bs[2] = {s.bl, s.bh};
  bool first = true;
  for (arf_srcptr x : as) {
    for (arf_srcptr y : bs) {
      arf_mul(s.t, x, y, prec, ARF_RND_FLOOR);
      if (first || arf_cmp(s.t, s.lo) < 0) arf_set(s.lo, s.t);
      arf_mul(s.t, x, y, prec, ARF_RND_CEIL);
      if (first || arf_cmp(s.t, s.hi) > 0) arf_set(s.hi, s.t);
      first = false;
    }
  }
  set_interval(r, s.lo, s.hi, prec);
}

// a ± b from the endpoints when an operand is wide. A ball spanning many orders of magnitude
// (exp of [40, 63] is [2e17, 1.5e27]) loses its lower end in Arb's sum: the radius is rounded
// up to 30 bits, 7e17 here, and 2 + exp(x) then contains 0, so 2/(2 + exp(x)) is undefined.
void iadd(arb_t r, arb_srcptr a, arb_srcptr b, bool add, long prec) {
  if (!(wide(a) || wide(b)) || !arb_is_finite(a) || !arb_is_finite(b)) {
    if (add) arb_add(r, a, b, prec); else arb_sub(r, a, b, prec);
    return;
  }
  Scratch& s = scratch();
  endpoints(a, s.al, s.ah, prec);
  endpoints(b, s.bl, s.bh, prec);
  if (add) {
    arf_add(s.lo, s.al, s.bl, prec, ARF_RND_FLOOR);
    arf_add(s.hi, s.ah, s.bh, prec, ARF_RND_CEIL);
  } else {
    arf_sub(s.lo, s.al, s.bh, prec, ARF_RND_FLOOR);
    arf_sub(s.hi, s.ah, s.bl, prec, ARF_RND_CEIL);
  }
  set_interval(r, s.lo, s.hi, prec);
}

void idiv(arb_t r, arb_srcptr a, arb_srcptr b, long prec) {
  if (!(wide(a) || wide(b)) || arb_is_exact(b) || !arb_is_finite(a) || !arb_is_finite(b) || arb_contains_zero(b)) {
    arb_div(r, a, b, prec);
    return;
  }
  Scratch& s = scratch();
  endpoints(a, s.al, s.ah, prec);
  endpoints(b, s.bl, s.bh, prec);
  // b does not contain 0 here. Sign cases of a (P: >= 0, N: <= 0, M: both) and of b.
  const int ca = arf_sgn(s.al) >= 0 ? 0 : arf_sgn(s.ah) <= 0 ? 1 : 2;
  const bool b_positive = arf_sgn(s.bl) > 0;
  arf_srcptr al = s.al, ah = s.ah, bl = s.bl, bh = s.bh;
  arf_srcptr x1, y1, x2, y2;  // lower = x1/y1, upper = x2/y2
  if (b_positive) {
    if (ca == 0) { x1 = al; y1 = bh; x2 = ah; y2 = bl; }
    else if (ca == 1) { x1 = al; y1 = bl; x2 = ah; y2 = bh; }
    else { x1 = al; y1 = bl; x2 = ah; y2 = bl; }
  } else {
    if (ca == 0) { x1 = ah; y1 = bh; x2 = al; y2 = bl; }
    else if (ca == 1) { x1 = ah; y1 = bl; x2 = al; y2 = bh; }
    else { x1 = ah; y1 = bh; x2 = al; y2 = bh; }
  }
  arf_div(s.lo, x1, y1, prec, ARF_RND_FLOOR);
  arf_div(s.hi, x2, y2, prec, ARF_RND_CEIL);
  set_interval(r, s.lo, s.hi, prec);
}

// A monotone function from its values at the two endpoints (each a point ball, so tight).
template <class Fn>
void imonotone(arb_t r, arb_srcptr a, long prec, bool increasing, Fn fn) {
  Scratch& s = scratch();
  endpoints(a, s.al, s.ah, prec);
  arb_set_arf(s.x, s.al);
  fn(s.x, s.x, prec);
  arb_set_arf(s.y, s.ah);
  fn(s.y, s.y, prec);
  if (!arb_is_finite(s.x) || !arb_is_finite(s.y)) {
    fn(r, a, prec);
    return;
  }
  if (increasing) {
    arb_get_lbound_arf(s.lo, s.x, prec);
    arb_get_ubound_arf(s.hi, s.y, prec);
  } else {
    arb_get_lbound_arf(s.lo, s.y, prec);
    arb_get_ubound_arf(s.hi, s.x, prec);
  }
  set_interval(r, s.lo, s.hi, prec);
}

void iexp(arb_t r, arb_srcptr a, long prec) {
  if (!wide(a) || !arb_is_finite(a)) return arb_exp(r, a, prec);
  imonotone(r, a, prec, true, [](arb_t o, arb_srcptr x, long p) { arb_exp(o, x, p); });
}
void ilog(arb_t r, arb_srcptr a, long prec) {
  if (!wide(a) || !arb_is_finite(a) || !arb_is_positive(a)) return arb_log(r, a, prec);
  imonotone(r, a, prec, true, [](arb_t o, arb_srcptr x, long p) { arb_log(o, x, p); });
}
void isqrt(arb_t r, arb_srcptr a, long prec) {
  if (!wide(a) || !arb_is_finite(a) || !arb_is_nonnegative(a)) return arb_sqrt(r, a, prec);
  imonotone(r, a, prec, true, [](arb_t o, arb_srcptr x, long p) { arb_sqrt(o, x, p); });
}
// |a| with the exact lower end 0 when a straddles 0: Arb's ball for it would be centered and
// stick out below 0 by its radius's rounding, and a sqrt of such a value (or of a max(D, 0), below)
// is then undefined although the argument is nonnegative by construction.
void iabs(arb_t r, arb_srcptr a, long prec) {
  if (!arb_is_finite(a) || arb_is_nonnegative(a) || arb_is_nonpositive(a)) return arb_abs(r, a);
  Scratch& s = scratch();
  arb_get_abs_ubound_arf(s.hi, a, prec);
  arf_zero(s.lo);
  set_interval(r, s.lo, s.hi, prec);
}

// max(a, b) / min(a, b): the operand that certainly wins as it is; otherwise the endpoint hull
// [max(a−, b−), max(a+, b+)] (min alike), which is what MPFI computes. arb_max's ball for
// max(D, 0) with D straddling 0 dips below 0 by rounding; here its lower end is exactly 0.
void iminmax(arb_t r, arb_srcptr a, arb_srcptr b, bool is_max, long prec) {
  if (!arb_is_finite(a) || !arb_is_finite(b)) {
    if (is_max) arb_max(r, a, b, prec); else arb_min(r, a, b, prec);
    return;
  }
  if (is_max ? arb_ge(a, b) : arb_le(a, b)) return arb_set(r, a);
  if (is_max ? arb_ge(b, a) : arb_le(b, a)) return arb_set(r, b);
  Scratch& s = scratch();
  endpoints(a, s.al, s.ah, prec);
  endpoints(b, s.bl, s.bh, prec);
  if (is_max) {
    arf_max(s.lo, s.al, s.bl);
    arf_max(s.hi, s.ah, s.bh);
  } else {
    arf_min(s.lo, s.al, s.bl);
    arf_min(s.hi, s.ah, s.bh);
  }
  set_interval(r, s.lo, s.hi, prec);
}

// a^e for an integer e: through |a| for even e, 1/a^|e| for negative e.
void ipow_si(arb_t r, arb_srcptr a, int e, long prec) {
  const ulong m = static_cast<ulong>(e < 0 ? -static_cast<long>(e) : e);
  auto pw = [m](arb_t o, arb_srcptr x, long p) { arb_pow_ui(o, x, m, p); };
  if (m == 0) {  // a^0 = 1 (as evaluate_in_double's pow)
    arb_one(r);
    return;
  }
  if (!wide(a) || !arb_is_finite(a)) {
    arb_pow_ui(r, a, m, prec);
  } else if (m % 2 == 1 || arb_is_nonnegative(a)) {
    imonotone(r, a, prec, true, pw);
  } else if (arb_is_nonpositive(a)) {
    imonotone(r, a, prec, false, pw);
  } else {  // even power of a ball around 0: [0, max(|lo|, |hi|)^m]
    Scratch& s = scratch();
    arb_get_abs_ubound_arf(s.hi, a, prec);
    arb_set_arf(s.x, s.hi);
    arb_pow_ui(s.x, s.x, m, prec);
    arb_get_ubound_arf(s.hi, s.x, prec);
    arf_zero(s.lo);
    set_interval(r, s.lo, s.hi, prec);
  }
  if (e < 0) {
    if (arb_contains_zero(r)) {
      arb_indeterminate(r);
    } else {
      Scratch& s = scratch();
      arb_one(s.y);
      idiv(r, s.y, r, prec);
    }
  }
}

// Whether instruction `ins` is >= 0 at every point where it is defined, from its operation
// alone (and `nonneg` of its operands): what a sqrt or log of it may rely on.
bool nonnegative_by_construction(const ElementaryInstruction& ins, const std::vector<char>& nonneg) {
  switch (ins.op) {
    case ElementaryOp::Constant: return !ins.constant.empty() && ins.constant[0] != '-';
    case ElementaryOp::Pi:
    case ElementaryOp::Exp:
    case ElementaryOp::Sqrt:
    case ElementaryOp::Abs: return true;
    case ElementaryOp::Power: return ins.exponent % 2 == 0 || nonneg[ins.a];
    case ElementaryOp::Add:
    case ElementaryOp::Multiply:
    case ElementaryOp::Divide:
    case ElementaryOp::Min: return nonneg[ins.a] && nonneg[ins.b];
    case ElementaryOp::Max: return nonneg[ins.a] || nonneg[ins.b];
    default: return false;
  }
}

// r ∩ [0, ∞) for a finite r whose upper end is >= 0 (as a value >= 0 by construction has).
void clamp_at_zero(arb_t r, long prec) {
  Scratch& s = scratch();
  arb_get_ubound_arf(s.hi, r, prec);
  if (arf_sgn(s.hi) < 0) return;  // not a rounding artefact: leave it to the caller's checks
  arf_zero(s.lo);
  set_interval(r, s.lo, s.hi, prec);
}

void require_decimal(arb_t out, const std::string& text, long prec, const char* what) {
  if (text.empty() || arb_set_str(out, text.c_str(), prec) != 0 || !arb_is_finite(out)) {
    throw std::invalid_argument(fmt::format("prove_goal: {} '{}' is not a decimal number", what, text));
  }
}

// The goal compiled for repeated evaluation: only the instructions lhs and rhs depend on, the
// variables each depends on (gradients are stored only there), and the constants per
// precision. All Arb storage is allocated once and reused for every box.
class Evaluator {
 public:
  Evaluator(const ProofGoal& goal, std::string slack)
      : Evaluator(goal.program, goal.lhs, goal.rhs,
                  goal.relation == Relation::LessEqual || goal.relation == Relation::Less ? 1 : -1,
                  std::move(slack), false) {}

  /// `every_instruction`: evaluate all of the program (enclose_over_box), not only what lhs
  /// and rhs need.
  Evaluator(const ElementaryProgram& program, std::uint32_t lhs, std::uint32_t rhs, int sign,
            std::string slack, bool every_instruction)
      : program_(program),
        lhs_(lhs),
        rhs_(rhs),
        sign_(sign),
        slack_text_(std::move(slack)),
        slack_double_(std::strtod(slack_text_.c_str(), nullptr)),
        n_(program_.size()),
        nv_(program_.variables().size()),
        val_(static_cast<slong>(n_)),
        grad_(static_cast<slong>(n_ * std::max<std::size_t>(nv_, 1))),
        fgrad_(static_cast<slong>(std::max<std::size_t>(nv_, 1))),
        depends_(n_ * nv_, 0),
        deps_(n_),
        nonneg_(n_, 0) {
    const auto& code = program_.code();
    std::vector<char> needed(n_, every_instruction ? 1 : 0);
    if (n_ > 0) needed[lhs_] = needed[rhs_] = 1;
    for (std::size_t k = n_; k-- > 0;) {
      if (!needed[k]) continue;
      const int ar = arity(code[k].op);
      if (ar >= 1) needed[code[k].a] = 1;
      if (ar >= 2) needed[code[k].b] = 1;
    }
    for (std::size_t k = 0; k < n_; ++k) {
      if (!needed[k]) continue;
      live_.push_back(static_cast<std::uint32_t>(k));
      const auto& ins = code[k];
      const int ar = arity(ins.op);
      nonneg_[k] = nonnegative_by_construction(ins, nonneg_);
      if (ins.op == ElementaryOp::Variable) depends_[k * nv_ + ins.variable] = 1;
      for (std::size_t v = 0; v < nv_; ++v) {
        if ((ar >= 1 && depends_[ins.a * nv_ + v]) || (ar >= 2 && depends_[ins.b * nv_ + v])) {
          depends_[k * nv_ + v] = 1;
        }
      }
      for (std::size_t v = 0; v < nv_; ++v) {
        if (depends_[k * nv_ + v]) deps_[k].push_back(static_cast<std::uint32_t>(v));
      }
    }
  }

  std::size_t variables() const noexcept { return nv_; }

  /// Values of the live instructions over the box [lo, hi] (a point when lo == hi) and f.
  void values(const double* lo, const double* hi, long prec) { run(lo, hi, prec, false); }
  /// Values and gradient enclosures over the box, f and ∇f.
  void gradients(const double* lo, const double* hi, long prec) { run(lo, hi, prec, true); }
  /// The gradient enclosures over the box whose values() were the last evaluation.
  void gradients_after_values(const double* lo, const double* hi, long prec) { run(lo, hi, prec, true, false); }

  arb_srcptr f() const noexcept { return f_; }
  arb_srcptr value(std::size_t k) const noexcept { return val_[static_cast<slong>(k)]; }
  arb_srcptr grad_f(std::size_t v) const noexcept { return fgrad_[static_cast<slong>(v)]; }
  arb_ptr scratch() noexcept { return scratch_; }
  arb_ptr scratch2() noexcept { return scratch2_; }

  /// f at a point in double (the pre-screen; no guarantee).
  double f_double(std::span<const double> point) const {
    const std::vector<double> v = evaluate_in_double(program_, point);
    return sign_ * (v[lhs_] - v[rhs_]) - slack_double_;
  }

 private:
  const ArbVecHandle& constants(long prec) {
    auto it = constants_.find(prec);
    if (it != constants_.end()) return it->second;
    ArbVecHandle c(static_cast<slong>(n_ + 1));
    const auto& code = program_.code();
    for (std::uint32_t k : live_) {
      if (code[k].op == ElementaryOp::Constant) {
        require_decimal(c[k], code[k].constant, prec, "constant");
      } else if (code[k].op == ElementaryOp::Pi) {
        arb_const_pi(c[k], prec);
      }
    }
    require_decimal(c[static_cast<slong>(n_)], slack_text_, prec, "slack");
    return constants_.emplace(prec, std::move(c)).first->second;
  }

  arb_ptr g(std::size_t k, std::size_t v) noexcept { return grad_[static_cast<slong>(k * nv_ + v)]; }
  bool dep(std::size_t k, std::size_t v) const noexcept { return depends_[k * nv_ + v] != 0; }

  // `fresh`: compute the values too (false: they are already those of this box and precision,
  // from values(), and only the gradients are added).
  void run(const double* lo, const double* hi, long prec, bool with_grad, bool fresh = true) {
    const auto& consts = constants(prec);
    const auto& code = program_.code();
    for (std::uint32_t k : live_) {
      const ElementaryInstruction& ins = code[k];
      arb_ptr r = val_[k];
      arb_srcptr a = val_[ins.a];
      arb_srcptr b = val_[ins.b];
      switch (ins.op) {
        case ElementaryOp::Variable: {
          const std::size_t i = ins.variable;
          if (!fresh) {
          } else if (lo[i] == hi[i]) {
            arb_set_d(r, lo[i]);
          } else {
            arf_set_d(t_lo_, lo[i]);
            arf_set_d(t_hi_, hi[i]);
            set_interval(r, t_lo_, t_hi_, prec);
          }
          if (with_grad) arb_one(g(k, i));
          break;
        }
        case ElementaryOp::Constant:
        case ElementaryOp::Pi:
          if (fresh) arb_set(r, consts[k]);
          break;
        case ElementaryOp::Negate:
          if (fresh) arb_neg(r, a);
          if (with_grad) for (auto v : deps_[k]) arb_neg(g(k, v), g(ins.a, v));
          break;
        case ElementaryOp::Add:
        case ElementaryOp::Subtract: {
          const bool add = ins.op == ElementaryOp::Add;
          if (fresh) iadd(r, a, b, add, prec);
          if (with_grad) {
            for (auto v : deps_[k]) {
              const bool da = dep(ins.a, v), db = dep(ins.b, v);
              if (da && db) {
                if (add) arb_add(g(k, v), g(ins.a, v), g(ins.b, v), prec);
                else arb_sub(g(k, v), g(ins.a, v), g(ins.b, v), prec);
              } else if (da) {
                arb_set(g(k, v), g(ins.a, v));
              } else if (add) {
                arb_set(g(k, v), g(ins.b, v));
              } else {
                arb_neg(g(k, v), g(ins.b, v));
              }
            }
          }
          break;
        }
        case ElementaryOp::Multiply:
          if (fresh) imul(r, a, b, prec);
          if (with_grad) {
            for (auto v : deps_[k]) {
              const bool da = dep(ins.a, v), db = dep(ins.b, v);
              if (da && db) {
                imul(t_, g(ins.a, v), b, prec);
                imul(t2_, a, g(ins.b, v), prec);
                arb_add(g(k, v), t_, t2_, prec);
              } else if (da) {
                imul(g(k, v), g(ins.a, v), b, prec);
              } else {
                imul(g(k, v), a, g(ins.b, v), prec);
              }
            }
          }
          break;
        case ElementaryOp::Divide:
          if (fresh) idiv(r, a, b, prec);
          // d(a/b) = (da − (a/b)·db) / b: at each point a/b lies in r, so this encloses it.
          if (with_grad) {
            for (auto v : deps_[k]) {
              const bool da = dep(ins.a, v), db = dep(ins.b, v);
              if (da) arb_set(t_, g(ins.a, v)); else arb_zero(t_);
              if (db) {
                imul(t2_, r, g(ins.b, v), prec);
                arb_sub(t_, t_, t2_, prec);
              }
              idiv(g(k, v), t_, b, prec);
            }
          }
          break;
        case ElementaryOp::Power: {
          const int e = ins.exponent;
          if (fresh) ipow_si(r, a, e, prec);
          if (with_grad && !deps_[k].empty()) {
            if (e == 0) {
              arb_zero(t_);
            } else {
              ipow_si(t_, a, e - 1, prec);
              arb_mul_si(t_, t_, e, prec);
            }
            for (auto v : deps_[k]) imul(g(k, v), t_, g(ins.a, v), prec);
          }
          break;
        }
        case ElementaryOp::Exp:
          if (fresh) iexp(r, a, prec);
          if (with_grad) for (auto v : deps_[k]) imul(g(k, v), r, g(ins.a, v), prec);
          break;
        case ElementaryOp::Log:
          if (fresh) ilog(r, a, prec);
          if (with_grad) for (auto v : deps_[k]) idiv(g(k, v), g(ins.a, v), a, prec);
          break;
        case ElementaryOp::Sqrt:
          if (fresh) isqrt(r, a, prec);
          if (with_grad && !deps_[k].empty()) {
            arb_mul_2exp_si(t_, r, 1);
            for (auto v : deps_[k]) idiv(g(k, v), g(ins.a, v), t_, prec);
          }
          break;
        case ElementaryOp::Abs:
          if (fresh) iabs(r, a, prec);
          if (with_grad) {
            // Clarke gradient: sign(a)·da, with sign in [−1, 1] where a may be 0.
            const bool pos = arb_is_positive(a), neg = arb_is_negative(a);
            if (!pos && !neg) {
              arb_zero(t_);
              mag_one(arb_radref(t_));
            }
            for (auto v : deps_[k]) {
              if (pos) arb_set(g(k, v), g(ins.a, v));
              else if (neg) arb_neg(g(k, v), g(ins.a, v));
              else imul(g(k, v), t_, g(ins.a, v), prec);
            }
          }
          break;
        case ElementaryOp::Min:
        case ElementaryOp::Max: {
          const bool is_max = ins.op == ElementaryOp::Max;
          if (fresh) iminmax(r, a, b, is_max, prec);
          if (with_grad) {
            // The operand that certainly wins passes its gradient; otherwise the hull of both
            // (a Clarke enclosure: at a tie the generalised gradient is their convex hull).
            const bool a_wins = is_max ? arb_ge(a, b) : arb_le(a, b);
            const bool b_wins = is_max ? arb_ge(b, a) : arb_le(b, a);
            for (auto v : deps_[k]) {
              const bool da = dep(ins.a, v), db = dep(ins.b, v);
              if (da) arb_set(t_, g(ins.a, v)); else arb_zero(t_);
              if (db) arb_set(t2_, g(ins.b, v)); else arb_zero(t2_);
              if (a_wins) arb_swap(g(k, v), t_);
              else if (b_wins) arb_swap(g(k, v), t2_);
              else arb_union(g(k, v), t_, t2_, prec);
            }
          }
          break;
        }
      }
      // A value >= 0 by construction (a sum of squares, max(D, 0), |x|, …) whose ball reaches
      // below 0 by rounding only: cut at 0, so that a sqrt of it is defined (the exact value is
      // in the cut ball; MPFI's endpoint arithmetic keeps such lower ends at 0 exactly too).
      if (fresh && nonneg_[k] && !arb_is_nonnegative(r) && arb_is_finite(r)) clamp_at_zero(r, prec);
    }
    if (n_ == 0) return;
    // f = ±(lhs − rhs) − slack.
    arb_sub(f_, val_[lhs_], val_[rhs_], prec);
    if (sign_ < 0) arb_neg(f_, f_);
    arb_sub(f_, f_, consts[static_cast<slong>(n_)], prec);
    if (with_grad) {
      for (std::size_t v = 0; v < nv_; ++v) {
        const bool dl = dep(lhs_, v), dr = dep(rhs_, v);
        arb_ptr out = fgrad_[static_cast<slong>(v)];
        if (dl && dr) arb_sub(out, g(lhs_, v), g(rhs_, v), prec);
        else if (dl) arb_set(out, g(lhs_, v));
        else if (dr) arb_neg(out, g(rhs_, v));
        else arb_zero(out);
        if (sign_ < 0) arb_neg(out, out);
      }
    }
  }


  const ElementaryProgram& program_;
  std::uint32_t lhs_, rhs_;
  int sign_;
  std::string slack_text_;
  double slack_double_;  // the pre-screen's (a double; the certified paths read the decimal)
  std::size_t n_, nv_;
  ArbVecHandle val_, grad_, fgrad_;
  std::vector<char> depends_;                       // n × nv: instruction k depends on variable v
  std::vector<std::vector<std::uint32_t>> deps_;     // the same, as lists
  std::vector<std::uint32_t> live_;
  std::vector<char> nonneg_;                        // instruction k is >= 0 wherever defined
  std::map<long, ArbVecHandle> constants_;          // per precision; entry n is the slack
  ArbHandle f_, t_, t2_, scratch_, scratch2_;
  ArfHandle t_lo_, t_hi_;
};

enum class BoxResult { Proved, Candidate, Budget, Stalled };

// A box at the frontier depth: searched as a unit of its own (distributed_map), its tree
// grafted at `node`, a placeholder leaf of the tree above the frontier.
struct FrontierBox {
  std::vector<double> lower, upper;
  long precision;
  ProofNode* node;
};

// The boxes above the frontier are searched on every rank alike (about 2^depth of them, a few
// milliseconds); the subtrees below it are the units spread over threads and ranks. A unit that
// has visited kUnitBoxes boxes stops searching: the boxes still on its depth-first stack become
// units of the next round, so no unit runs for long (about 0.3 s here) and a hard corner of the
// domain is shared out instead of keeping one rank busy while the others wait (kUnitBoxes is
// ProverOptions::unit_boxes). Neither depends on how many ranks or threads run the search.
constexpr std::size_t kFrontierDepth = 10;
// A round of fewer units than this cuts them finer (unit_boxes · units / kFullRound boxes, at
// least kFinestUnit): late rounds hold a few units of which one, in the corner where the goal
// is nearly attained, is long, and every rank waits for it at the round's end; cut finer, its
// stack is shared out in the next round instead. Depends on the round alone, never on ranks or
// threads, so a checkpoint's units are the same on any number of them. kFinestUnit is the
// pre-screen's period (every 1024 boxes of a unit), so a cut unit still screens a random point.
constexpr std::size_t kFullRound = 64;
constexpr long kFinestUnit = 1024;
long round_unit_boxes(long unit_boxes, std::size_t units) {
  const long full = std::max(1L, unit_boxes);  // 0 would mean "no cut" to Search
  if (units >= kFullRound) return full;
  return std::max(std::min(kFinestUnit, full), full / static_cast<long>(kFullRound) * static_cast<long>(units));
}
// Units report no progress of their own (the round's map does); Search keeps a reference.
const ProverProgress kNoProgress;
// A leaf not searched yet (its box is a unit of a later round); never left in a finished tree.
constexpr long kPlaceholderPrecision = -1;

// What the search of one frontier box found, as it travels between ranks.
struct SubtreeResult {
  BoxResult result = BoxResult::Proved;
  bool searched = false;  // false: skipped, an earlier subtree had already failed
  ProofNode tree;
  long boxes = 0;
  long max_precision = 0;
  std::vector<double> candidate;
  std::string reason;
  bool undefined = false;
  // The boxes left when the unit reached its box cutoff, in depth-first order: the placeholders of
  // `tree`, in the same order.
  std::vector<FrontierBox> left;
};

// The placeholders of a tree, in depth-first order (the order Search lists its frontier in).
void collect_placeholders(ProofNode& n, std::vector<ProofNode*>& out) {
  if (n.is_split) {
    collect_placeholders(*n.below, out);
    collect_placeholders(*n.above, out);
  } else if (n.face) {
    collect_placeholders(*n.face, out);
  } else if (n.precision == kPlaceholderPrecision) {
    out.push_back(&n);
  }
}

void put_node(ByteWriter& w, const ProofNode& n) {
  w.boolean(n.is_split);
  w.u64(n.variable);
  if (n.is_split) {
    w.f64(n.at);
    put_node(w, *n.below);
    put_node(w, *n.above);
    return;
  }
  w.u8(static_cast<std::uint8_t>(n.method));
  w.i64(n.precision);
  w.u64(n.center.size());
  for (double c : n.center) w.f64(c);
  w.boolean(n.increasing);
  w.boolean(n.face != nullptr);
  if (n.face) put_node(w, *n.face);
}

ProofNode get_node(ByteReader& r) {
  ProofNode n;
  n.is_split = r.boolean("node kind");
  n.variable = static_cast<std::uint32_t>(r.u64("node variable"));
  if (n.is_split) {
    n.at = r.f64("split point");
    n.below = std::make_unique<ProofNode>(get_node(r));
    n.above = std::make_unique<ProofNode>(get_node(r));
    return n;
  }
  const std::uint8_t method = r.u8("leaf method");
  if (method > static_cast<std::uint8_t>(LeafMethod::SecondOrder)) {
    throw std::invalid_argument("malformed unit result: leaf method out of range");
  }
  n.method = static_cast<LeafMethod>(method);
  n.precision = r.i64("leaf precision");
  n.center.resize(r.count("leaf center", 8));
  for (double& c : n.center) c = r.f64("leaf center");
  n.increasing = r.boolean("leaf direction");
  if (r.boolean("leaf face")) n.face = std::make_unique<ProofNode>(get_node(r));
  return n;
}

std::string encode_subtree(const SubtreeResult& s) {
  ByteWriter w;
  w.u8(static_cast<std::uint8_t>(s.result));
  w.boolean(s.searched);
  put_node(w, s.tree);
  w.i64(s.boxes);
  w.i64(s.max_precision);
  w.u64(s.candidate.size());
  for (double c : s.candidate) w.f64(c);
  w.text(s.reason);
  w.boolean(s.undefined);
  w.u64(s.left.size());
  for (const FrontierBox& b : s.left) {
    w.u64(b.lower.size());
    for (std::size_t v = 0; v < b.lower.size(); ++v) {
      w.f64(b.lower[v]);
      w.f64(b.upper[v]);
    }
    w.i64(b.precision);
  }
  return std::move(w).bytes();
}

SubtreeResult decode_subtree(std::string_view bytes) {
  ByteReader r(bytes);
  SubtreeResult s;
  const std::uint8_t result = r.u8("subtree result");
  if (result > static_cast<std::uint8_t>(BoxResult::Stalled)) {
    throw std::invalid_argument("malformed unit result: subtree result out of range");
  }
  s.result = static_cast<BoxResult>(result);
  s.searched = r.boolean("subtree searched");
  s.tree = get_node(r);
  s.boxes = r.i64("subtree boxes");
  s.max_precision = r.i64("subtree precision");
  s.candidate.resize(r.count("subtree candidate", 8));
  for (double& c : s.candidate) c = r.f64("subtree candidate");
  s.reason = r.text("subtree reason");
  s.undefined = r.boolean("subtree undefined");
  s.left.resize(r.count("subtree boxes left", 16));
  for (FrontierBox& b : s.left) {
    const std::size_t nv = r.count("box left", 16);
    b.lower.resize(nv);
    b.upper.resize(nv);
    for (std::size_t v = 0; v < nv; ++v) {
      b.lower[v] = r.f64("box left lower");
      b.upper[v] = r.f64("box left upper");
    }
    b.precision = r.i64("box left precision");
    b.node = nullptr;
  }
  r.finish("subtree");
  return s;
}

// One attempt (one slack): depth-first branch and bound building the tree as it goes.
class Search {
 public:
  Search(const ProofGoal& goal, const std::string& slack, const ProverOptions& options,
         const ProverProgress& progress, long boxes_before,
         std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now())
      : ev_(goal, slack),
        options_(options),
        progress_(progress),
        strict_(goal.relation == Relation::Less || goal.relation == Relation::Greater),
        root_width_(goal.box.dimension()),
        boxes_before_(boxes_before),
        rng_(options.seed ^ 0x9e3779b97f4a7c15ULL),
        start_(start) {
    for (std::size_t i = 0; i < root_width_.size(); ++i) {
      root_width_[i] = goal.box.upper[i] - goal.box.lower[i];
    }
  }

  /// The search from `box`; with a frontier depth, the boxes reached at that depth are left
  /// as placeholder leaves in the tree and listed in frontier() instead of being searched.
  BoxResult run(const ProofBox& box, ProofNode& root, std::size_t frontier_depth = 0) {
    frontier_depth_ = frontier_depth;
    std::vector<double> lo = box.lower, hi = box.upper;
    return prove_box(lo, hi, options_.start_precision, root, 0);
  }
  /// The search of one frontier box (whose tree goes where its placeholder was), stopping
  /// after `cutoff` boxes: what is left of it is listed in frontier() as placeholders.
  BoxResult run(const FrontierBox& box, ProofNode& root, long cutoff) {
    frontier_depth_ = 0;
    cutoff_ = cutoff;
    // The attempt's clock, read where a unit starts too: a unit shorter than the 1024 boxes
    // between readings would never see it.
    if (options_.seconds > 0 && elapsed() > options_.seconds) {
      reason_ = fmt::format("time budget of {} s exhausted", options_.seconds);
      return BoxResult::Budget;
    }
    std::vector<double> lo = box.lower, hi = box.upper;
    return prove_box(lo, hi, box.precision, root, 0);
  }
  std::vector<FrontierBox>& frontier() noexcept { return frontier_; }

  long boxes() const noexcept { return boxes_; }
  long max_precision_used() const noexcept { return max_prec_used_; }
  const std::vector<double>& candidate() const noexcept { return candidate_; }
  const std::string& reason() const noexcept { return reason_; }
  /// The attempt stalled where f's enclosure is not finite: no slack can help.
  bool undefined() const noexcept { return undefined_; }

 private:
  bool certified_ok(arb_srcptr f) const {
    return strict_ ? arb_is_negative(f) != 0 : arb_is_nonpositive(f) != 0;
  }
  bool certified_violation(arb_srcptr f) const {
    return strict_ ? arb_is_nonnegative(f) != 0 : arb_is_positive(f) != 0;
  }

  BoxResult prove_box(std::vector<double>& lo, std::vector<double>& hi, long prec, ProofNode& node,
                      std::size_t depth) {
    if ((frontier_depth_ > 0 && depth >= frontier_depth_) || (cutoff_ > 0 && boxes_ >= cutoff_)) {
      frontier_.push_back({lo, hi, prec, &node});
      node.precision = kPlaceholderPrecision;
      return BoxResult::Proved;  // for now: its own search decides
    }
    ++boxes_;
    max_prec_used_ = std::max(max_prec_used_, prec);
    if (boxes_ > options_.max_boxes) {
      reason_ = fmt::format("box budget of {} exhausted", options_.max_boxes);
      return BoxResult::Budget;
    }
    if ((boxes_ & 1023) == 0) {
      if (options_.seconds > 0 && elapsed() > options_.seconds) {
        reason_ = fmt::format("time budget of {} s exhausted", options_.seconds);
        return BoxResult::Budget;
      }
      if (progress_) progress_(boxes_before_ + boxes_, pending_);
      // The occasional pre-screen of a hard box: one random point of it, in double.
      if (screen_random_point(lo, hi)) return BoxResult::Candidate;
    }
    const std::size_t nv = lo.size();

    // (a) naive enclosure.
    ev_.values(lo.data(), hi.data(), prec);
    const bool f_finite = arb_is_finite(ev_.f()) != 0;
    if (certified_ok(ev_.f())) {
      leaf(node, LeafMethod::Naive, prec);
      return BoxResult::Proved;
    }
    if (certified_violation(ev_.f())) {  // every point of the box violates: take its middle
      candidate_ = midpoint(lo, hi);
      return BoxResult::Candidate;
    }

    const bool use_gradient = options_.mean_value || options_.monotonicity;
    bool gradient_finite = false;
    bool rounding_dominated = false;
    std::vector<double> center;
    if (use_gradient) {
      ev_.gradients_after_values(lo.data(), hi.data(), prec);
      gradient_finite = true;
      for (std::size_t v = 0; v < nv; ++v) {
        if (lo[v] != hi[v] && !arb_is_finite(ev_.grad_f(v))) gradient_finite = false;
      }
    }

    // (b) mean-value form around the box's center. Evaluating f(center) below rewrites the
    // instruction values only; the gradient enclosure of f over the box stays.
    if (options_.mean_value && gradient_finite) {
      center = upper_bound_center(lo, hi);
      ev_.values(center.data(), center.data(), prec);
      arb_ptr bound = ev_.scratch();
      arb_ptr term = ev_.scratch2();
      arb_set(bound, ev_.f());
      if (certified_violation(bound)) {
        candidate_ = center;
        return BoxResult::Candidate;
      }
      const double fc_mid = arf_get_d(arb_midref(bound), ARF_RND_NEAR);
      const double fc_rad = mag_get_d(arb_radref(bound));
      rounding_dominated = fc_mid < 0 && fc_rad > kRoundingDominated * -fc_mid;
      for (std::size_t v = 0; v < nv; ++v) {
        if (lo[v] == hi[v]) continue;
        // (x_v − c_v) over [lo, hi]: from exact doubles, outward rounded.
        arf_set_d(t_lo_, lo[v]);
        arf_set_d(t_hi_, hi[v]);
        arb_set_interval_arf(term, t_lo_, t_hi_, prec);
        arf_set_d(t_lo_, center[v]);
        arb_sub_arf(term, term, t_lo_, prec);
        imul(term, ev_.grad_f(v), term, prec);  // endpoint product: the tight range
        arb_add(bound, bound, term, prec);
      }
      if (certified_ok(bound)) {
        leaf(node, LeafMethod::MeanValue, prec);
        node.center = std::move(center);
        return BoxResult::Proved;
      }
    }

    // (c) monotonicity: collapse the widest variable whose partial derivative has a sign.
    if (options_.monotonicity && use_gradient) {
      long best = -1;
      bool increasing = true;
      for (std::size_t v = 0; v < nv; ++v) {
        if (lo[v] == hi[v]) continue;
        arb_srcptr gv = ev_.grad_f(v);
        const bool inc = arb_is_nonnegative(gv) != 0, dec = arb_is_nonpositive(gv) != 0;
        if (!inc && !dec) continue;
        if (best < 0 || hi[v] - lo[v] > hi[best] - lo[best]) {
          best = static_cast<long>(v);
          increasing = inc;
        }
      }
      if (best >= 0) {
        leaf(node, LeafMethod::Monotone, prec);
        node.variable = static_cast<std::uint32_t>(best);
        node.increasing = increasing;
        node.face = std::make_unique<ProofNode>();
        const double saved_lo = lo[best], saved_hi = hi[best];
        if (increasing) lo[best] = hi[best]; else hi[best] = lo[best];
        const BoxResult r = prove_box(lo, hi, prec, *node.face, depth + 1);
        lo[best] = saved_lo;
        hi[best] = saved_hi;
        return r;
      }
    }

    // Bisection variable: largest width × |∂f/∂x_v| (width alone without a finite gradient),
    // among the variables whose width relative to the root is at least 2^-10 of the largest
    // such relative width. Without that floor a variable with an enormous gradient enclosure
    // (exp(l/T) at T = 0.05) is split down to nothing while the others stay at full width, and
    // the gradient enclosure, inflated by those widths, never shrinks.
    const double balance_floor = max_relative_width(lo, hi) * 0x1p-10;
    long split = -1;
    double best_score = -1;
    for (std::size_t v = 0; v < nv; ++v) {
      const double w = hi[v] - lo[v];
      if (!(w > 0)) continue;
      if (root_width_[v] > 0 && w / root_width_[v] < balance_floor) continue;
      double score = w;
      if (use_gradient && gradient_finite) {
        arb_srcptr gv = ev_.grad_f(v);
        score = w * (std::abs(arf_get_d(arb_midref(gv), ARF_RND_NEAR)) + mag_get_d(arb_radref(gv)));
      }
      if (score > best_score) {
        best_score = score;
        split = static_cast<long>(v);
      }
    }
    if (split >= 0 && best_score == 0) {  // a flat gradient says nothing: fall back to width
      for (std::size_t v = 0; v < nv; ++v) {
        if (hi[v] - lo[v] > hi[split] - lo[split]) split = static_cast<long>(v);
      }
    }
    const bool point_box = split < 0;
    double s = 0;
    bool narrow = point_box;
    if (!point_box) {
      s = split_point(lo[split], hi[split], static_cast<std::size_t>(split));
      narrow = !(lo[split] < s && s < hi[split]) || max_relative_width(lo, hi) < kStallRelativeWidth;
    }
    // Precision escalation, for this box and its descendants: when f(center) is dominated by
    // rounding no split helps at this precision, and a box too narrow to split may still be
    // decided with more bits.
    if ((rounding_dominated || narrow) && prec < options_.max_precision) {
      return prove_box(lo, hi, std::min(2 * prec, options_.max_precision), node, depth);
    }
    if (narrow) {
      undefined_ = !f_finite;
      const std::string where = fmt::format("[{}]", fmt::join(lo, ", "));
      if (undefined_) {
        reason_ = fmt::format("the program is undefined (or unbounded) near the point {}", where);
      } else {
        reason_ = point_box
                      ? fmt::format("the enclosure of f does not decide the sign at the point {} at the precision cap", where)
                      : fmt::format("stalled near {}: boxes shrank to relative width 2^-24 without deciding the sign "
                                    "(an attained bound?)", where);
      }
      return BoxResult::Stalled;
    }
    node.is_split = true;
    node.variable = static_cast<std::uint32_t>(split);
    node.at = s;
    node.below = std::make_unique<ProofNode>();
    node.above = std::make_unique<ProofNode>();
    const double saved_lo = lo[split], saved_hi = hi[split];
    hi[split] = s;
    ++pending_;
    BoxResult r = prove_box(lo, hi, prec, *node.below, depth + 1);
    --pending_;
    hi[split] = saved_hi;
    if (r != BoxResult::Proved) return r;
    lo[split] = s;
    r = prove_box(lo, hi, prec, *node.above, depth + 1);
    lo[split] = saved_lo;
    return r;
  }

  static void leaf(ProofNode& node, LeafMethod m, long prec) {
    node.is_split = false;
    node.method = m;
    node.precision = prec;
  }

  // The center that minimises the upper end of Σ G_v·(x_v − c_v) (Baumann's optimal center
  // for the upper bound): with G_v = [g−, g+], c_v = hi when g− >= 0 (the term is then <= 0, as
  // on a monotone face), lo when g+ <= 0, else (g+·hi − g−·lo)/(g+ − g−), where the term's
  // upper end is g+·|g−|·w/(g+ − g−) instead of max(g+, |g−|)·w/2 at the midpoint.
  std::vector<double> upper_bound_center(const std::vector<double>& lo, const std::vector<double>& hi) {
    std::vector<double> c = midpoint(lo, hi);
    for (std::size_t v = 0; v < c.size(); ++v) {
      if (lo[v] == hi[v]) continue;
      arb_get_lbound_arf(t_lo_, ev_.grad_f(v), 53);
      arb_get_ubound_arf(t_hi_, ev_.grad_f(v), 53);
      const double gl = arf_get_d(t_lo_, ARF_RND_DOWN), gu = arf_get_d(t_hi_, ARF_RND_UP);
      if (gl >= 0) {
        c[v] = hi[v];
      } else if (gu <= 0) {
        c[v] = lo[v];
      } else {
        const double baumann = std::clamp((gu * hi[v] - gl * lo[v]) / (gu - gl), lo[v], hi[v]);
        // Moving the center by δ loosens the bound by at most max(g+, |g−|)·δ; within w/1024
        // of Baumann's center that is < 0.2% of the term, and the center's decimal is short.
        const double slack = (hi[v] - lo[v]) * 0x1p-10;
        c[v] = shortest_dyadic_in(std::max(lo[v], baumann - slack), std::min(hi[v], baumann + slack), baumann);
      }
    }
    return c;
  }

  // A double near the middle, offset by a per-variable fraction so that the split grids of
  // different variables do not line up: over a symmetric box, ties such as x_i = x_j would
  // otherwise run exactly through grid vertices, and every one of the 2^n boxes around such a
  // vertex touches the tie, where no enclosure decides the sign. The target is then rounded to
  // a multiple of 2^k with 2^k in (w/512, w/256]: a short dyadic, so that the certificate's
  // exact decimal for it has about depth + 9 digits instead of ~55 (a 53-bit mantissa), while
  // the offsets of different variables (>= w/300 apart) still give different points.
  static double split_point(double lo, double hi, std::size_t v) {
    // A range of one sign spanning a ratio > 4 (a temperature in [0.05, 5]) is split at its
    // geometric mean: the goal's scale there is relative (l/T, 1/T), and halving the range
    // would spend most boxes resolving the large end while the small end stays coarse.
    if ((lo > 0 && hi > 4 * lo) || (hi < 0 && lo < 4 * hi)) {
      const double g = (lo > 0 ? 1 : -1) * std::sqrt(lo * hi);
      const double s = round_to_dyadic(g, std::ilogb(g) - 8);
      if (lo < s && s < hi) return s;
    }
    const double phase = std::fmod(0.6180339887498949 * static_cast<double>(v + 1), 1.0) - 0.5;
    const double ratio = 0.5 + 0.125 * phase;
    const double w = hi - lo;
    const double target = lo + w * ratio;
    const double s = round_to_dyadic(target, std::ilogb(w) - 8);
    if (lo < s && s < hi) return s;
    return (lo < target && target < hi) ? target : 0.5 * lo + 0.5 * hi;
  }

  // x rounded to the nearest multiple of 2^k (exact: a power-of-two scaling and an integer
  // rounding), or x itself when that multiple would lose the value's range.
  static double round_to_dyadic(double x, int k) {
    if (!std::isfinite(x)) return x;
    const double scaled = std::ldexp(x, -k);
    if (!(std::abs(scaled) < 0x1p52)) return x;  // already a multiple of 2^k
    return std::ldexp(std::nearbyint(scaled), k);
  }

  // The double in [a, b] with the fewest fractional bits: the coarsest multiple of 2^k lying in
  // [a, b] (nearest `target` among them), 0 when 0 is in [a, b]. Its exact decimal is short.
  static double shortest_dyadic_in(double a, double b, double target) {
    if (!(a <= b) || !std::isfinite(a) || !std::isfinite(b)) return target;
    if (a <= 0 && 0 <= b) return 0;
    const double w = b - a;
    for (int k = (w > 0 ? std::ilogb(w) : std::ilogb(std::abs(a)) - 52) + 1; k >= -1074; --k) {
      const double m_lo = std::ceil(std::ldexp(a, -k)), m_hi = std::floor(std::ldexp(b, -k));
      if (m_lo <= m_hi) {
        const double m = std::clamp(std::nearbyint(std::ldexp(target, -k)), m_lo, m_hi);
        const double x = std::ldexp(m, k);
        if (a <= x && x <= b) return x;
      }
    }
    return target;
  }

  static std::vector<double> midpoint(const std::vector<double>& lo, const std::vector<double>& hi) {
    std::vector<double> c(lo.size());
    for (std::size_t i = 0; i < c.size(); ++i) {
      c[i] = 0.5 * lo[i] + 0.5 * hi[i];
      c[i] = std::clamp(c[i], lo[i], hi[i]);  // a point of the box, whatever the rounding
    }
    return c;
  }

  double max_relative_width(const std::vector<double>& lo, const std::vector<double>& hi) const {
    double m = 0;
    for (std::size_t i = 0; i < lo.size(); ++i) {
      if (root_width_[i] > 0) m = std::max(m, (hi[i] - lo[i]) / root_width_[i]);
    }
    return m;
  }

  bool screen_random_point(const std::vector<double>& lo, const std::vector<double>& hi) {
    std::vector<double> p(lo.size());
    for (std::size_t i = 0; i < p.size(); ++i) {
      p[i] = std::clamp(lo[i] + (hi[i] - lo[i]) * unit_(rng_), lo[i], hi[i]);
    }
    return screen_point(p);
  }

 public:
  /// The pre-screen at one point: the double evaluation flags it, Ball evaluation at the point
  /// (precision raised up to the cap) must then certify the violation — so a touching point,
  /// where the double f is rounding noise around 0, is not a candidate, and a violation far
  /// below any fixed tolerance still is.
  bool screen_point(const std::vector<double>& p) {
    const double f = ev_.f_double(p);
    if (std::isnan(f) || !(strict_ ? f >= 0 : f > 0)) return false;
    for (long prec = options_.start_precision;; prec = std::min(2 * prec, options_.max_precision)) {
      ev_.values(p.data(), p.data(), prec);
      if (certified_violation(ev_.f())) {
        candidate_ = p;
        return true;
      }
      if (certified_ok(ev_.f()) || prec >= options_.max_precision) return false;
    }
  }

 private:
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

  Evaluator ev_;
  const ProverOptions& options_;
  const ProverProgress& progress_;
  bool strict_;
  std::vector<double> root_width_;
  long boxes_before_;
  long boxes_ = 0;
  long pending_ = 0;
  long max_prec_used_ = 0;
  std::vector<double> candidate_;
  std::string reason_;
  bool undefined_ = false;
  ArfHandle t_lo_, t_hi_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
  std::chrono::steady_clock::time_point start_;
  std::size_t frontier_depth_ = 0;
  long cutoff_ = 0;
  std::vector<FrontierBox> frontier_;
};

// Programs built with the builders satisfy this; a hand-made instruction list may not.
void require_operands(const ElementaryProgram& program, const char* who) {
  const std::size_t nv = program.variables().size();
  for (std::size_t k = 0; k < program.size(); ++k) {
    const auto& ins = program.code()[k];
    const int ar = arity(ins.op);
    if ((ar >= 1 && ins.a >= k) || (ar >= 2 && ins.b >= k) ||
        (ins.op == ElementaryOp::Variable && ins.variable >= nv)) {
      throw std::invalid_argument(fmt::format("{}: instruction {} reads a later or unknown operand", who, k));
    }
  }
}

void validate(const ProofGoal& goal, const ProverOptions& options) {
  const std::size_t n = goal.program.size();
  const std::size_t nv = goal.program.variables().size();
  if (goal.relation == Relation::Equal) {
    throw std::invalid_argument("prove_goal: relation '=' cannot be proved over a box");
  }
  if (goal.lhs >= n || goal.rhs >= n) {
    throw std::invalid_argument(fmt::format(
        "prove_goal: lhs {} or rhs {} is outside the program's {} instructions", goal.lhs, goal.rhs, n));
  }
  require_operands(goal.program, "prove_goal");
  if (goal.box.lower.size() != nv || goal.box.upper.size() != nv) {
    throw std::invalid_argument(fmt::format("prove_goal: the box has {} lower and {} upper bounds for {} variables",
                                            goal.box.lower.size(), goal.box.upper.size(), nv));
  }
  for (std::size_t i = 0; i < nv; ++i) {
    const double lo = goal.box.lower[i], hi = goal.box.upper[i];
    if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo <= hi)) {
      throw std::invalid_argument(fmt::format("prove_goal: variable '{}' has range [{}, {}]; need finite lower <= upper",
                                              goal.program.variables()[i], lo, hi));
    }
  }
  ArbHandle s;
  require_decimal(s, goal.slack, 64, "slack");
  if (arb_is_negative(s) || !arb_is_nonnegative(s)) {
    throw std::invalid_argument(fmt::format("prove_goal: slack '{}' is negative", goal.slack));
  }
  if (options.start_precision < 2 || options.max_precision < options.start_precision) {
    throw std::invalid_argument("prove_goal: need 2 <= start_precision <= max_precision");
  }
}

// Corners (all of them up to 2^10, else 1024 random ones), the center and seeded random points.
bool prescreen(const ProofGoal& goal, Search& search, std::uint64_t seed) {
  const std::size_t nv = goal.box.dimension();
  const auto& lo = goal.box.lower;
  const auto& hi = goal.box.upper;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<double> p(nv);
  const bool all_corners = nv <= 10;
  const std::size_t corners = all_corners ? (std::size_t{1} << nv) : 1024;
  for (std::size_t c = 0; c < corners; ++c) {
    for (std::size_t i = 0; i < nv; ++i) {
      const bool up = all_corners ? ((c >> i) & 1) != 0 : (rng() & 1) != 0;
      p[i] = up ? hi[i] : lo[i];
    }
    if (search.screen_point(p)) return true;
  }
  for (std::size_t i = 0; i < nv; ++i) p[i] = 0.5 * lo[i] + 0.5 * hi[i];
  if (search.screen_point(p)) return true;
  for (int k = 0; k < 256; ++k) {
    for (std::size_t i = 0; i < nv; ++i) p[i] = std::clamp(lo[i] + (hi[i] - lo[i]) * unit(rng), lo[i], hi[i]);
    if (search.screen_point(p)) return true;
  }
  return false;
}

double decimal_value(const std::string& s) { return std::stod(s); }

}  // namespace

ProofAttempt prove_goal(const ProofGoal& goal, const ProverOptions& options, const ProverProgress& progress) {
  validate(goal, options);
  const auto start = std::chrono::steady_clock::now();
  ProofAttempt out;
  auto finish = [&](ProofAttempt& a) -> ProofAttempt {
    a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return std::move(a);
  };

  // The slacks tried: the goal's own, then the ladder's larger ones, in order.
  std::vector<std::string> slacks = {goal.slack};
  for (const std::string& s : options.slack_ladder) {
    ArbHandle check;
    require_decimal(check, s, 64, "slack ladder entry");
    if (decimal_value(s) > decimal_value(slacks.back())) slacks.push_back(s);
  }

  for (std::size_t attempt = 0; attempt < slacks.size(); ++attempt) {
    const auto attempt_start = std::chrono::steady_clock::now();
    Search search(goal, slacks[attempt], options, progress, out.boxes, attempt_start);
    if (attempt == 0 && prescreen(goal, search, options.seed)) {
      out.outcome = ProofOutcome::Candidate;
      out.candidate = search.candidate();
      return finish(out);
    }
    ProofNode root;
    BoxResult r = search.run(goal.box, root, kFrontierDepth);
    out.max_precision_used = std::max(out.max_precision_used, search.max_precision_used());
    std::vector<double> candidate = search.candidate();
    std::string reason = search.reason();
    bool undefined = search.undefined();
    // Rounds of units (see kFrontierDepth), each with the budget left after the rounds before it.
    // Read in order, a round's units decide like one search would: the first that is not
    // proved, or in which the attempt's box budget runs out, decides the attempt. A unit after
    // such a one is irrelevant, so it is skipped once this rank knows of one before it.
    long spent = search.boxes();
    std::vector<FrontierBox> pending = std::move(search.frontier());
    while (r == BoxResult::Proved && !pending.empty()) {
      const long budget_left = options.max_boxes - spent;
      std::mutex mutex;
      std::map<std::size_t, long> finished;  // unit → boxes, as this rank learns them
      std::size_t first_failed = pending.size();
      const auto irrelevant = [&](std::size_t i) {
        const std::lock_guard<std::mutex> lock(mutex);
        if (i > first_failed) return true;
        long before = 0;  // boxes of the units before i known here: a lower bound of the prefix
        for (const auto& [j, boxes] : finished) {
          if (j >= i) break;
          before += boxes;
        }
        return before > budget_left;
      };
      // One unit's search: the same result whoever runs it, whenever (its seed and budget are
      // fixed by the round).
      const long round_start = spent;
      const long cutoff = round_unit_boxes(options.unit_boxes, pending.size());
      const auto search_unit = [&](std::size_t i) {
        SubtreeResult s;
        ProverOptions o = options;
        o.seed = options.seed ^ (0x9e3779b97f4a7c15ULL * (i + 1)) ^ static_cast<std::uint64_t>(round_start);
        o.max_boxes = budget_left;
        Search sub(goal, slacks[attempt], o, kNoProgress, 0, attempt_start);
        s.searched = true;
        s.result = sub.run(pending[i], s.tree, cutoff);
        s.boxes = sub.boxes();
        s.max_precision = sub.max_precision_used();
        s.candidate = sub.candidate();
        s.reason = sub.reason();
        s.undefined = sub.undefined();
        s.left = std::move(sub.frontier());
        return s;
      };
      std::vector<SubtreeResult> units = distributed_map<SubtreeResult>(
          pending.size(), options.jobs,
          [&](std::size_t i) {
            if (irrelevant(i)) return SubtreeResult{};
            SubtreeResult s = search_unit(i);
            const std::lock_guard<std::mutex> lock(mutex);
            finished[i] = s.boxes;
            if (s.result != BoxResult::Proved) first_failed = std::min(first_failed, i);
            return s;
          },
          encode_subtree, decode_subtree,
          [&](std::size_t done, std::size_t total) {
            if (progress) progress(static_cast<long>(done), static_cast<long>(total - done));
          });
      std::vector<FrontierBox> next;
      for (std::size_t i = 0; i < units.size(); ++i) {
        SubtreeResult& s = units[i];
        // A unit skipped on this run's knowledge is never one before the deciding unit; one met
        // here was skipped in an earlier, killed run (its clock ran out sooner) and resumed
        // from a checkpoint: search it now.
        if (!s.searched) s = search_unit(i);
        out.max_precision_used = std::max(out.max_precision_used, s.max_precision);
        if (spent + s.boxes > options.max_boxes) {  // as one search: the budget ran out here
          spent = options.max_boxes + 1;
          r = BoxResult::Budget;
          reason = fmt::format("box budget of {} exhausted", options.max_boxes);
          undefined = false;
          break;
        }
        spent += s.boxes;
        if (s.result != BoxResult::Proved) {
          r = s.result;
          candidate = s.candidate;
          reason = s.reason;
          undefined = s.undefined;
          break;
        }
        ProofNode& at = *pending[i].node;
        at = std::move(s.tree);
        std::vector<ProofNode*> holes;
        collect_placeholders(at, holes);
        if (holes.size() != s.left.size()) throw std::logic_error("a unit's boxes left do not match its tree");
        for (std::size_t k = 0; k < holes.size(); ++k) {
          s.left[k].node = holes[k];
          next.push_back(std::move(s.left[k]));
        }
      }
      pending = std::move(next);
    }
    out.boxes += spent;
    if (r == BoxResult::Proved) {
      out.outcome = attempt == 0 ? ProofOutcome::Proved : ProofOutcome::ProvedWithSlack;
      out.slack = slacks[attempt];
      out.leaves = root.leaf_count();
      out.tree = std::move(root);
      out.reason.clear();
      return finish(out);
    }
    if (r == BoxResult::Candidate) {
      // A violation of goal + slack is one of the goal itself (slacks only grow).
      out.outcome = ProofOutcome::Candidate;
      out.candidate = std::move(candidate);
      return finish(out);
    }
    if (out.reason.empty()) {
      out.reason = fmt::format("slack {}: {}", slacks[attempt], reason);
    } else {
      out.reason += fmt::format("; slack {}: {}", slacks[attempt], reason);
    }
    if (undefined) break;  // a larger slack does not make the program defined
  }
  out.outcome = ProofOutcome::Undecided;
  return finish(out);
}

std::vector<Ball> enclose_over_box(const ElementaryProgram& program, const ProofBox& box, long precision) {
  const std::size_t nv = program.variables().size();
  if (box.lower.size() != nv || box.upper.size() != nv) {
    throw std::invalid_argument(fmt::format("enclose_over_box: the box has {} ranges for {} variables",
                                            box.lower.size(), nv));
  }
  for (std::size_t i = 0; i < nv; ++i) {
    if (std::isnan(box.lower[i]) || std::isnan(box.upper[i]) || !(box.lower[i] <= box.upper[i])) {
      throw std::invalid_argument(fmt::format("enclose_over_box: variable {} has range [{}, {}]", i,
                                              box.lower[i], box.upper[i]));
    }
  }
  require_operands(program, "enclose_over_box");
  const std::size_t n = program.size();
  std::vector<Ball> out(n);
  if (n == 0) return out;
  Evaluator ev(program, static_cast<std::uint32_t>(n - 1), static_cast<std::uint32_t>(n - 1), 1, "0", true);
  ev.values(box.lower.data(), box.upper.data(), precision);
  for (std::size_t k = 0; k < n; ++k) {
    out[k].set_precision(precision);
    arb_set(out[k].arb(), ev.value(k));
  }
  return out;
}

}  // namespace attncert
