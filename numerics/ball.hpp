// Ball: the enclosure tier. A RAII value type over Arb's arb_t (midpoint-radius interval) that
// also carries its working precision, so that generic code (Eigen, our templates) can do
// arithmetic with plain operators and every result still contains the exact value.
//
// Precision rule: a result is computed at max(precision of the operands). Precision 0 means
// "exact": constants such as Ball(0), Ball(1), Ball(0.25) take the precision of the other
// operand; + − × of two exact balls is computed exactly; ÷ and transcendental functions of
// an exact ball have no working precision and throw std::domain_error.
//
// Comparisons return Tri (True / False / Unknown), never bool.
#pragma once

#include <arb.h>

#include <iosfwd>
#include <string>

#include "numerics/tri_state.hpp"

namespace attncert {

class Ball {
 public:
  /// Precision tag of an exact ball.
  static constexpr long kExact = 0;

  Ball() noexcept { arb_init(v_); }
  /// Implicit so that generic code may write Scalar(0) and Scalar(1). Exact.
  Ball(int value) noexcept {  // NOLINT(google-explicit-constructor)
    arb_init(v_);
    arb_set_si(v_, value);
  }
  /// The double's exact value as a point ball. NaN throws std::domain_error; ±inf is kept
  /// (a masked logit is −inf). `prec` is the working precision for later operations.
  explicit Ball(double value, long prec = kExact);
  /// Every real number in [lo, hi] (outward rounded at `prec` bits). Requires lo <= hi.
  static Ball interval(double lo, double hi, long prec);

  Ball(const Ball& other) noexcept : prec_(other.prec_) {
    arb_init(v_);
    arb_set(v_, other.v_);
  }
  Ball(Ball&& other) noexcept : prec_(other.prec_) {
    arb_init(v_);
    arb_swap(v_, other.v_);
  }
  Ball& operator=(const Ball& other) noexcept {
    if (this != &other) {
      arb_set(v_, other.v_);
      prec_ = other.prec_;
    }
    return *this;
  }
  Ball& operator=(Ball&& other) noexcept {
    arb_swap(v_, other.v_);
    prec_ = other.prec_;
    return *this;
  }
  ~Ball() { arb_clear(v_); }

  // --- precision -----------------------------------------------------------------------
  long precision() const noexcept { return prec_; }
  /// Sets the working precision for later operations (the value is unchanged).
  /// Throws std::invalid_argument outside [kMinPrecisionBits, kMaxPrecisionBits].
  Ball& set_precision(long bits);

  // --- raw access (for code that calls Arb directly) ------------------------------------
  arb_ptr arb() noexcept { return v_; }
  arb_srcptr arb() const noexcept { return v_; }
  /// The precision that + − × use for this operand pair (ARF_PREC_EXACT when both exact).
  static long ring_precision(const Ball& a, const Ball& b) noexcept;
  /// The precision that ÷ and functions use; throws std::domain_error when both are exact.
  static long field_precision(const Ball& a, const Ball& b, const char* op);

  // --- inspection --------------------------------------------------------------------
  /// Midpoint rounded to the nearest double.
  double mid() const;
  /// An upper bound on the radius (as a double, rounded up).
  double radius() const;
  /// Outward-rounded double bounds: lower() <= every point <= upper().
  double lower() const;
  double upper() const;
  /// Radius relative to |midpoint|, as a double upper bound (inf if the midpoint is 0 and the
  /// radius is not).
  double relative_radius() const;
  bool is_exact() const noexcept { return arb_is_exact(v_) != 0; }
  bool is_finite() const noexcept { return arb_is_finite(v_) != 0; }
  bool is_zero() const noexcept { return arb_is_zero(v_) != 0; }
  /// Certain facts about sets, hence bool.
  bool contains(double x) const;
  bool contains(const Ball& inner) const noexcept { return arb_contains(v_, inner.v_) != 0; }
  bool overlaps(const Ball& other) const noexcept { return arb_overlaps(v_, other.v_) != 0; }
  /// Decimal text "[mid +/- rad]" with `digits` significant digits.
  std::string str(long digits = 17) const;
  /// The midpoint in decimal with enough significant digits (its bits · log10 2 + 3) that the
  /// text reads back to exactly this binary midpoint (for JSON: a 256-bit result keeps its bits).
  std::string mid_str() const;

  // --- arithmetic --------------------------------------------------------------------
  Ball& operator+=(const Ball& b);
  Ball& operator-=(const Ball& b);
  Ball& operator*=(const Ball& b);
  Ball& operator/=(const Ball& b);
  Ball& operator+=(double b) { return *this += Ball(b); }
  Ball& operator-=(double b) { return *this -= Ball(b); }
  Ball& operator*=(double b) { return *this *= Ball(b); }
  Ball& operator/=(double b) { return *this /= Ball(b); }
  Ball operator-() const;
  Ball operator+() const { return *this; }

  friend void swap(Ball& a, Ball& b) noexcept {
    arb_swap(a.v_, b.v_);
    std::swap(a.prec_, b.prec_);
  }

 private:
  arb_t v_;
  long prec_ = kExact;
};

inline Ball operator+(Ball a, const Ball& b) { return a += b; }
inline Ball operator-(Ball a, const Ball& b) { return a -= b; }
inline Ball operator*(Ball a, const Ball& b) { return a *= b; }
inline Ball operator/(Ball a, const Ball& b) { return a /= b; }
inline Ball operator+(Ball a, double b) { return a += b; }
inline Ball operator-(Ball a, double b) { return a -= b; }
inline Ball operator*(Ball a, double b) { return a *= b; }
inline Ball operator/(Ball a, double b) { return a /= b; }
inline Ball operator+(double a, const Ball& b) { return Ball(a) += b; }
inline Ball operator-(double a, const Ball& b) { return Ball(a) -= b; }
inline Ball operator*(double a, const Ball& b) { return Ball(a) *= b; }
inline Ball operator/(double a, const Ball& b) { return Ball(a) /= b; }

// Tri-state comparisons: True when proved for every pair of points, False when disproved for
// every pair, Unknown otherwise. Equal exact balls compare: == True, <= True, < False.
Tri operator<(const Ball& a, const Ball& b);
Tri operator<=(const Ball& a, const Ball& b);
Tri operator>(const Ball& a, const Ball& b);
Tri operator>=(const Ball& a, const Ball& b);
Tri operator==(const Ball& a, const Ball& b);
Tri operator!=(const Ball& a, const Ball& b);
inline Tri operator<(const Ball& a, double b) { return a < Ball(b); }
inline Tri operator<=(const Ball& a, double b) { return a <= Ball(b); }
inline Tri operator>(const Ball& a, double b) { return a > Ball(b); }
inline Tri operator>=(const Ball& a, double b) { return a >= Ball(b); }

// Elementary functions; each result contains f(x) for every x in the argument.
Ball exp(const Ball& x);
Ball expm1(const Ball& x);
Ball log(const Ball& x);  // non-finite ball when x may be <= 0
Ball log1p(const Ball& x);
Ball sqrt(const Ball& x);  // non-finite ball when x may be < 0
Ball pow(const Ball& x, const Ball& y);
Ball pow(const Ball& x, long n);  // exact integer power; works on exact balls too
Ball abs(const Ball& x);
Ball sqr(const Ball& x);
Ball min(const Ball& a, const Ball& b);
Ball max(const Ball& a, const Ball& b);
/// Smallest ball containing both.
Ball hull(const Ball& a, const Ball& b);

std::ostream& operator<<(std::ostream& os, const Ball& x);

}  // namespace attncert
