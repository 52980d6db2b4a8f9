#include "numerics/normaliser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "numerics/ball.hpp"
#include "numerics/mp.hpp"
#include "numerics/tier_scope.hpp"

namespace attncert {
namespace {

void require_positive_finite(double value, const char* fn, const char* name) {
  if (!std::isfinite(value) || !(value > 0)) {
    throw std::invalid_argument(
        fmt::format("{}: {} = {} is not admissible; need a finite {} > 0", fn, name, value, name));
  }
}

/// The exact constant c in the tier of `like` (Ball: an exact ball that takes the other
/// operand's precision; Mp: at least 53 bits so a double is held exactly).
template <class T>
T constant_like(double c, const T& like) {
  if constexpr (std::is_same_v<T, Ball>) {
    (void)like;
    return Ball(c);
  } else if constexpr (std::is_same_v<T, Mp>) {
    return mp_from_double(c, std::max<long>(53, mp_bits(like)));
  } else {
    (void)like;
    return static_cast<T>(c);
  }
}

template <class T>
std::string describe(const T& x) {
  if constexpr (std::is_same_v<T, Ball>) {
    return x.str(17);
  } else if constexpr (std::is_same_v<T, Mp>) {
    // mpfr_snprintf rather than Mp::str(), whose Boost code trips GCC 12's -Wrestrict.
    char buf[64];
    mpfr_snprintf(buf, sizeof buf, "%.17Rg", x.backend().data());
    return buf;
  } else {
    return fmt::format("{}", x);
  }
}

/// Runs f(l) in the tier's precision scope (for Mp: the logit's precision).
template <class T, class Fn>
T in_tier(const T& l, Fn&& f) {
  TierScope<T> scope(l);
  return f(l);
}

/// Sign of a logit's midpoint (only used to pick between two exact identities).
template <class T>
bool nonnegative(const T& l) {
  if constexpr (std::is_same_v<T, Ball>) {
    return arf_sgn(arb_midref(l.arb())) >= 0;
  } else {
    return l >= 0;
  }
}

}  // namespace

template <class T>
PositiveFunction<T> exp_normaliser(double temperature) {
  require_positive_finite(temperature, "exp_normaliser", "temperature T");
  return [temperature](const T& l) {
    return in_tier(l, [&](const T& x) -> T {
      using std::exp;
      return exp(x / constant_like(temperature, x));
    });
  };
}

template <class T>
PositiveFunction<T> softplus_normaliser(double c) {
  require_positive_finite(c, "softplus_normaliser", "shift c");
  return [c](const T& l) {
    return in_tier(l, [&](const T& x) -> T {
      using std::exp;
      using std::log1p;
      // softplus(x) = max(x, 0) + log1p(e^{−|x|}) for every real x: no overflow. For Ball
      // either branch is an identity, so the choice by midpoint keeps the enclosure valid.
      const bool nonneg = nonnegative(x);
      const T positive_part = nonneg ? x : constant_like(0.0, x);
      const T tail = log1p(exp(nonneg ? T(-x) : x));
      return positive_part + tail + constant_like(c, x);
    });
  };
}

template <class T>
PositiveFunction<T> sigmoid_normaliser() {
  return [](const T& l) {
    return in_tier(l, [&](const T& x) -> T {
      using std::exp;
      const T one = constant_like(1.0, x);
      // 1/(1 + e^{−x}) for x >= 0 and e^x/(1 + e^x) for x < 0: both identities, neither
      // overflows.
      if (nonnegative(x)) return one / (one + exp(T(-x)));
      const T e = exp(x);
      return e / (one + e);
    });
  };
}

template <class T>
PositiveFunction<T> power_normaliser(double a, double p) {
  if (!std::isfinite(a) || !(a >= 0)) {
    throw std::invalid_argument(fmt::format(
        "power_normaliser: half-width a = {} is not admissible; need a finite a >= 0", a));
  }
  require_positive_finite(p, "power_normaliser", "exponent p");
  return [a, p](const T& l) {
    return in_tier(l, [&](const T& x) -> T {
      const T lo = constant_like(-a, x);
      const T hi = constant_like(a, x);
      bool inside;
      if constexpr (std::is_same_v<T, Ball>) {
        inside = certainly(x >= lo) && certainly(x <= hi);
      } else {
        inside = x >= lo && x <= hi;
      }
      if (!inside) {
        throw std::domain_error(fmt::format(
            "power_normaliser: F(l) = (l + a + 1)^p is defined on l in [-a, a] = [{}, {}]; "
            "got l = {}",
            -a, a, describe(x)));
      }
      using std::pow;
      return pow(T(x + hi + constant_like(1.0, x)), constant_like(p, x));
    });
  };
}

#define ATTNCERT_INSTANTIATE_NORMALISERS(T)                       \
  template PositiveFunction<T> exp_normaliser<T>(double);          \
  template PositiveFunction<T> softplus_normaliser<T>(double);     \
  template PositiveFunction<T> sigmoid_normaliser<T>();            \
  template PositiveFunction<T> power_normaliser<T>(double, double);

ATTNCERT_INSTANTIATE_NORMALISERS(float)
ATTNCERT_INSTANTIATE_NORMALISERS(double)
ATTNCERT_INSTANTIATE_NORMALISERS(Mp)
ATTNCERT_INSTANTIATE_NORMALISERS(Ball)
#undef ATTNCERT_INSTANTIATE_NORMALISERS

}  // namespace attncert
