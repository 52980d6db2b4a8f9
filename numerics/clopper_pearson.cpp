#include "numerics/clopper_pearson.hpp"

#include <arb_hypgeom.h>
#include <fmt/format.h>

#include <boost/math/special_functions/beta.hpp>
#include <limits>
#include <stdexcept>

#include "numerics/monotone_root_bound.hpp"

namespace attncert {
namespace {

// 128 bits resolve I_p to ~1e-35 for n up to ~10^4 (the Monte Carlo sizes here); a comparison
// left undecided only moves the bound one step further out.
constexpr long kBetaPrecision = 128;

// Certified Tri of I_p(a, b) < target (a, b positive integers as doubles, p ∈ [0, 1] a double).
Tri beta_below(double a, double b, double p, const Ball& target) {
  Ball value;
  const Ball A(a), B(b), P(p);
  arb_hypgeom_beta_lower(value.arb(), A.arb(), B.arb(), P.arb(), /*regularized=*/1, kBetaPrecision);
  return value < target;
}

// Boost's double inversion as the starting point; NaN (the bound falls back to the domain end)
// if Boost gives up on extreme arguments.
template <class F>
double estimate(F inversion) {
  try {
    return inversion();
  } catch (const std::exception&) {
    return std::numeric_limits<double>::quiet_NaN();
  }
}

void check_arguments(std::uint64_t k, std::uint64_t n, double gamma) {
  if (n == 0) throw std::invalid_argument("clopper_pearson: trials must be >= 1");
  if (k > n) {
    throw std::invalid_argument(
        fmt::format("clopper_pearson: {} successes out of {} trials", k, n));
  }
  if (!(gamma > 0 && gamma < 1)) {
    throw std::invalid_argument(fmt::format("clopper_pearson: γ = {} outside (0, 1)", gamma));
  }
}

// A double ≤ p_L: I_p(k, n − k + 1) = P(Bin(n, p) ≥ k) is increasing in p and = γ/2 at p_L.
double lower_end(std::uint64_t k, std::uint64_t n, double gamma) {
  if (k == 0) return 0;
  const double tail = gamma / 2;  // exact (γ is a normal double)
  const auto a = static_cast<double>(k), b = static_cast<double>(n - k + 1);
  const Ball target(tail);
  return certified_root_bound(estimate([&] { return boost::math::ibeta_inv(a, b, tail); }),
                              RootSide::Below, 0.0,
                              [&](double p) { return beta_below(a, b, p, target); });
}

// A double ≥ p_U: I_p(k + 1, n − k) = P(Bin(n, p) ≥ k + 1) is increasing in p and = 1 − γ/2 at
// p_U. Inverted through the complement: 1 − γ/2 rounded to a double loses the digits of small γ.
double upper_end(std::uint64_t k, std::uint64_t n, double gamma) {
  if (k == n) return 1;
  const double tail = gamma / 2;
  const auto a = static_cast<double>(k + 1), b = static_cast<double>(n - k);
  const Ball target = Ball(1) - Ball(tail);  // exact
  return certified_root_bound(estimate([&] { return boost::math::ibetac_inv(a, b, tail); }),
                              RootSide::Above, 1.0,
                              [&](double p) { return beta_below(a, b, p, target); });
}

}  // namespace

ProportionInterval clopper_pearson(std::uint64_t k, std::uint64_t n, double gamma) {
  check_arguments(k, n, gamma);
  return {lower_end(k, n, gamma), upper_end(k, n, gamma)};
}

Ball clopper_pearson_ball(std::uint64_t certain, std::uint64_t undecided, std::uint64_t trials,
                          double gamma, long precision) {
  check_arguments(certain + undecided, trials, gamma);
  return Ball::interval(lower_end(certain, trials, gamma),
                        upper_end(certain + undecided, trials, gamma), precision);
}

}  // namespace attncert
