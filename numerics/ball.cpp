#include "numerics/ball.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <ostream>
#include <stdexcept>

#include "numerics/arb_handles.hpp"
#include "numerics/precision.hpp"

namespace attncert {
namespace {

// Arb allocates nothing for arf_t/mag_t locals below two limbs, so these helpers stay cheap.
double arf_to_double(const arf_t x, arf_rnd_t rnd) { return arf_get_d(x, rnd); }

long unary_precision(const Ball& x, const char* op) {
  if (x.precision() == Ball::kExact) {
    throw std::domain_error(fmt::format(
        "Ball {}: the argument is an exact ball without a working precision; construct it "
        "with a precision (e.g. Ball(x, 128))",
        op));
  }
  return x.precision();
}

Ball with_precision(long prec) {
  Ball r;
  if (prec != Ball::kExact) r.set_precision(prec);
  return r;
}

}  // namespace

Ball::Ball(double value, long prec) {
  if (std::isnan(value)) throw std::domain_error("Ball: NaN is not a real number");
  if (prec != kExact) require_precision(prec, "Ball");
  arb_init(v_);  // after the checks: a throw above leaves nothing to clear
  prec_ = prec;
  arb_set_d(v_, value);  // exact: every finite double is a dyadic rational
}

Ball Ball::interval(double lo, double hi, long prec) {
  if (std::isnan(lo) || std::isnan(hi) || !(lo <= hi)) {
    throw std::invalid_argument(
        fmt::format("Ball::interval: need lo <= hi without NaN, got [{}, {}]", lo, hi));
  }
  require_precision(prec, "Ball::interval");
  Ball r;
  r.prec_ = prec;
  arb_handles::ArfHandle a, b;
  arf_set_d(a, lo);
  arf_set_d(b, hi);
  arb_set_interval_arf(r.v_, a, b, prec);
  return r;
}

Ball& Ball::set_precision(long bits) {
  require_precision(bits, "Ball::set_precision");
  prec_ = bits;
  return *this;
}

long Ball::ring_precision(const Ball& a, const Ball& b) noexcept {
  const long p = std::max(a.prec_, b.prec_);
  return p == kExact ? ARF_PREC_EXACT : p;
}

long Ball::field_precision(const Ball& a, const Ball& b, const char* op) {
  const long p = std::max(a.prec_, b.prec_);
  if (p == kExact) {
    throw std::domain_error(fmt::format(
        "Ball {}: both operands are exact balls without a working precision; give one a "
        "precision (e.g. Ball(x, 128))",
        op));
  }
  return p;
}

double Ball::mid() const { return arf_to_double(arb_midref(v_), ARF_RND_NEAR); }

double Ball::radius() const { return mag_get_d(arb_radref(v_)); }

double Ball::lower() const {
  arb_handles::ArfHandle t;
  arb_get_lbound_arf(t, v_, 64);
  return arf_to_double(t, ARF_RND_FLOOR);
}

double Ball::upper() const {
  arb_handles::ArfHandle t;
  arb_get_ubound_arf(t, v_, 64);
  return arf_to_double(t, ARF_RND_CEIL);
}

double Ball::relative_radius() const {
  if (mag_is_zero(arb_radref(v_))) return 0.0;
  if (arf_is_zero(arb_midref(v_))) return std::numeric_limits<double>::infinity();
  // rad / |mid| rounded up: compute in arf with upward rounding.
  arb_handles::ArfHandle r, m, q;
  arf_set_mag(r, arb_radref(v_));
  arf_abs(m, arb_midref(v_));
  arf_div(q, r, m, 64, ARF_RND_UP);
  return arf_to_double(q, ARF_RND_UP);
}

bool Ball::contains(double x) const {
  if (std::isnan(x)) return false;
  arb_handles::ArfHandle t;
  arf_set_d(t, x);
  return arb_contains_arf(v_, t) != 0;
}

std::string Ball::str(long digits) const {
  char* s = arb_get_str(v_, std::max(1L, digits), 0);
  std::string out(s);
  flint_free(s);
  return out;
}

std::string Ball::mid_str() const {
  // An exact ball (radius 0) around the midpoint: arb_get_str then prints correctly rounded
  // digits of the midpoint alone; bits·log10(2) + 3 of them identify the binary value.
  arb_t m;
  arb_init(m);
  arf_set(arb_midref(m), arb_midref(v_));
  const slong bits = std::max<slong>(1, arf_bits(arb_midref(v_)));
  const slong digits = static_cast<slong>(static_cast<double>(bits) * 0.30102999566398120) + 3;
  char* s = arb_get_str(m, digits, ARB_STR_NO_RADIUS);
  std::string out(s);
  flint_free(s);
  arb_clear(m);
  return out;
}

Ball& Ball::operator+=(const Ball& b) {
  const long p = ring_precision(*this, b);
  arb_add(v_, v_, b.v_, p);
  prec_ = std::max(prec_, b.prec_);
  return *this;
}

Ball& Ball::operator-=(const Ball& b) {
  const long p = ring_precision(*this, b);
  arb_sub(v_, v_, b.v_, p);
  prec_ = std::max(prec_, b.prec_);
  return *this;
}

Ball& Ball::operator*=(const Ball& b) {
  const long p = ring_precision(*this, b);
  arb_mul(v_, v_, b.v_, p);
  prec_ = std::max(prec_, b.prec_);
  return *this;
}

Ball& Ball::operator/=(const Ball& b) {
  const long p = field_precision(*this, b, "division");
  arb_div(v_, v_, b.v_, p);
  prec_ = p;
  return *this;
}

Ball Ball::operator-() const {
  Ball r(*this);
  arb_neg(r.v_, r.v_);
  return r;
}

Tri operator<(const Ball& a, const Ball& b) {
  if (arb_lt(a.arb(), b.arb())) return Tri::True;
  if (arb_ge(a.arb(), b.arb())) return Tri::False;
  return Tri::Unknown;
}
Tri operator<=(const Ball& a, const Ball& b) {
  if (arb_le(a.arb(), b.arb())) return Tri::True;
  if (arb_gt(a.arb(), b.arb())) return Tri::False;
  return Tri::Unknown;
}
Tri operator>(const Ball& a, const Ball& b) { return b < a; }
Tri operator>=(const Ball& a, const Ball& b) { return b <= a; }
Tri operator==(const Ball& a, const Ball& b) {
  if (arb_eq(a.arb(), b.arb())) return Tri::True;
  if (arb_ne(a.arb(), b.arb())) return Tri::False;
  return Tri::Unknown;
}
Tri operator!=(const Ball& a, const Ball& b) { return !(a == b); }

#define ATTNCERT_BALL_UNARY(name, arbfn)            \
  Ball name(const Ball& x) {                        \
    const long p = unary_precision(x, #name);       \
    Ball r = with_precision(p);                     \
    arbfn(r.arb(), x.arb(), p);                     \
    return r;                                       \
  }
ATTNCERT_BALL_UNARY(exp, arb_exp)
ATTNCERT_BALL_UNARY(expm1, arb_expm1)
ATTNCERT_BALL_UNARY(log, arb_log)
ATTNCERT_BALL_UNARY(log1p, arb_log1p)
ATTNCERT_BALL_UNARY(sqrt, arb_sqrt)
#undef ATTNCERT_BALL_UNARY

Ball pow(const Ball& x, const Ball& y) {
  const long p = Ball::field_precision(x, y, "pow");
  Ball r = with_precision(p);
  arb_pow(r.arb(), x.arb(), y.arb(), p);
  return r;
}

Ball pow(const Ball& x, long n) {
  if (n < 0) return Ball(1) / pow(x, -n);
  const long p = x.precision() == Ball::kExact ? ARF_PREC_EXACT : x.precision();
  Ball r = with_precision(x.precision());
  arb_pow_ui(r.arb(), x.arb(), static_cast<ulong>(n), p);
  return r;
}

Ball abs(const Ball& x) {
  Ball r(x);
  arb_abs(r.arb(), x.arb());
  return r;
}

Ball sqr(const Ball& x) { return x * x; }

Ball min(const Ball& a, const Ball& b) {
  Ball r = with_precision(std::max(a.precision(), b.precision()));
  arb_min(r.arb(), a.arb(), b.arb(), Ball::ring_precision(a, b));
  return r;
}

Ball max(const Ball& a, const Ball& b) {
  Ball r = with_precision(std::max(a.precision(), b.precision()));
  arb_max(r.arb(), a.arb(), b.arb(), Ball::ring_precision(a, b));
  return r;
}

Ball hull(const Ball& a, const Ball& b) {
  const long p = std::max(a.precision(), b.precision());
  Ball r = with_precision(p);
  arb_union(r.arb(), a.arb(), b.arb(), p == Ball::kExact ? 64 : p);
  return r;
}

std::ostream& operator<<(std::ostream& os, const Ball& x) { return os << x.str(); }

}  // namespace attncert
