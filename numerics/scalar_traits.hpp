// ScalarTraits<T>: the one door to a tier's name, digits, unit roundoff and epsilon. No
// algorithm writes a literal tolerance; it asks here (and derives c·n·u from the answer).
//
// For multiprecision tiers the precision belongs to the object, so every query takes a
// sample value; float/double ignore it.
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
  /// Significand bits, including the implicit one.
  static constexpr long digits(const T& = T{}) { return std::numeric_limits<T>::digits; }
  /// u = 2^-p: the relative error bound of one correctly rounded operation.
  static double unit_roundoff(const T& = T{}) { return std::ldexp(1.0, -digits()); }
  /// Machine epsilon 2^(1-p) = 2u.
  static double epsilon(const T& = T{}) { return 2.0 * unit_roundoff(); }
  static T from_double(double x, long /*bits*/ = 0) { return static_cast<T>(x); }
  static double to_double(const T& x) { return static_cast<double>(x); }
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
  static long digits(const Mp& x) { return mp_bits(x); }
  static double unit_roundoff(const Mp& x) { return std::ldexp(1.0, -static_cast<int>(digits(x))); }
  static double epsilon(const Mp& x) { return 2.0 * unit_roundoff(x); }
  static Mp from_double(double x, long bits) { return mp_from_double(x, bits); }
  static double to_double(const Mp& x) { return mp_to_double(x); }
};

template <>
struct ScalarTraits<Ball> {
  static constexpr std::string_view name = "Ball";
  static constexpr std::string_view tier = "enclosure";
  static constexpr bool is_certified = true;
  /// Working precision (0 for an exact ball).
  static long digits(const Ball& x) { return x.precision(); }
  /// Rounding unit of the midpoint arithmetic; the radius accounts for every such error.
  static double unit_roundoff(const Ball& x) {
    return x.precision() == Ball::kExact ? 0.0 : std::ldexp(1.0, -static_cast<int>(x.precision()));
  }
  static double epsilon(const Ball& x) { return 2.0 * unit_roundoff(x); }
  static Ball from_double(double x, long bits) { return Ball(x, bits); }
  static double to_double(const Ball& x) { return x.mid(); }
};

/// Higham's gamma_n = n·u / (1 − n·u): the relative error bound of an n-term recurrence of
/// correctly rounded operations. Returns +inf when n·u >= 1 (no bound).
inline double higham_gamma(long n, double u) {
  const double nu = static_cast<double>(n) * u;
  return nu < 1.0 ? nu / (1.0 - nu) : std::numeric_limits<double>::infinity();
}

}  // namespace attncert
