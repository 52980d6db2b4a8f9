// ScalarTraits<T>: the one door to a tier's name, digits, unit roundoff and epsilon, and to the
// value tests whose spelling differs per tier. No algorithm writes a literal tolerance; it asks
// here (and derives c·n·u from the answer).
//
// Precision: float and double have a fixed one. Ball carries its working precision in each
// object. Mp's precision is scoped, not per object (docs/design-decisions.md): Boost gives a
// temporary the thread default, so Mp code runs inside a TierScope (numerics/tier_scope.hpp)
// and digits(x) of an Mp reports only that one object's precision. The queries take a sample
// value for Ball and Mp; float/double ignore it.
#pragma once

#include <cmath>
#include <limits>
#include <string_view>

#include "numerics/ball.hpp"
#include "numerics/mp.hpp"

namespace attncert {

template <class T>
struct ScalarTraits;  // deliberately undefined: an unknown tier is a compile error

template <class T>
struct IeeeScalarTraits {
  static constexpr bool is_certified = false;
  static constexpr bool has_scoped_precision = false;
  /// Significand bits, including the implicit one.
  static constexpr long digits(const T& = T{}) { return std::numeric_limits<T>::digits; }
  /// u = 2^-p: the relative error bound of one correctly rounded operation.
  static double unit_roundoff(const T& = T{}) { return std::ldexp(1.0, -digits()); }
  /// Machine epsilon 2^(1-p) = 2u.
  static double epsilon(const T& = T{}) { return 2.0 * unit_roundoff(); }
  static T from_double(double x, long /*bits*/ = 0) { return static_cast<T>(x); }
  static double to_double(const T& x) { return static_cast<double>(x); }
  static bool is_finite(const T& x) { return std::isfinite(x); }
  /// Exactly −inf (the mask value that removes a key).
  static bool is_minus_infinity(const T& x) { return x == -std::numeric_limits<T>::infinity(); }
  static T max(const T& a, const T& b) { return a < b ? b : a; }
};

template <>
struct ScalarTraits<float> : IeeeScalarTraits<float> {
  static constexpr std::string_view name = "float";
  static constexpr std::string_view tier = "working";
};

template <>
struct ScalarTraits<double> : IeeeScalarTraits<double> {
  static constexpr std::string_view name = "double";
  static constexpr std::string_view tier = "working";
};

template <>
struct ScalarTraits<Mp> {
  static constexpr std::string_view name = "Mp";
  static constexpr std::string_view tier = "reference";
  static constexpr bool is_certified = false;
  static constexpr bool has_scoped_precision = true;
  static long digits(const Mp& x) { return mp_bits(x); }
  static double unit_roundoff(const Mp& x) { return std::ldexp(1.0, -static_cast<int>(digits(x))); }
  static double epsilon(const Mp& x) { return 2.0 * unit_roundoff(x); }
  static Mp from_double(double x, long bits) { return mp_from_double(x, bits); }
  static double to_double(const Mp& x) { return mp_to_double(x); }
  static bool is_finite(const Mp& x) { return mpfr_number_p(x.backend().data()) != 0; }
  static bool is_minus_infinity(const Mp& x) {
    return mpfr_inf_p(x.backend().data()) != 0 && mpfr_sgn(x.backend().data()) < 0;
  }
  static Mp max(const Mp& a, const Mp& b) { return a < b ? b : a; }
};

template <>
struct ScalarTraits<Ball> {
  static constexpr std::string_view name = "Ball";
  static constexpr std::string_view tier = "enclosure";
  static constexpr bool is_certified = true;
  static constexpr bool has_scoped_precision = false;
  /// Working precision (0 for an exact ball).
  static long digits(const Ball& x) { return x.precision(); }
  /// Rounding unit of the midpoint arithmetic; the radius accounts for every such error.
  static double unit_roundoff(const Ball& x) {
    return x.precision() == Ball::kExact ? 0.0 : std::ldexp(1.0, -static_cast<int>(x.precision()));
  }
  static double epsilon(const Ball& x) { return 2.0 * unit_roundoff(x); }
  static Ball from_double(double x, long bits) { return Ball(x, bits); }
  static double to_double(const Ball& x) { return x.mid(); }
  /// A finite midpoint and radius: every point is a real number.
  static bool is_finite(const Ball& x) { return x.is_finite(); }
  /// The point −inf (midpoint −inf, radius 0).
  static bool is_minus_infinity(const Ball& x) {
    return arf_is_neg_inf(arb_midref(x.arb())) && mag_is_zero(arb_radref(x.arb()));
  }
  /// Encloses max(x, y) over all points of the two balls.
  static Ball max(const Ball& a, const Ball& b) { return attncert::max(a, b); }
};

/// Higham's gamma_n = n·u / (1 − n·u): the relative error bound of an n-term recurrence of
/// correctly rounded operations. Returns +inf when n·u >= 1 (no bound).
inline double higham_gamma(long n, double u) {
  const double nu = static_cast<double>(n) * u;
  return nu < 1.0 ? nu / (1.0 - nu) : std::numeric_limits<double>::infinity();
}

}  // namespace attncert
